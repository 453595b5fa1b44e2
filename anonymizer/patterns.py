"""Regular-expression detectors for structured identifiers (no gazetteers here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from re import _constants as _C  # type: ignore[attr-defined]  # private in typeshed, public enough at run time (3.11+)
from re import _parser as _P  # type: ignore[attr-defined]

MONTHS = (
    "Januar|Jänner|Februar|Feber|März|Maerz|April|Mai|Juni|Juli|August|September|Oktober|"
    "November|Dezember|Jan\\.|Feb\\.|Mär\\.|Apr\\.|Jun\\.|Jul\\.|Aug\\.|Sep\\.|Sept\\.|Okt\\.|"
    "Nov\\.|Dez\\."
)
MONTH_NUM = {
    "januar": 1,
    "jänner": 1,
    "jan.": 1,
    "februar": 2,
    "feber": 2,
    "feb.": 2,
    "märz": 3,
    "maerz": 3,
    "mär.": 3,
    "april": 4,
    "apr.": 4,
    "mai": 5,
    "juni": 6,
    "jun.": 6,
    "juli": 7,
    "jul.": 7,
    "august": 8,
    "aug.": 8,
    "september": 9,
    "sep.": 9,
    "sept.": 9,
    "oktober": 10,
    "okt.": 10,
    "november": 11,
    "nov.": 11,
    "dezember": 12,
    "dez.": 12,
}

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w])")
SOCIAL_DOMAINS = (
    "instagram",
    "facebook",
    "fb",
    "tiktok",
    "twitter",
    "x",
    "linkedin",
    "xing",
    "youtube",
    "snapchat",
    "t",
    "telegram",
    "threads",
    "mastodon",
    "reddit",
    "onlyfans",
    "twitch",
)
_TLDS = "de|com|org|net|at|ch|eu|info|io|me|social|app"
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'„“”)\]]+"
    r"|(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:" + _TLDS + ")"
    r"(?:/[^\s<>\"'„“”)\]]*)?(?![\w@])",
    re.IGNORECASE,
)
# Where a URL can begin (detect._url_starts): "www." in any case ("w" has no other case
# variant), and the dot before a top-level domain.
WWW = re.compile(r"[wW][wW][wW]\.")
DOT_TLD = re.compile(r"\.(?:" + _TLDS + ")", re.IGNORECASE)
HANDLE = re.compile(r"@(?<![\w.@/]@)[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")
SOCIAL_CUE = re.compile(
    r"\b(?:Instagram|Insta|TikTok|Twitter|Facebook|Snapchat|Telegram|Discord|Twitch|Reddit)"
    r"(?:-Account|-Profil|-Name|\s+Account|\s+Profil)?\s*[:(]\s*@?([A-Za-z0-9_.]{3,30})"
)

# Phone: needs a leading 0 / + (trunk or international prefix) or a cue word.
_PHONE_BODY = r"\(?\+?\d[\d \t()/.-]{4,22}\d(?:\s*(?:o\.|oder|u\.|bzw\.)\s*\d{2,6})?"
# Cue words in their usual spellings, lower and upper case (no IGNORECASE: it makes
# the engine test every position).
_PHONE_CUE_WORDS = "|".join(
    v
    for w in (
        "Tel",
        "Telefon",
        "Telefonnummer",
        r"Tel\.-Nr",
        r"Tel\.Nr",
        "Fon",
        "Fax",
        "Telefax",
        "Handy",
        "Handynummer",
        "Mobil",
        "Mobilnummer",
        "Mobiltelefon",
        "Rufnummer",
        "Durchwahl",
        "Nummer",
        "erreichbar unter",
        "Festnetz",
        "Notruf",
        "Whatsapp",
        r"Tel\.",
        r"Fax\.",
    )
    for v in dict.fromkeys((w, w.lower(), w.upper()))
)
PHONE_CUE = re.compile(
    r"(?:(?=[" + "".join(sorted({w[0] for w in _PHONE_CUE_WORDS.split("|")})) + r"])"
    r"\b(?:" + _PHONE_CUE_WORDS + r")\b\.?|☎|📞)\s*(?:[:.]|-Nr\.?:?)?\s*(?:\(?[A-Za-z]+\)?:?\s*)?"
    r"(" + _PHONE_BODY + r")",
)
PHONE = re.compile(
    r"(?=[+0(])(?<![\w.,/+-])(?:(?:\+|00)\d{1,3}[ \t/-]?(?:\(0\))?[ \t/-]?\d[\d \t/-]{5,16}\d"
    r"|\(0\d{2,5}\)[ \t]*[-/]?[ \t]*\d[\d \t-]{2,12}\d"
    r"|0\d{2,5}(?:[ \t]*[/-][ \t]*|[ \t])\d[\d \t-]{2,12}\d"
    r"|01[5-7]\d{7,9}|0\d{2,4}\d{5,8})"
    r"(?![\w.,/]\d|\d|[.,]\d)"
)

PHONE_UNTER = re.compile(r"(?<=\bunter )(?:der )?(?:Nummer |Tel\. )?\(?\d{3,6}\)?[ /-]?\d{3,6}(?:-\d{1,5})?(?![\d.,])")
# Patterns scanned over the whole text start with the character they consume and check the
# character before it afterwards ("[A-Z](?<![\w-][A-Z])" == "(?<![\w-])[A-Z]"): a leading
# lookbehind makes the regex engine try every position, a leading character class lets it skip.
KVNR = re.compile(r"[A-Z](?<![\w-][A-Z])\d{9}(?![\w-])")
IBAN = re.compile(r"[A-Z](?<![\w][A-Z])[A-Z]\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?(?![\w])")
RVNR = re.compile(r"\d(?<![\w]\d)\d[ ]?\d{6}[ ]?[A-Z][ ]?\d{3}(?![\w])")
PLATE = re.compile(
    r"(?:Kennzeichen|Nummernschild|Kfz|Auto|Wagen|Fahrzeug)[\w ]{0,20}?[ :]+"
    r"(?P<plate>[A-ZÄÖÜ]{1,3}[- ][A-Z]{1,2}[ ]?\d{1,4}[EH]?)(?![\w-])"
)
# Patterns start with a digit and check the character before it afterwards
# ("\d(?<![\w]\d)"): the regex engine can then skip quickly to digits.
LONG_NUMBER = re.compile(r"\d(?<![\w.,/-]\d)\d{6,}(?![\w]|[.,]\d)")
ID_CUE = re.compile(
    r"(?:(?=[FPKVAEHRSMIBCZLGDTNO])\b(?:Fallnummer|Fall-Nr|Fallnr|Fall-Nummer|PIZ|Patienten-ID|Pat\.-ID|Patientennummer|"
    r"Patienten-Nr|Pat\.-Nr|Versichertennummer|Versicherten-Nr|Vers\.-Nr|KVNR|Krankenversichertennummer|"
    r"Aktenzeichen|Az|E-Nr|HNr|H-Nr|Histo-Nr|Protokoll Nr|Protokoll-Nr|Befund-Nr|Auftragsnummer|"
    r"Auftrags-Nr|Kennzeichen|Ausweisnummer|Personalausweisnummer|Personalausweis|Ausweis-Nr|"
    r"Reisepass|Passnummer|Steuer-ID|Steuernummer|Steuer-Nr|Kundennummer|Mitgliedsnummer|"
    r"RV-Nummer|RV-Nr|Rentenversicherungsnummer|SV-Nummer|SV-Nr|Sozialversicherungsnummer|"
    r"Versicherungsnummer|Vers\.Nr|IBAN|BIC|Chiffre|Kontonummer|Konto-Nr|Betriebsnummer|"
    r"Matrikelnummer|ID|Akten-Nr|Aktennummer|Fall-ID|Auftrag|Lab-Nr|Labornummer|Barcode|"
    r"Zimmer|Zi|Bett|Station|Intensivstation|Ambulanz|Intensiv|Gutachter-Nr|Chiffre-Nr|"
    r"Betriebsstättennummer|BSNR|LANR|Arztnummer)\b\.?)"
    r"[ \t]*(?:[:#]|Nr\.?:?|-Nr\.?:?)?[ \t]*"
    r"((?=[A-Za-z0-9ÄÖÜ./-]*\d)[A-Z0-9ÄÖÜ](?:[A-Za-z0-9ÄÖÜ./-]*[A-Za-z0-9])?|[A-Z]{1,3}\b|[IVX]{1,4}\b)"
)
# Words after a cue that look like an ID token but are not ("Station 2 Wochen"
# is handled by requiring the ID token to not be followed by a time unit).
# Any "...-Nr." / "...nummer" field with a code: "Eingangs-Nr. 55/2024", "Vorgangsnummer: A-1182".
GENERIC_NUMBER_CUE = re.compile(
    r"(?<![\w-])[A-ZÄÖÜ][a-zäöüß]+(?:-Nr\.?|nummer|-Nummer)[ \t]*:?[ \t]*"
    r"(?P<code>(?=[A-Za-z0-9./-]*\d)[A-Z0-9](?:[A-Za-z0-9./-]*[A-Za-z0-9])?)"
)
WARD_CODE = re.compile(r"[A-Z](?<=\bauf [A-Z])[A-Z]{1,4}-?\d{1,3}(?![\w-])")
# A "Station:" header field; a lone capital letter in it is the ward's section ("Viszeralchirurgie B").
STATION_FIELD = re.compile(r"^[ \t]*(?:Station|Stat\.)[ \t]*:[ \t]*(?P<val>[^\n]*)", re.MULTILINE)
SECTION_LETTER = re.compile(r"(?<![\w.-])[A-Z](?![\w.-])")
# Certification / norm numbers in letterheads ("Zertifiziert nach DIN EN ISO 9001:2015").
NORM = re.compile(r"\b(?:DIN(?:[ \t]+EN)?(?:[ \t]+ISO)?|EN[ \t]+ISO|ISO)[ \t]+\d{3,5}(?:[-:]\d{1,4})*\b")
CASE_NUMBER = re.compile(r"\d(?<![\w/.-]\d)(?:\d{3,5}/(?:19|20)\d{2}(?![\w/])|\d{2,5}[a-z]/\d{2}(?![\w/]))")
# German court/authority file numbers: "4 F 112/24", "12 O 345/23", "Az. 3 K 17/2024"
FILE_NUMBER = re.compile(r"\d(?<![\w/.-]\d)\d{0,2}[ ]?[A-Z]{1,4}[a-z]?[ ]?\d{1,5}/\d{2,4}(?![\w/])")
# Swiss place names with their canton: "Trüllikon (ZH)"
CANTON = re.compile(r"\((?:AG|AI|AR|BE|BL|BS|FR|GE|GL|GR|JU|LU|NE|NW|OW|SG|SH|SO|SZ|TG|TI|UR|VD|VS|ZG|ZH)\)")
SWISS_PLACE = re.compile(
    r"(?<![\w-])[A-ZÄÖÜ][\w'’-]+(?:[ \t][A-ZÄÖÜ][\w'’-]+)?[ \t]\((?:AG|AI|AR|BE|BL|BS|FR|GE|GL|GR|JU|LU|NE|NW|"
    r"OW|SG|SH|SO|SZ|TG|TI|UR|VD|VS|ZG|ZH)\)"
)
ID_FALSE_NEXT = re.compile(r"[ \t]*(?:Tage|Tagen|Wochen|Woche|Monate|Monaten|Jahre|Jahren|mg|ml|Uhr|h\b|Std)")

DATE_NUM = re.compile(
    r"(?P<a>\d(?<![\w./,]\d)\d{0,3})"
    r"(?:\.[ \t]?(?P<m>[01]?\d)\.(?:[ \t]?(?P<y>(?:19|20|21)\d{2}|\d{2})(?![\d])|(?![ \t]?\d))"
    r"|/(?P<m2>[01]?\d)/(?P<y2>\d{4}|\d{2})(?![\d/])"
    r"|-(?P<im>[01]\d)-(?P<id>[0-3]\d)(?!\d)"
    r"|/(?P<yy>(?:19|20|21)\d{2}|\d{2})(?![\d/]))"
    r"(?![\w]|\.\d)"
)
DATE_TEXT = re.compile(
    r"(?<![\w])(?:(?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag),?[ \t]+(?:den[ \t]+)?(?=\d))?"
    r"(?:(?:[0-3]?\d)\.[ \t]?)?(?:"
    + MONTHS
    + "|"
    + MONTHS.lower()
    + r")(?:[ \t]+(?:(?:19|20|21)\d{2}|'?\d{2})(?![\d]))?(?![\w])"
)
# "Sitzung 10/24", "Stunde 3/12": counters, not dates.
COUNTER_BEFORE = re.compile(
    r"(?:Sitzung|Sitzungen|Stunde|Stunden|Std\.?|Termin|KZT|LZT|Einheit|Einheiten|Nr\.?|Woche|Seite|"
    r"Kontingent|Probatorik|Zyklus|Zyklen|Block|Gruppe|Modul|Teil|von|Punkte|Score)[ \t:]*\Z",
    re.IGNORECASE,
)
YEAR = re.compile(
    r"(?:1(?<![\w./,:-]1)9|2(?<![\w./,:-]2)0)[0-9]{2}"
    r"(?![\w]|[.,:/-]\d|[ \t]*(?:mg|ml|µg|g\b|kg|m\b|km|€|EUR|Euro|Punkte|kcal|Stunden|Minuten|Schritte))"
)
# A dose unit right after a number: "10/20 mg", "2.5 ml".
DOSE_AFTER = re.compile(r"[ \t]?(?:mg|µg|μg|mcg|ug|ml|g|IE|I\.E\.|mmol|µmol|Tbl|Tabl|Trpf|Hub|Kps)\b")
# A scale name or abbreviation right before a number: "PHQ-9: ", "GAD-7 = ", "BDI-II ", "MMST ".
SCALE_BEFORE = re.compile(r"(?:[A-Z][A-Za-z]*-[0-9IVX]+|[A-Z]{2,}[0-9]*)[ \t]*(?:[:=]|von|mit)?[ \t]*\Z")
# The first part of a date range, right before the full date: "4. bis ", "13. - ", "05.11-", "06/".
RANGE_HEAD = re.compile(
    r"(?<![\w.,/:-])(?P<head>(?P<d>[0-3]?\d)(?:\.(?:[01]?\d\.?)?)?)"
    r"[ \t]*(?P<conn>-|–|/|bis|und)(?:[ \t]+zum)?[ \t]*\Z"
)
BIRTH_CUE = re.compile(
    r"(?:\bgeb(?:oren)?\.?(?:[ \t]*am)?|\bGeburtsdatum|\bGeb\.-Datum|\bGeb\.-Dat\.?|\bGeburtstag|"
    r"\bDOB|\bJahrgang|\bgeb\.am|\*)[ \t]*[:.]?[ \t]*\(?[ \t]*$",
    re.IGNORECASE,
)

_STREET_SUFFIX = (
    r"(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|pfad|kamp|ufer|chaussee|steig|stieg|"
    r"graben|wall|promenade|zeile|anger|gässle|landstraße|markt|park|hof)"
)
STREET = re.compile(
    r"(?<![\w-])(?:[A-ZÄÖÜ][\w'’-]*?"
    + _STREET_SUFFIX
    + r"|[A-ZÄÖÜ][\w'’-]*-(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Pfad|Steig)"
    r"|(?:[A-ZÄÖÜ][\w-]+[ \t]){1,2}"
    r"(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Chaussee|Ufer|Landstraße|Steig|Markt))"
    r"\.?[ \t]?(?:\d{1,4}(?:[ \t]?[a-zA-Z](?![\w]))?(?:[ \t]?[-/][ \t]?\d{1,4}[a-z]?)?)(?![\w,.]\d)"
)
STREET_NONUM = re.compile(r"(?<![\w-])[A-ZÄÖÜ][\w'’-]{2,}(?:straße|strasse|gasse|allee)(?![\w])")
STREET_END = re.compile(
    r"(?:" + _STREET_SUFFIX + r"|Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Chaussee|Ufer|Steig|Markt|Pfad)"
    r"\.?[ \t]?$"
)
NUMBER_START = re.compile(r"\d(?<![\w]\d)")
STREET_PREP = re.compile(
    r"(?=[AIZUH])(?<![\w])(?:Am|An der|An den|Auf der|Auf dem|Im|In der|In den|Zum|Zur|Unter den|Hinter der)[ \t]"
    r"[A-ZÄÖÜ][\w-]+[ \t]\d{1,4}[ \t]?[a-z]?(?=[ \t]*(?:,|\n|$)[ \t]*(?:(?:D-|A-|CH-)?\d{4,5}\b|\n|$))"
)
ZIP_CITY = re.compile(
    r"(?P<zip>[DAC\d](?<![\w.,/-][DAC\d])(?:(?<=[DAC])H?[- ]\d{4,5}|(?<=\d)\d{4}|(?<=\d)\d{3}(?=[ \t-]+[A-ZÄÖÜ])))"
    r"[ \t]*-?[ \t]*(?P<city>[A-ZÄÖÜ][\w'’-]*(?:[ \t](?:(?:am|an der|im|ob der|bei|in|vor der)[ \t])?"
    r"[A-ZÄÖÜ(][\w'’()-]*){0,2})"
)

AGE_WORDS = {
    "ein": 1,
    "eins": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "dreizehn": 13,
    "vierzehn": 14,
    "fünfzehn": 15,
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
    "zwanzig": 20,
    "dreißig": 30,
    "vierzig": 40,
    "fünfzig": 50,
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
_AGE_NUM = (
    r"(?P<n>\d{1,3}|"
    + "|".join(w for k in sorted(AGE_WORDS, key=len, reverse=True) for w in (k, k.capitalize()))
    + r")"
)
AGE_ADJ = re.compile(
    r"(?<![\w.,/-])" + _AGE_NUM + r"(?:[ \t]?[-–][ \t]?|[ \t]?)(?:jährige[nmrs]?|jährig|jahrige[nmrs]?|"
    r"jähr\.|j\.|J\.|jähriger|Jährige[nmrs]?|Jährig)(?![\w])(?P<next>[ \t]+[\w-]+)?"
)
DURATION_BEFORE = re.compile(
    r"\b(?:nach|in|für|seit|vor|alle|binnen|innerhalb(?:[ \t]+von)?|über|ca\.|etwa|circa|jeweils)[ \t]+\Z",
    re.IGNORECASE,
)
AGE_YEARS = re.compile(r"(?P<n>\d(?<![\w.,/-]\d)\d{0,2})[ \t]*(?P<unit>Jahre|Jahren|J\.|Lebensjahr)(?![\w])")
AGE_YEARS_PRE = re.compile(
    r"(?:(?P<pre>\bim Alter von|\bmit|\bAlter:?|\bAlter von|,|\(|\bist|\bwar|\bwird|\bsei|\bwurde)|^|\n)[ \t]*$"
)
AGE_NAME_PAREN = re.compile(r"\((?P<name>[A-ZÄÖÜ][\w'’-]+),[ \t]*(?P<n>\d{1,2})(?:[ \t]*(?:J\.|Jahre|J))?\)")
AGE_PAREN = re.compile(r"(?P<n>\d(?<=[a-zäöüßğşı] \(\d)\d?)(?:[ \t]*(?:J\.|Jahre|J))?(?=\))")
# "Ich heiße Sven und bin 34." -- a pronoun is required: "PHQ-9 ist 15" is a score.
AGE_SELF = re.compile(
    r"(?=[IiEeSsb])"
    r"\b(?:[Ii]ch bin|bin|[Ee]r ist|[Ss]ie ist|[Ee]r war|[Ss]ie war|[Ee]r wird|[Ss]ie wird|[Ii]ch werde|[Ii]ch war)"
    r"(?:[ \t]+(?:jetzt|gerade|erst|schon|bald|fast|knapp|nun|inzwischen))?[ \t]+(?P<n>\d{1,2})"
    r"(?=[ \t]*(?:[.,;!?)]|$|und\b|Jahre))",
    re.MULTILINE,
)
AGE_ALT = re.compile(r"(?P<n>\d(?<![\w.,/-]\d)\d{0,2})[ \t]+Jahre[ \t]+alt(?:e[nrms]?)?\b")
AGE_PERSON_NOUNS = {
    "patient",
    "patientin",
    "pat.",
    "pat",
    "mädchen",
    "junge",
    "sohn",
    "tochter",
    "frau",
    "mann",
    "kind",
    "schwester",
    "bruder",
    "klient",
    "klientin",
    "schüler",
    "schülerin",
    "jugendlicher",
    "jugendliche",
    "mutter",
    "vater",
    "enkel",
    "enkelin",
    "neffe",
    "nichte",
    "freund",
    "freundin",
    "partner",
    "partnerin",
    "student",
    "studentin",
    "rentner",
    "rentnerin",
    "herr",
    "dame",
    "witwe",
    "witwer",
    "säugling",
    "kleinkind",
    "teenager",
    "erwachsener",
    "erwachsene",
    "nachbarin",
    "nachbar",
    "kollegin",
    "kollege",
    "person",
    "bewohnerin",
    "bewohner",
    "angehörige",
    "angehöriger",
    "ehemann",
    "ehefrau",
    "lebensgefährte",
    "lebensgefährtin",
    "großmutter",
    "großvater",
}


# ----------------------------------------------------------------------------------------------
# A regex that opens with a lookbehind, \b or a branch of words makes the engine try every
# position of the text.  starting_with() prefixes the same regex with a lookahead for the
# characters any match must begin with ("(?=[vd \t:])(?:...)"), derived from the parsed pattern
# itself -- so the set can never miss an alternative added later -- and a cheap test skips the
# other positions.  Matches are unchanged; a pattern whose first characters cannot be derived
# (a negated class, a match that can be empty, ...) is returned as it is.
_CATEGORY_CLASSES = {_C.CATEGORY_DIGIT: r"\d", _C.CATEGORY_WORD: r"\w", _C.CATEGORY_SPACE: r"\s"}


def _first_chars(items: list, i: int = 0) -> tuple[set[str], bool] | None:  # type: ignore[type-arg]
    """(class members a match of items[i:] can begin with, whether it can be empty)."""
    out: set[str] = set()
    for op, av in items[i:]:
        if op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue  # zero-width: the next element consumes the first character
        if op is _C.LITERAL:
            first, nullable = {re.escape(chr(av))}, False
        elif op is _C.IN:
            first, nullable = set(), False
            for o, a in av:
                if o is _C.LITERAL:
                    first.add(re.escape(chr(a)))
                elif o is _C.RANGE:
                    first.add(re.escape(chr(a[0])) + "-" + re.escape(chr(a[1])))
                elif o is _C.CATEGORY and a in _CATEGORY_CLASSES:
                    first.add(_CATEGORY_CLASSES[a])
                else:
                    return None
        elif op is _C.BRANCH:
            first, nullable = set(), False
            for alt in av[1]:
                sub = _first_chars(alt.data)
                if sub is None:
                    return None
                first |= sub[0]
                nullable = nullable or sub[1]
        elif op is _C.SUBPATTERN:
            if av[1] or av[2]:
                return None  # scoped inline flags
            sub = _first_chars(av[3].data)
            if sub is None:
                return None
            first, nullable = sub
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            sub = _first_chars(av[2].data)
            if sub is None:
                return None
            first, nullable = sub[0], av[0] == 0 or sub[1]
        else:
            return None
        out |= first
        if not nullable:
            return out, False
    return out, True


def starting_with(rx: re.Pattern[str]) -> re.Pattern[str]:
    """The same regex with a leading lookahead for its possible first characters (see above)."""
    if rx.flags & (re.IGNORECASE | re.VERBOSE):
        return rx
    first = _first_chars(_P.parse(rx.pattern, rx.flags).data)
    if first is None or first[1] or not first[0]:
        return rx
    return re.compile("(?=[" + "".join(sorted(first[0])) + "])(?:" + rx.pattern + ")", rx.flags)


SOCIAL_CUE = starting_with(SOCIAL_CUE)
GENERIC_NUMBER_CUE = starting_with(GENERIC_NUMBER_CUE)


# ----------------------------------------------------------------------------------------------
# Cue patterns open with a branch of words ("Tel|Telefon|Fax|..."); even with the lookahead above
# the engine still visits every position that starts with one of their letters.  literal_heads()
# derives from the parsed pattern where a match can begin, so that a caller can try the regex only
# there (detect._scan) -- same matches.  Every match begins
#   WORD   with one of `word` at a word start: after \b or a look-behind that excludes word
#          characters ("(?<![\w-])", "(?<=[ \t])"), and the head begins with a letter;
#   ANY    with one of `anywhere`, wherever it occurs;
#   AFTER  right after one of `after`: the pattern opens with a look-behind for literal text;
#   NUMBER at a digit that no word character precedes ("\d(?<![\w.]\d)", "(?<![\w-])\d").
_WORD_CHAR = re.compile(r"\w")
_MAX_HEADS = 400
WORD, ANY, AFTER, NUMBER = "word", "any", "after", "number"


@dataclass(frozen=True)
class Heads:
    word: tuple[str, ...]
    anywhere: tuple[str, ...]
    after: tuple[str, ...]
    number: bool


def _small_literal_class(op: object, av: Any) -> bool:
    return op is _C.IN and len(av) <= 8 and all(o is _C.LITERAL for o, _a in av)


def _literal_texts(items: list) -> list[str] | None:  # type: ignore[type-arg]
    """The strings a sequence of literals and small literal classes matches ("[Ii]ch" -> Ich, ich)."""
    runs = [""]
    for op, av in items:
        if op is _C.LITERAL:
            runs = [s + chr(av) for s in runs]
        elif _small_literal_class(op, av) and len(runs) * len(av) <= _MAX_HEADS:
            runs = [s + chr(a) for s in runs for _o, a in av]
        else:
            return None
    return runs


def _is_digit_class(op: object, av: Any) -> bool:
    if op is _C.LITERAL:
        return chr(av).isdecimal()
    return op is _C.IN and av == [(_C.CATEGORY, _C.CATEGORY_DIGIT)]


_DIGIT_CLASS = (_C.IN, [(_C.CATEGORY, _C.CATEGORY_DIGIT)])


def _no_word_char_before(op: object, av: Any, consumed: tuple[object, Any] | None = None) -> bool:
    """Is (op, av) a look-behind that says the character before the match -- before the one
    character `consumed` so far -- is no word character?  "(?<![\\w-])", "(?<=[ \\t])"; after a
    digit "(?<![\\w.,]\\d)", "(?<=[a-z] \\(\\d)"."""
    if op not in (_C.ASSERT, _C.ASSERT_NOT) or av[0] != -1:
        return False
    items = list(av[1].data)
    if consumed is not None:
        if not items:
            return False
        # "(?<![\\w]X)" only speaks about the character before if X matches the consumed one.
        wider = items[-1] == _DIGIT_CLASS and _is_digit_class(*consumed)
        if op is _C.ASSERT_NOT and items[-1] != consumed and not wider:
            return False
        items = items[:-1]
    if not items:
        return False
    last_op, last_av = items[-1]
    if op is _C.ASSERT_NOT:
        return (
            len(items) == 1
            and last_op is _C.IN
            and (_C.CATEGORY, _C.CATEGORY_WORD) in last_av
            and not any(o is _C.NEGATE for o, _a in last_av)
        )
    texts = _literal_texts([items[-1]])  # positive: it must be a non-word character
    return texts is not None and all(_WORD_CHAR.match(t) is None for t in texts)


def _heads(items: list, word_start: bool = False) -> set[tuple[str, str]] | None:  # type: ignore[type-arg]
    """(head, kind) pairs, one of which every match of items begins with; None if unknown."""
    for k, (op, av) in enumerate(items):
        if op is _C.AT:
            word_start = word_start or av is _C.AT_BOUNDARY
            continue
        if _no_word_char_before(op, av):
            word_start = True
        if op is _C.ASSERT and av[0] == -1 and (texts := _literal_texts(av[1].data)) is not None:
            # "(?<=Diktat)": right after the literal, unless what follows has heads of its own
            rest = _heads(items[k + 1 :], word_start)
            return rest if rest is not None else {(t, AFTER) for t in texts}
        if op in (_C.ASSERT, _C.ASSERT_NOT):
            continue  # zero-width: the next element consumes the first character
        if _is_digit_class(op, av) and (
            word_start or (k + 1 < len(items) and _no_word_char_before(items[k + 1][0], items[k + 1][1], consumed=(op, av)))
        ):
            return {("", NUMBER)}
        if op is _C.LITERAL or _small_literal_class(op, av):
            end = k
            while end < len(items) and (items[end][0] is _C.LITERAL or _small_literal_class(*items[end])):
                end += 1
            texts = _literal_texts(items[k:end]) or _literal_texts(items[k : k + 1])
            if texts is None:
                return None
            return {(t, WORD if word_start and t[0].isalpha() else ANY) for t in texts}
        if op is _C.BRANCH:
            out: set[tuple[str, str]] = set()
            for alt in av[1]:
                sub = _heads(alt.data, word_start)
                if sub is None:
                    return None
                out |= sub
            return out if len(out) <= _MAX_HEADS else None
        if op is _C.SUBPATTERN and not av[1] and not av[2]:
            return _heads(av[3].data, word_start)
        if op is _C.MAX_REPEAT and av[0] == 0 and av[1] == 1:  # optional: taken or skipped
            taken = _heads(list(av[2].data) + list(items[k + 1 :]), word_start)
            skipped = _heads(items[k + 1 :], word_start)
            if taken is None or skipped is None:
                return None
            return taken | skipped
        return None  # a wider class, a repeat, ...: no literal head
    return None  # zero-width only


def literal_heads(rx: re.Pattern[str]) -> Heads | None:
    """Where a match of `rx` can begin (see above), or None.

    A head that begins with another head of its kind is dropped: "Tel" already covers "Telefon".
    """
    if rx.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    found = _heads(_P.parse(rx.pattern, rx.flags).data)
    if not found:
        return None
    # A WORD head shorter than 2 characters is searched as ANY (the word-start index is by 2 characters).
    found = {(h, ANY if kind == WORD and len(h) < 2 else kind) for h, kind in found}
    by_kind: dict[str, list[str]] = {WORD: [], ANY: [], AFTER: []}
    for kind in by_kind:
        texts = {h for h, k in found if k == kind}
        by_kind[kind] = sorted(h for h in texts if not any(o != h and h.startswith(o) for o in texts))
    return Heads(tuple(by_kind[WORD]), tuple(by_kind[ANY]), tuple(by_kind[AFTER]), (("", NUMBER) in found))


def find_all(text: str, literal: str) -> list[int]:
    """Start offsets of every occurrence of `literal` (overlapping ones too), ascending."""
    out = []
    p = text.find(literal)
    while p != -1:
        out.append(p)
        p = text.find(literal, p + 1)
    return out


def run_starts(char: re.Pattern[str], text: str, ends: list[int]) -> list[int]:
    """For each p of `ends` (ascending, distinct): where the run of characters matching `char`
    that ends right before p begins.  Linear: a walk stops where the previous one ended."""
    out = []
    prev_p, prev_q = -1, 0
    for p in ends:
        q = p
        while q > 0:
            if q == prev_p:  # the run goes on through the previous one
                q = prev_q
                break
            if not char.match(text, q - 1):
                break
            q -= 1
        out.append(q)
        prev_p, prev_q = p, q
    return out


def matches_at(rx: re.Pattern[str], text: str, starts: list[int]):  # type: ignore[no-untyped-def]
    """Exactly rx.finditer(text) for a regex whose every match begins at one of `starts`
    (ascending, distinct) and that never matches the empty string -- or only ever does.
    After an empty match the next try is one character on."""
    cur = 0
    for p in starts:
        if p >= cur:
            m = rx.match(text, p)
            if m is not None:
                yield m
                cur = m.end() if m.end() > p else p + 1
