"""Detection: regex detectors + gazetteers + context rules over word tokens.

Everything is loaded once in `Resources` and read-only afterwards, so one
`Detector` can serve many threads.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from . import patterns as P
from .entities import Entity, fold

DATA = Path(__file__).resolve().parent / "data"

# A word token: letters with inner hyphens/apostrophes ("Fabricius-Schätzle", "O'Neill").
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Cues directly before a name.  Strong: what follows (capitalized) is a name.
STRONG_CUES = {
    "herr",
    "herrn",
    "frau",
    "fr",
    "hr",
    "hrn",
    "dr",
    "drs",
    "dres",
    "prof",
    "doz",
    "pd",
    "mag",
    "dipl",
    "ing",
    "univ",
    "med",
    "mult",
    "dent",
    "rer",
    "nat",
    "phil",
    "dr.in",
    "drª",
    "oa",
    "oä",
    "ass",
    "chefarzt",
    "chefärztin",
    "oberarzt",
    "oberärztin",
    "assistenzarzt",
    "assistenzärztin",
    "stationsarzt",
    "stationsärztin",
    "stationaärztin",
    "primar",
    "primaria",
    "primarin",
    "prim",
    "msc",
    "dgks",
    "dgkp",
    "sr",
    "schwester",
    "pfleger",
    "kollege",
    "kollegin",
    "fa",
    "fä",
    "fachärztin",
    "facharzt",
    "psychologin",
    "psychologe",
    "psychotherapeutin",
    "psychotherapeut",
    "therapeutin",
    "therapeut",
    "gez",
    "priv",
    "univers",
    "ddr",
    "professor",
    "professorin",
    "doktor",
    "sozialarbeiterin",
    "sozialarbeiter",
    "hausarzt",
    "hausärztin",
    "dipl.-psych",
    "m.sc",
    "b.sc",
    "liebe",
    "lieber",
    "hallo",
    "hi",
    "geehrte",
    "geehrter",
    "name",
    "patient",
    "patientin",
    "pat",
    "klient",
    "klientin",
    "namens",
    "heißt",
    "genannt",
}
CUE_START = STRONG_CUES
# Cues that are titles only (skipped inside a name run such as "Prof. Dr. med.").
TITLES = {
    "dr",
    "drs",
    "dres",
    "prof",
    "doz",
    "pd",
    "mag",
    "dipl",
    "ing",
    "univ",
    "med",
    "mult",
    "dent",
    "rer",
    "nat",
    "phil",
    "dr.in",
    "drª",
    "oa",
    "oä",
    "ass",
    "priv",
    "univers",
    "ddr",
    "msc",
    "fa",
    "fä",
    "dgks",
    "dgkp",
    "prim",
    "primar",
    "primaria",
    "primarin",
    "gez",
    "chefarzt",
    "chefärztin",
    "oberarzt",
    "oberärztin",
    "assistenzarzt",
    "assistenzärztin",
    "kollege",
    "kollegin",
    "professor",
    "professorin",
    "doktor",
    "herr",
    "herrn",
    "frau",
    "fr",
    "hr",
    "stationsarzt",
    "stationsärztin",
    "sr",
    "schwester",
    "pfleger",
    "facharzt",
    "fachärztin",
    "univ.-prof",
    "priv.-doz",
    "dr.med",
    "dr.dr",
    "univer",
}
# Address cues: everything capitalized after them is a name ("Herr X", "Dr. X").
ADDRESS_CUES = {
    "herr",
    "herrn",
    "frau",
    "fr",
    "hr",
    "hrn",
    "dr",
    "drs",
    "dres",
    "prof",
    "doz",
    "mag",
    "oa",
    "oä",
    "drª",
    "dr.in",
    "kollege",
    "kollegin",
    "primar",
    "primarin",
    "dgks",
    "dgkp",
    "ddr",
    "sr",
    "msc",
    "med",
    "univers",
    "mult",
}
# Weak cues: the next word is a name only when a gazetteer agrees.
WEAK_CUES = {
    "patient",
    "patientin",
    "pat",
    "klient",
    "klientin",
    "mutter",
    "vater",
    "sohn",
    "tochter",
    "bruder",
    "schwester",
    "partner",
    "partnerin",
    "ehemann",
    "ehefrau",
    "mann",
    "freund",
    "freundin",
    "lebensgefährte",
    "lebensgefährtin",
    "kollege",
    "kollegin",
    "chef",
    "chefin",
    "oma",
    "opa",
    "großmutter",
    "großvater",
    "tante",
    "onkel",
    "cousin",
    "cousine",
    "neffe",
    "nichte",
    "enkel",
    "enkelin",
    "stiefvater",
    "stiefmutter",
    "exfreund",
    "exfreundin",
    "ex-partner",
    "ex-partnerin",
    "ex-mann",
    "ex-frau",
    "betreuer",
    "betreuerin",
    "lehrer",
    "lehrerin",
    "namens",
    "heißt",
    "genannt",
    "name",
    "vorname",
    "nachname",
    "liebe",
    "lieber",
    "hallo",
    "hi",
    "grüße",
    "gruß",
    "grüßen",
    "lg",
    "vg",
    "mfg",
    "kind",
    "kindes",
    "sohnes",
    "mutti",
    "papa",
    "mama",
    "schwager",
    "schwägerin",
    "schwiegermutter",
    "schwiegervater",
    "sozialarbeiterin",
    "sozialarbeiter",
    "vorgesetzte",
    "vorgesetzter",
    "nachbarin",
    "nachbar",
    "mitpatientin",
    "mitpatient",
    "erzieherin",
    "erzieher",
}
# Disease eponyms in the lexicon that are also surnames: a name after a first name.
EPONYMS = {
    "alzheimer",
    "parkinson",
    "huntington",
    "asperger",
    "tourette",
    "hashimoto",
    "crohn",
    "bechterew",
    "korsakoff",
    "basedow",
    "cushing",
    "addison",
    "hodgkin",
    "wilson",
    "raynaud",
    "sudeck",
    "hartmann",
    "doppler",
    "hoffmann",
}
LABEL_CUES = {
    "name",
    "patient",
    "patientin",
    "pat",
    "klient",
    "klientin",
    "nachname",
    "vorname",
    "betr",
    "betreff",
    "versicherte",
    "versicherter",
    "von",
    "an",
    "absender",
    "unterschrift",
}
RELATION_CUES = {
    "mutter",
    "vater",
    "sohn",
    "tochter",
    "bruder",
    "schwester",
    "partner",
    "partnerin",
    "ehemann",
    "ehefrau",
    "mann",
    "freund",
    "freundin",
    "lebensgefährte",
    "lebensgefährtin",
    "oma",
    "opa",
    "großmutter",
    "großvater",
    "tante",
    "onkel",
    "cousin",
    "cousine",
    "neffe",
    "nichte",
    "enkel",
    "enkelin",
    "stiefvater",
    "stiefmutter",
    "exfreund",
    "exfreundin",
    "ex-partner",
    "ex-partnerin",
    "ex-mann",
    "ex-frau",
    "schwager",
    "schwägerin",
    "kollege",
    "kollegin",
    "chef",
    "chefin",
    "nachbarin",
    "nachbar",
    "betreuer",
    "betreuerin",
    "mitpatientin",
    "mitpatient",
    "kind",
    "baby",
}
ACADEMIC = {"med", "univ", "mult", "dent", "rer", "nat", "phil", "univers", "univer", "msc", "sc"}
ARTICLES = {
    "die",
    "der",
    "eine",
    "einer",
    "ihre",
    "seine",
    "meine",
    "unsere",
    "jede",
    "keine",
    "junge",
    "alte",
    "ältere",
    "andere",
    "den",
    "dem",
    "einen",
    "einem",
    "diese",
    "dieser",
    "deren",
    "dessen",
    "ihrer",
    "seiner",
    "meiner",
}
FUNCTION = {
    "ich",
    "du",
    "er",
    "sie",
    "es",
    "wir",
    "ihr",
    "mir",
    "mich",
    "dir",
    "dich",
    "ihm",
    "ihn",
    "uns",
    "euch",
    "ihnen",
    "sich",
    "und",
    "oder",
    "aber",
    "doch",
    "denn",
    "weil",
    "dass",
    "daß",
    "wenn",
    "als",
    "wie",
    "ob",
    "so",
    "auch",
    "noch",
    "schon",
    "nur",
    "nicht",
    "kein",
    "keine",
    "sehr",
    "heute",
    "gestern",
    "morgen",
    "dann",
    "da",
    "hier",
    "dort",
    "jetzt",
    "nun",
    "immer",
    "wieder",
    "bitte",
    "danke",
    "ja",
    "nein",
    "mit",
    "von",
    "bei",
    "für",
    "an",
    "auf",
    "aus",
    "in",
    "im",
    "am",
    "zu",
    "zum",
    "zur",
    "nach",
    "vor",
    "über",
    "unter",
    "durch",
    "gegen",
    "ohne",
    "um",
    "bis",
    "seit",
    "der",
    "die",
    "das",
    "den",
    "dem",
    "des",
    "ein",
    "eine",
    "einer",
    "einem",
    "einen",
    "eines",
    "unser",
    "unsere",
    "ihre",
    "seine",
    "sein",
    "war",
    "ist",
    "hat",
    "habe",
    "hatte",
    "wird",
    "wurde",
    "sind",
    "waren",
    "kann",
    "konnte",
    "soll",
    "sollte",
    "muss",
    "musste",
    "will",
    "wollte",
    "gez",
    "nachrichtlich",
    "name",
    "vorname",
    "patient",
    "patientin",
    "pat",
    "anamnese",
    "befund",
    "diagnose",
    "diagnosen",
    "therapie",
    "verlauf",
    "procedere",
    "datum",
    "betreff",
    "betr",
}
PARTICLES = {
    "von",
    "van",
    "de",
    "del",
    "della",
    "di",
    "da",
    "zu",
    "zur",
    "zum",
    "ter",
    "ten",
    "der",
    "den",
    "du",
    "le",
    "la",
    "al",
    "el",
    "bin",
    "ibn",
    "vom",
    "dos",
    "das",
    "y",
}
NAME_PARTICLES = {
    "von",
    "van",
    "de",
    "del",
    "della",
    "di",
    "da",
    "zu",
    "zur",
    "ter",
    "ten",
    "du",
    "le",
    "al",
    "el",
    "bin",
    "ibn",
    "dos",
}
# Words that end a name run even when capitalized.
STOP_CAPS = {
    "und",
    "oder",
    "sowie",
    "mit",
    "bei",
    "im",
    "in",
    "am",
    "an",
    "auf",
    "aus",
    "nach",
    "seit",
    "wegen",
    "vom",
    "zur",
    "zum",
    "der",
    "die",
    "das",
    "den",
    "dem",
    "des",
    "ein",
    "eine",
    "geb",
    "geboren",
    "tel",
    "fax",
    "telefon",
    "e-mail",
    "email",
    "str",
    "straße",
}
ORG_HEADS = frozenset(
    (
        "klinik",
        "klinikum",
        "kliniken",
        "krankenhaus",
        "krankenhauses",
        "spital",
        "hospital",
        "universität",
        "uniklinik",
        "uniklinikum",
        "hochschule",
        "praxis",
        "praxisgemeinschaft",
        "institut",
        "zentrum",
        "gmbh",
        "stiftung",
        "schule",
        "gymnasium",
        "realschule",
        "hauptschule",
        "gesamtschule",
        "grundschule",
        "kita",
        "kindergarten",
        "sparkasse",
        "bank",
        "versicherung",
        "krankenanstaltenverbund",
        "lehrkrankenhaus",
        "akademie",
        "kirchengemeinde",
        "verein",
        "werke",
        "werk",
        "tagesklinik",
        "reha-klinik",
        "rehaklinik",
        "fachklinik",
        "landeskrankenhaus",
        "bezirkskrankenhaus",
        "diakonie",
        "caritas",
        "jugendamt",
        "jobcenter",
        "restaurant",
        "gasthaus",
        "gasthof",
        "gaststätte",
        "hotel",
        "café",
        "kneipe",
        "bäckerei",
        "metzgerei",
        "apotheke",
        "autohaus",
        "kanzlei",
        "firma",
        "seniorenheim",
        "pflegeheim",
        "altenheim",
        "altersheim",
        "kinderheim",
        "jugendheim",
        "wohnheim",
        "seniorenresidenz",
    )
)
PERSONAL_ADDRESS = frozenset(("herr", "herrn", "frau", "fr", "hr", "kollege", "kollegin", "schwester", "pfleger"))
# Sports clubs: "FC Rot-Weiß Erfurt", "TSV 1860 München", "VfL Bochum".
CLUB = re.compile(
    r"(?<![\w-])(?:\d\.[ \t]?)?(?:FC|SV|TSV|VfB|VfL|SC|SpVgg|TuS|BSC|FSV|TSG|SSV|ESV|DJK)"
    r"(?:[ \t]+(?:\d{2,4}|[A-ZÄÖÜ][\w-]*)){1,3}"
)
# Places after "am/im/an der" that make a name: "Grundschule am Park", "Klinik am Eichberg".
TOPO_NOUNS = frozenset(
    """park markt see wald berg dom ring platz bahnhof hafen tor schloss rathaus stadtpark kurpark feld hain
    bach fluss ufer turm brunnen garten anger graben kanal weinberg stadtwald kirchplatz marktplatz
    rosengarten hang heide aue tal teich weiher mühle""".split()
)
HOSPITALITY_HEADS = frozenset(
    ("restaurant", "gasthaus", "gasthof", "gaststätte", "hotel", "café", "cafe", "kneipe", "wirtshaus", "pension")
)
# Words between an organization head and its proper part ("Klinik für ...", "Krankenhaus der ...").
ORG_LINKS = frozenset(("der", "des", "für", "am", "an", "im", "in", "vom", "von", "zur", "zum"))
SPECIALTY_ENDINGS = (
    "medizin",
    "chirurgie",
    "logie",
    "iatrie",
    "therapie",
    "pädie",
    "heilkunde",
    "diagnostik",
    "pflege",
    "rehabilitation",
)
PLACE_ENDINGS = (
    "stadt",
    "dorf",
    "hausen",
    "heim",
    "burg",
    "berg",
    "feld",
    "furt",
    "bach",
    "brück",
    "brücken",
    "kirchen",
    "ingen",
    "stedt",
    "leben",
    "rode",
    "hagen",
    "walde",
    "horst",
    "münster",
    "weiler",
)
# Forms of address after "Liebe/Hallo" that are no names.
ENDEARMENTS = frozenset(
    """schatz liebling süße süßer mama papa mami papi mutti vati oma opa leute alle zusammen team kinder
    freunde freundin freund schwester bruder kollege kollegin""".split()
)
HOSPITAL_ENDINGS = (
    "krankenhaus",
    "krankenhauses",
    "klinik",
    "klinikum",
    "klinikums",
    "kliniken",
    "spital",
    "spitals",
    "hospital",
)
NOUN_ENDINGS = ("ung", "heit", "keit", "schaft", "ion", "ie", "ik", "tät", "ismus", "nis", "en", "e", "er")
# All-caps words that are no organization even before a town.
NOT_ORG_ACRONYMS = frozenset("DDR BRD EU USA UK NRW II III IV VI VII VIII OG EG UG".split())
# A letterhead unit after the organization, up to the line end: ", Epilepsie-Einheit".
ORG_SAINT = re.compile(r"(?<![\w.])(?:St\.|Sankt|Hl\.)[-\s]$")
ORG_UNIT_TAIL = re.compile(
    r",[ \t]*(?:[A-ZÄÖÜ][\w-]*(?:Einheit|Station|Abteilung|Ambulanz|Zentrum|Klinik|Institut|Bereich|Department)"
    r"|[A-ZÄÖÜ][\w-]*(?:ische|ischer|isches|e)[ \t]+"
    r"(?:Einheit|Station|Abteilung|Ambulanz|Klinik|Tagesklinik|Zentrum)"
    r"|(?:Abteilung|Station|Klinik|Institut|Zentrum|Department|Bereich|Ambulanz)(?:[ \t]+für)?[ \t]+[A-ZÄÖÜ][\w-]*)"
    r"(?=[ \t]*(?:\r?\n|$))"
)
# A ward named by number and wing: "Übernahme von der 3 Süd", "auf die 12 Nord".
WARD_NAME = re.compile(
    r"\b(?:[Ss]tation|von[ \t]+der|auf[ \t]+der|auf[ \t]+die|in[ \t]+die|zur)[ \t]+"
    r"(?P<ward>\d{1,2}[a-z]?[ \t]?(?:Süd|Nord|Ost|West)(?:[ \t]?\d)?)\b"
)
DATELINE_WORDS = {
    "den",
    "am",
    "stand",
    "datum",
    "befund",
    "diagnose",
    "heute",
    "gestern",
    "morgen",
    "termin",
    "sitzung",
    "aufnahme",
    "entlassung",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "eingang",
    "ausgang",
    "erstellt",
    "gedruckt",
    "version",
    "seite",
    "uhrzeit",
    "zeit",
    "beginn",
    "ende",
    "start",
    "vom",
    "bis",
    "ab",
    "seit",
}
COMPASS = {"nord", "süd", "ost", "west", "mitte", "nordost", "nordwest", "südost", "südwest", "zentrum"}
UNI_PLACE = re.compile(
    r"(?<![\w-])(?:TU|FH|HU|FU|LMU|RWTH|KIT|TH|HAW|Uni|Universität|Hochschule)[ \t]+(?P<place>[A-ZÄÖÜ][\w-]+)"
)
ORG_SUFFIX_RE = re.compile(
    r"(?:klinik|klinikum|kliniken|krankenhaus|krankenhauses|spital|hospital|universität|uniklinik|"
    r"hochschule|institut|zentrum|schule|gymnasium|kindergarten|kita|sparkasse|akademie)$",
    re.IGNORECASE,
)
ORG_SUFFIXES = tuple(ORG_SUFFIX_RE.pattern[3:-2].split("|"))
ORG_LEGAL = re.compile(
    r"(?<![\w])(?:[A-ZÄÖÜ][\w&.'’-]*[ \t]){1,4}"
    r"(?:GmbH(?:[ \t]&[ \t]Co\.?[ \t]KG)?|gGmbH|mbH|AG|KG|OHG|SE|e\.[ \t]?V\.|eG)(?![\w])"
)
INSURER_WORDS = {
    "AOK",
    "Techniker",
    "Barmer",
    "DAK",
    "IKK",
    "KKH",
    "HEK",
    "hkk",
    "BVA",
    "SBK",
    "Knappschaft",
    "BKK",
    "Debeka",
    "Allianz",
    "HUK",
    "DKV",
    "Central",
    "Barmenia",
    "Gothaer",
    "AXA",
    "Signal",
}
LEGAL_HINT = re.compile(r"(?<=[ \t])(?:GmbH|gGmbH|mbH|AG|KG|OHG|SE|e\.[ \t]?V\.|eG)(?![\w])")
INSURERS = re.compile(
    r"(?<![\w-])(?:AOK(?:[ \t-](?:Bayern|Plus|Nordost|Nordwest|Niedersachsen|Hessen|Rheinland/Hamburg|"
    r"Baden-Württemberg|Sachsen-Anhalt|Bremen/Bremerhaven|Rheinland-Pfalz/Saarland))?|Techniker Krankenkasse|"
    r"Barmer|DAK(?:-Gesundheit)?|IKK(?:[ \t]classic)?|KKH|HEK|hkk|BVA|SBK|Knappschaft|BKK[ \t]?[\w-]*|"
    r"Debeka|Allianz|HUK-Coburg|Signal Iduna|DKV|Central|Barmenia|Gothaer|AXA)(?![\w-])"
)
EMPLOYER_CUE = re.compile(
    r"\b(?:arbeitet|arbeitete|arbeiten|tätig|beschäftigt|angestellt|Ausbildung|Praktikum|Job|Stelle|Arbeitgeber|"
    r"Firma|Unternehmen|Betrieb|Schule|Verein|Kita|Kindergarten|Studium|studiert|Student|Studentin)"
    r"(?:[ \t]+als[ \t]+\w+|[ \t]+der[ \t]+\w+)?[ \t]*(?P<prep>bei|in|an|im|:)"
    r"[ \t]*(?:der|dem|den|einer|einem|die|das|Firma)?[ \t]*"
    r"(?P<org>[A-ZÄÖÜ][\w&'’.-]*(?:[ \t](?:&[ \t])?[A-ZÄÖÜ][\w&'’.-]*){0,3})"
)
PLACE_CUE = re.compile(
    r"\b(?:wohnhaft(?:[ \t]+in)?|wohnt(?:[ \t]+(?:jetzt|seit[ \t]+\w+|noch|wieder))?[ \t]+in|"
    r"lebt(?:[ \t]+\w+)?[ \t]+in|"
    r"lebte[ \t]+in|geboren[ \t]+in|aufgewachsen[ \t]+in|stammt[ \t]+aus|kommt[ \t]+aus|"
    r"zog[ \t]+nach|zogen[ \t]+nach|umgezogen[ \t]+nach|Umzug[ \t]+nach|gezogen[ \t]+nach|"
    r"Heim[ \t]+in|Schule[ \t]+in|Klinik[ \t]+in|Praxis[ \t]+in|Studium[ \t]+in|studiert[ \t]+in|"
    r"arbeitet[ \t]+in|Wohnort:?|Wohnort[ \t]+ist|Ort:|Geburtsort:?|Herkunftsort:?|"
    r"aus[ \t]+dem[ \t]+Raum|im[ \t]+Raum|Raum|nahe|bei|nach|aus|in|von)[ \t]+"
    r"(?P<place>[A-ZÄÖÜ][\w'’-]+(?:[ \t](?:am|an[ \t]der|im|ob[ \t]der|bei|in|vor[ \t]der)?[ \t]?[A-ZÄÖÜ][\w'’-]+)?)"
)
DATELINE = re.compile(
    r"^[ \t]*(?P<place>[A-ZÄÖÜ][\w'’-]+(?:[ \t][A-ZÄÖÜ][\w'’-]+)?)[ \t]*,[ \t]*(?:den|am)?[ \t]*"
    r"(?:\d{1,2}\.[ \t]?(?:\d{1,2}\.|[A-ZÄ])|\d{4}-\d{2})",
    re.MULTILINE,
)
PROFESSION_CUE = re.compile(
    r"\b(?:arbeitet(?:e)?[ \t]+als|tätig[ \t]+als|Beruf:?|von[ \t]+Beruf|gelernte[rn]?|"
    r"ausgebildete[rn]?|Ausbildung[ \t]+zur|Ausbildung[ \t]+zum|Studium[ \t]+der|studiert)[ \t]+"
    r"(?P<prof>[A-ZÄÖÜ][\w-]+)"
)


def _load_list(name: str) -> tuple[set[str], set[str]]:
    """Return (clear, needs_cue) sets of lowercase entries."""
    clear: set[str] = set()
    cue: set[str] = set()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("~"):
            cue.add(line[1:].lower())
        else:
            clear.add(line.lower())
    return clear, cue


_U = "A-ZÀ-ÖØ-ÞŠŽČĆĐŁŚŹŻŃÇĞİŞ"
BIRTH_NAME = re.compile(
    rf"(?P<name>(?<![\w.])(?:[{_U}][\w'’-]*\.?[ \t]+){{0,2}}[{_U}][\w'’-]+(?:,[ \t]+[{_U}][\w'’-]+)?)"
    r"[ \t]*,?[ \t]*\(?[ \t]*(?:\*[ \t]*\d|geb\.|geboren[ \t]+am)(?=[^\n]*$)",
    re.MULTILINE,
)
# An author line: "Geschrieben von Amadea Leber", "diktiert durch ...", "Schreibkraft: ...".
# Found from "von"/"durch" (cheap to scan for), the verb is checked before it.
AUTHOR_CUE = re.compile(
    r"(?=[vd])(?<=[a-zäöü][ \t])(?:von|durch)[ \t]+|(?<=Schreibkraft)[ \t]*:[ \t]*|(?<=Diktat)[ \t]*:[ \t]*"
)
AUTHOR_VERB = re.compile(
    r"(?:geschrieben|diktiert|erstellt|verfasst|vidiert|befundet|geprüft|freigegeben|unterschrieben|gelesen|"
    r"korrigiert|getippt)[ \t]+$",
    re.IGNORECASE,
)
_SALUTATION_WORDS = r"(?:[Ll]iebe|[Ll]ieber|[Hh]allo|[Hh]i|[Ss]ervus|[Mm]oin|[Hh]ey)"
SALUTATION = re.compile(
    r"(?:^|(?<=[,;.!?])[ \t]*)[ \t]*" + _SALUTATION_WORDS + r"[ \t]+"
    r"(?=[A-ZÄÖÜ][\w'’-]+[ \t]*(?:[,!:]|\r?\n|$))",
    re.MULTILINE,
)
# "M. wird vorgestellt": checked for a sentence start in code (cheaper than a look-behind here).
INITIAL_SUBJECT = re.compile(r"(?P<ini>[A-ZÄÖÜ])\.[ \t]+(?P<next>[a-zäöüß]{3,})\b")
_SPEECH_VERBS = (
    r"(?:sagte|sagt|meinte|meint|fragte|fragt|rief|ruft|schrieb|schreibt|erzählte|erzählt|antwortete|antwortet|"
    r"schrie|schreit|flüsterte|flüstert|erklärte|erklärt|betonte|betont|sagen|meinten)"
)
_QUOTES = ("„", "“", "”", "»", "«", '"')
SPEAKER_AFTER = re.compile(r"(?<=[“”\"»«])[ \t]*,?[ \t]*" + _SPEECH_VERBS + r"[ \t]+(?=[A-ZÄÖÜ])")
_SPEECH_COLON = _SPEECH_VERBS + r"[ \t]*:[ \t]*[„\"»“]"
SPEAKER_BEFORE = re.compile(r"(?=[A-ZÄÖÜ])(?<![\w'’-])(?=[\w'’-]+[ \t]+" + _SPEECH_COLON + ")")
_SALUTATION_HINTS = ("iebe", "allo", "Hi ", "hi ", "ervus", "oin ", "Hey ", "hey ")
BIRTH_NAME_CUE = re.compile(r"\*[ \t]*\d|geb\.|geboren[ \t]+am")
# Scanned over the whole text: skip straight to the characters a match can begin with.
AUTHOR_CUE, SALUTATION, CLUB, EMPLOYER_CUE, INSURERS, UNI_PLACE, WARD_NAME = (
    P.starting_with(rx) for rx in (AUTHOR_CUE, SALUTATION, CLUB, EMPLOYER_CUE, INSURERS, UNI_PLACE, WARD_NAME)
)


@dataclass
class Resources:
    first: set[str]
    first_cue: set[str]
    sur: set[str]
    sur_cue: set[str]
    places: set[str]
    places_cue: set[str]
    place_words: set[str]  # first word of multi-word places
    max_place_len: int
    professions: set[str]
    common: set[str]
    lexicon: set[str]  # lowercase terms
    lexicon_caps: set[str]  # all-caps abbreviations, matched exactly

    @classmethod
    def load(cls) -> Resources:
        first, first_cue = _load_list("first_names.txt")
        sur, sur_cue = _load_list("surnames.txt")
        places, places_cue = _load_list("places.txt")
        prof, _ = _load_list("professions.txt")
        common, _ = _load_list("common_words.txt")
        lexicon: set[str] = set()
        caps: set[str] = set()
        for line in (DATA / "clinical_lexicon.txt").read_text(encoding="utf-8").splitlines():
            t = line.strip()
            if not t or t.startswith("#"):
                continue
            if len(t) > 1 and t.replace("-", "").replace(".", "").isupper():
                caps.add(t)
            else:
                lexicon.add(t.lower())
        place_words = {p.split()[0] for p in places | places_cue if " " in p}
        max_len = max((len(p.split()) for p in places), default=1)
        return cls(
            first, first_cue, sur, sur_cue, places, places_cue, place_words, max_len, prof, common, lexicon, caps
        )

    def is_lexicon(self, word: str) -> bool:
        return word in self.lexicon_caps or word.lower() in self.lexicon

    def is_plain_word(self, word: str) -> bool:
        """Common German word or clinical term: never a name without a cue."""
        low = word.lower()
        return low in self.common or low in self.lexicon or word in self.lexicon_caps


_INFLECT = ("s", "'s", "’s", "n", "en", "ns", "es")
_SPACY_LABELS = {"PER": "PERSON", "PERSON": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION", "ORG": "ORGANIZATION"}
_TLD_HINTS = (
    ".de",
    ".com",
    ".org",
    ".net",
    ".at",
    ".ch",
    ".eu",
    ".info",
    ".io",
    ".me",
    ".app",
    ".social",
    ".DE",
    ".COM",
)
_SOCIAL_HINTS = (
    "Instagram",
    "Insta",
    "TikTok",
    "Twitter",
    "Facebook",
    "Snapchat",
    "Telegram",
    "Discord",
    "Twitch",
    "Reddit",
)


class _Words:
    """The word tokens of one detect() call, grouped by their text (built once per call).

    Most rules that walk the words can fire on few of them (month names, name-list entries,
    organization heads ...).  Testing every distinct word once and visiting only the positions
    of those that pass gives the same candidates, in the same order, as testing every word.
    """

    def __init__(self, words: list[tuple[int, int, str]]) -> None:
        self.words = words
        at: dict[str, list[int]] = {}
        for i, (_s, _e, w) in enumerate(words):
            if w in at:
                at[w].append(i)
            else:
                at[w] = [i]
        self.at = at  # word -> its indices, ascending
        self.lower = {w: w.lower() for w in at}  # distinct word -> its lower case
        self._starts: dict[str, list[int]] | None = None
        self._numbers: list[int] | None = None

    def indices(self, chosen: Iterable[str]) -> list[int]:
        """Indices, ascending, of every occurrence of the `chosen` distinct words."""
        at = self.at
        return sorted(i for w in chosen for i in at[w])

    def count_capitalized(self) -> int:
        return sum(len(ix) for w, ix in self.at.items() if w[0].isupper())

    def number_starts(self, text: str) -> list[int]:
        """Positions of digits that no word character precedes (ascending)."""
        if self._numbers is None:
            self._numbers = [m.start() for m in P.NUMBER_START.finditer(text)]
        return self._numbers

    def letter_starts(self, text: str) -> dict[str, list[int]]:
        """Positions where a run of word characters may begin with a letter, by text[p : p + 2].

        Such a run begins at a token or inside one, after its hyphen or apostrophe ("Ex-Mann").
        A few token starts are no run starts ("2Tel"); the regex tried there says no.
        """
        if self._starts is None:
            starts: dict[str, list[int]] = {}
            positions = [s for s, _e, _w in self.words]
            for w in self.at:
                if "-" in w or "'" in w or "’" in w:
                    inner = [j + 1 for j, ch in enumerate(w) if ch in "-'’"]
                    positions += [self.words[i][0] + j for i in self.at[w] for j in inner]
            for p in positions:
                key = text[p : p + 2]
                if key in starts:
                    starts[key].append(p)
                else:
                    starts[key] = [p]
            self._starts = starts
        return self._starts


class Detector:
    def __init__(self, res: Resources) -> None:
        self.r = res
        self.extra_ner = None  # optional spaCy pipeline (see Anonymizer)
        # Lower-case words that can start a name run in _names (a cue or a name-list entry).
        self._name_starts = frozenset().union(CUE_START, WEAK_CUES, res.first, res.first_cue, res.sur)

    # ------------------------------------------------------------------
    def detect(self, text: str, person_keys: dict[str, str] | None = None, leak_only: bool = False) -> list[Entity]:
        """Entities in `text`, non-overlapping, sorted by offset.

        leak_only (the leak guard): skip the candidates of priority 9 and lower -- places,
        professions, later mentions of a name, spaCy.  _resolve() takes candidates in priority
        order, so these can never push out one of priority 1-8; every entity of priority 1-8
        (hard identifiers, birth dates, cued and name-list persons, organizations) is the same.
        """
        cands: list[tuple[int, int, int, str, str]] = []  # (prio, start, end, label, source)
        # "İ" lower-cases to two code points; map it so gazetteer lookups work ("İstanbul").
        plain = text.replace("İ", "I") if "İ" in text else text  # same length, same offsets
        words = _Words([(m.start(), m.end(), m.group()) for m in WORD.finditer(plain)])
        n = len(words.words)
        # Dictation without any capitals switches the name and organization rules to lower case.
        lower_mode = n >= 4 and words.count_capitalized() < 0.05 * n
        self._regex(text, cands, words)
        self._names(text, words, cands, person_keys or {}, lower_mode, coref=not leak_only)
        self._places_orgs(text, words, cands, lower_mode, places=not leak_only)
        if self.extra_ner is not None and not leak_only:
            for ent in self.extra_ner(text).ents:
                label = _SPACY_LABELS.get(ent.label_)
                if label and not self.r.is_plain_word(ent.text):
                    cands.append((12, ent.start_char, ent.end_char, label, "spacy"))
        return self._resolve(text, cands)

    # ------------------------------------------------------------------
    def _regex(self, text: str, c: list[tuple[int, int, int, str, str]], ix: _Words) -> None:
        words = ix.words
        add = c.append
        has_at = "@" in text
        for m in _scan(P.EMAIL, text, ix) if has_at else ():
            add((1, m.start(), m.end(), "EMAIL", "regex"))
        has_url = "www." in text or "://" in text or any(t in text for t in _TLD_HINTS)
        for m in _scan(P.URL, text, ix) if has_url else ():
            s, e = m.start(), m.end()
            while e > s and text[e - 1] in ".,;:!?":
                e -= 1
            frag = text[s:e].lower()
            host = re.sub(r"^(?:https?://)?(?:www\.)?", "", frag).split("/")[0]
            label = "SOCIAL_MEDIA" if host.split(".")[0] in P.SOCIAL_DOMAINS and "/" in frag else "URL"
            add((2, s, e, label, "regex"))
        for m in P.HANDLE.finditer(text) if has_at else ():
            add((2, m.start(), m.end(), "SOCIAL_MEDIA", "regex"))
        for m in _scan(P.SOCIAL_CUE, text, ix) if any(t in text for t in _SOCIAL_HINTS) else ():
            add((2, m.start(1), m.end(1), "SOCIAL_MEDIA", "cue"))
        for m in P.IBAN.finditer(text):
            add((1, m.start(), m.end(), "ID", "iban"))
        for m in P.KVNR.finditer(text):
            add((1, m.start(), m.end(), "ID", "kvnr"))
        for m in _scan(P.RVNR, text, ix):
            add((1, m.start(), m.end(), "ID", "rvnr"))
        for m in _scan(P.PLATE, text, ix):
            add((3, m.start("plate"), m.end("plate"), "ID", "plate"))
        for m in _scan(P.PHONE_CUE, text, ix):
            s, e = m.start(1), m.end(1)
            if sum(ch.isdigit() for ch in text[s:e]) >= 5:
                add((2, s, e, "PHONE", "cue"))
        for m in _scan(P.PHONE, text, ix):
            frag = m.group()
            if sum(ch.isdigit() for ch in frag) >= 6 and not re.fullmatch(r"(?:19|20)\d{2}", frag):
                add((3, m.start(), m.end(), "PHONE", "regex"))
        for m in _scan(P.ID_CUE, text, ix):
            s, e = m.start(1), m.end(1)
            tok = text[s:e]
            if P.ID_FALSE_NEXT.match(text, e):
                continue
            if tok.lower() in self.r.lexicon or tok in self.r.lexicon_caps:
                continue
            add((3, s, e, "ID", "cue"))
        for m in P.STATION_FIELD.finditer(text):
            for k in P.SECTION_LETTER.finditer(m.group("val")):
                add((4, m.start("val") + k.start(), m.start("val") + k.end(), "ID", "cue"))
        for m in _scan(P.NORM, text, ix) if "ISO" in text or "DIN" in text else ():
            add((4, m.start(), m.end(), "ID", "cue"))
        for m in _scan(P.GENERIC_NUMBER_CUE, text, ix) if "-Nr" in text or "nummer" in text.lower() else ():
            if not P.ID_FALSE_NEXT.match(text, m.end("code")):
                add((4, m.start("code"), m.end("code"), "ID", "cue"))
        for m in P.WARD_CODE.finditer(text):
            if m.group() not in self.r.lexicon_caps and m.group().split("-")[0] not in self.r.lexicon_caps:
                add((4, m.start(), m.end(), "ID", "cue"))
        for m in _scan(P.CASE_NUMBER, text, ix):
            add((4, m.start(), m.end(), "ID", "number"))
        for m in _matches_after(P.PHONE_UNTER, text, "unter "):  # its lookbehind: "unter "
            if sum(ch.isdigit() for ch in m.group()) >= 7:
                add((3, m.start(), m.end(), "PHONE", "cue"))
        for m in _scan(P.FILE_NUMBER, text, ix):
            head = m.group().split()[0] if " " in m.group() else ""
            if head not in self.r.lexicon_caps:
                add((2, m.start(), m.end(), "ID", "number"))
        for m in P.SWISS_PLACE.finditer(text) if P.CANTON.search(text) else ():
            if not self.r.is_lexicon(m.group().split()[0]):
                add((9, m.start(), m.end(), "LOCATION", "regex"))
        for m in _scan(P.LONG_NUMBER, text, ix):
            add((5, m.start(), m.end(), "ID", "number"))
        # Dates: birth dates when a birth cue precedes them.
        month_hits: list[re.Match[str]] = []
        for wi in ix.indices(w for w, low in ix.lower.items() if low in P.MONTH_NUM or low + "." in P.MONTH_NUM):
            ws, we, w = words[wi]
            if w.lower() in P.MONTH_NUM or (w.lower() + "." in P.MONTH_NUM and text[we : we + 1] == "."):
                mm = P.DATE_TEXT.search(text, max(0, ws - 24), min(len(text), we + 8))
                while mm is not None and mm.end() <= ws:
                    mm = P.DATE_TEXT.search(text, mm.end(), min(len(text), we + 8))
                if mm is not None and (not month_hits or mm.start() >= month_hits[-1].end()):
                    month_hits.append(mm)
        for rx, found in ((P.DATE_NUM, _scan(P.DATE_NUM, text, ix)), (P.DATE_TEXT, month_hits)):
            for m in found:
                s, e = m.start(), m.end()
                if rx is P.DATE_NUM and (not self._valid_date(m) or P.DOSE_AFTER.match(text, e)):
                    continue  # "Inegy 10/20 mg": a dose, not a date
                if rx is P.DATE_NUM and m.group("yy") and P.COUNTER_BEFORE.search(text[max(0, s - 16) : s]):
                    continue
                if rx is P.DATE_TEXT and not any(ch.isdigit() for ch in text[s:e]):
                    # A bare month name: a date at level thorough only ("im Juni").
                    if (
                        text[s:e] in ("Mai", "August", "April", "Juni", "Juli")
                        and e < len(text)
                        and text[e : e + 1] == "-"
                    ):
                        continue
                label = "DATE_BIRTH" if self._birth_before(text, s) else "DATE"
                # The first part of a range: "vom 4. bis 18.10.21", "13. - 24.10.", "03-06/2022".
                h = P.RANGE_HEAD.search(text, max(0, s - 18), s) if text[s : s + 1].isdigit() else None
                if h is not None and (
                    not 1 <= int(h.group("d")) <= 31
                    or ("." not in h.group("head") and h.group("conn") in ("und", "bis"))
                ):
                    h = None  # "PHQ-9 von 15 und 12.03.": a score, not a day
                if h is not None and P.SCALE_BEFORE.search(text, max(0, h.start() - 14), h.start()):
                    h = None  # "GAD-7 12 - 14.03.2024": the score stays
                if h is not None and rx is P.DATE_NUM and m.group("yy"):
                    if P.COUNTER_BEFORE.search(text[max(0, h.start() - 16) : h.start()]):
                        continue  # "Sitzung 3-4/12": a session counter
                add((4, s, e, label, "regex"))
                if h is not None:
                    add((4, h.start("head"), h.end("head"), label, "regex"))
        for m in _scan(P.YEAR, text, ix):
            s, e = m.start(), m.end()
            label = "DATE_BIRTH" if self._birth_before(text, s) else "DATE"
            add((6, s, e, label, "year"))
        # Streets and ZIP codes.
        street_matches = []
        last_end = -1
        for hs in ix.number_starts(text):
            # Streets end in a suffix + number: find those first, then the full match nearby.
            if P.STREET_END.search(text, max(0, hs - 14), hs) is None:
                continue
            m = P.STREET.search(text, max(0, hs - 60, last_end), min(len(text), hs + 17))
            while m is not None and m.end() <= hs - 3:
                m = P.STREET.search(text, m.end(), min(len(text), hs + 17))
            if m is not None and m.start() >= last_end:
                street_matches.append(m)
                last_end = m.end()
        for m in street_matches + list(_scan(P.STREET_PREP, text, ix)):
            if True:
                s, e = m.start(), m.end()
                word = text[s:e].split()[0]
                if self.r.is_lexicon(word.rstrip(".")):
                    continue
                add((4, s, e, "STREET", "regex"))
        nonum = [
            P.STREET_NONUM.match(text, words[wi][0])
            for wi in ix.indices(
                w
                for w in ix.at
                if len(w) > 8 and w[0].isupper() and w.endswith(("straße", "strasse", "gasse", "allee"))
            )
        ]
        for m in nonum:
            if m is None:
                continue
            w = m.group()
            if w.lower() in (
                "straße",
                "landstraße",
                "bundesstraße",
                "einbahnstraße",
                "seitenstraße",
                "nebenstraße",
                "hauptstraße",
                "autobahn",
                "sackgasse",
                "fußgängerzone",
            ):
                continue
            add((5, m.start(), m.end(), "STREET", "regex"))
        for m in P.ZIP_CITY.finditer(text):
            zs, ze = m.start("zip"), m.end("zip")
            city = m.group("city")
            first = city.split()[0]
            cs = m.start("city")
            is_place = self._place_at(city) > 0
            digits = sum(ch.isdigit() for ch in m.group("zip"))
            prefixed = not m.group("zip")[0].isdigit()
            if digits == 4 and not prefixed and not is_place:
                continue
            if not is_place and (self.r.is_plain_word(first) or first.lower() in P.MONTH_NUM):
                if not prefixed:
                    continue
                add((3, zs, ze, "ZIP", "zip"))
                continue
            add((3, zs, ze, "ZIP", "zip"))
            # City: the words after the ZIP code, up to a line end or comma.
            ce = cs + len(city)
            city_words = city.split()
            keep = 1
            for i in range(1, len(city_words)):
                w = city_words[i].strip("()")
                if self.r.is_plain_word(w) and not w.startswith("("):
                    break
                keep = i + 1
            ce = cs + len(" ".join(city_words[:keep])) if keep < len(city_words) else ce
            add((4, cs, ce, "LOCATION", "zip"))
        # Ages.
        age_hits: list[re.Match[str]] = []
        for wi in ix.indices(w for w, low in ix.lower.items() if "jähr" in low or "jahrig" in low or low == "j"):
            ws, we, w = words[wi]
            lw = w.lower()
            if "jähr" in lw or "jahrig" in lw or (lw == "j" and text[we : we + 1] == "."):
                mm = P.AGE_ADJ.search(text, max(0, ws - 16), min(len(text), we + 30))
                while mm is not None and mm.end() < we:
                    mm = P.AGE_ADJ.search(text, mm.end(), min(len(text), we + 30))
                if mm is not None and mm.start() <= ws and (not age_hits or mm.start() >= age_hits[-1].end()):
                    age_hits.append(mm)
        for m in age_hits:
            nxt = (m.group("next") or "").strip()
            if nxt and nxt[0].isupper() and nxt.lower() not in P.AGE_PERSON_NOUNS and nxt.lower() not in self.r.first:
                continue
            if not self._age_ok(m.group("n")):
                continue
            unit = text[m.end("n") : m.end()].lower()
            if (
                "jähr" not in unit
                and "jahrig" not in unit
                and P.DURATION_BEFORE.search(text, max(0, m.start() - 16), m.start())
            ):
                continue  # "Kontrolle nach 1 J.": a duration, not an age
            add((5, m.start("n"), m.end("n"), "AGE", "regex"))
        for m in P.AGE_NAME_PAREN.finditer(text):
            # "Klient (Mustafa, 34)": a name and an age in brackets
            name = m.group("name")
            if not self.r.is_plain_word(name) and 0 < int(m.group("n")) < 100:
                add((5, m.start("n"), m.end("n"), "AGE", "regex"))
        for m in _scan(P.AGE_PAREN, text, ix):
            # "Leon (9)": a number in brackets right after a name-like word
            k = m.start() - 2
            b = k
            while b > 0 and (text[b - 1].isalpha()):
                b -= 1
            word = text[b:k]
            if word[:1].isupper() and not self.r.is_plain_word(word) and 0 < int(m.group("n")) < 100:
                add((5, m.start("n"), m.end("n"), "AGE", "regex"))
        for m in _scan(P.AGE_SELF, text, ix):
            add((5, m.start("n"), m.end("n"), "AGE", "regex"))
        for rx in (P.AGE_YEARS, P.AGE_ALT):
            for m in _scan(rx, text, ix):
                if rx is P.AGE_YEARS:
                    pre = P.AGE_YEARS_PRE.search(text, max(0, m.start() - 16), m.start())
                    if pre is None:
                        continue
                    if m.group("unit") == "Jahren" and pre.group("pre") not in ("im Alter von", "mit", "Alter von"):
                        continue
                if not self._age_ok(m.group("n")):
                    continue
                add((5, m.start("n"), m.end("n"), "AGE", "regex"))

    @staticmethod
    def _age_ok(n: str) -> bool:
        if n.isdigit():
            return 0 < int(n) < 120
        return True

    @staticmethod
    def _valid_date(m: re.Match[str]) -> bool:
        a = m.group("a")
        if m.group("m") is not None or m.group("m2") is not None:
            mo = m.group("m") or m.group("m2")
            return len(a) <= 2 and 1 <= int(a) <= 31 and 1 <= int(mo) <= 12
        if m.group("im") is not None:  # ISO yyyy-mm-dd
            return (
                len(a) == 4
                and a[:2] in ("19", "20", "21")
                and 1 <= int(m.group("id")) <= 31
                and 1 <= int(m.group("im")) <= 12
            )
        if m.group("yy") is not None:  # mm/yy, mm/yyyy
            return len(a) <= 2 and 1 <= int(a) <= 12
        return False

    @staticmethod
    def _birth_before(text: str, s: int) -> bool:
        return bool(P.BIRTH_CUE.search(text[max(0, s - 24) : s]))

    # ------------------------------------------------------------------
    def _place_at(self, phrase: str) -> int:
        """Number of words at the start of `phrase` that form a known (clear) place."""
        words = phrase.split()
        for n in range(min(len(words), self.r.max_place_len), 0, -1):
            cand = " ".join(words[:n]).strip(",.;:").lower()
            if cand in self.r.places:
                return n
        return 0

    # ------------------------------------------------------------------
    def _names(
        self,
        text: str,
        ix: _Words,
        c: list[tuple[int, int, int, str, str]],
        person_keys: dict[str, str],
        lower_mode: bool = False,
        coref: bool = True,
    ) -> None:
        r = self.r
        words = ix.words
        n = len(words)
        found_tokens: set[str] = set()
        multi_tokens: set[str] = set()
        spans: list[tuple[int, int, str]] = []

        def sep(i: int) -> str:
            return text[words[i - 1][1] : words[i][0]]

        def is_initial(i: int) -> bool:
            s, e, w = words[i]
            return (len(w) == 1 or w in ("Ch", "Th", "Ph")) and w[0].isupper() and text[e : e + 1] == "."

        def in_gaz(low: str) -> bool:
            return low in r.first or low in r.sur

        def in_gaz_any(low: str) -> bool:
            return low in r.first or low in r.sur or low in r.first_cue or low in r.sur_cue

        def short_caps(w: str) -> bool:
            return w.isupper() and len(w) <= 4

        def name_like(i: int, mode: str) -> bool:
            """Can word i be part of a name run?  mode: strong | ext | weak."""
            w = words[i][2]
            low = w.lower()
            # Lower-case names count in dictation (no capitals at all) or right after a
            # form of address ("frau schmidt").
            if not w[0].isupper() and not ((lower_mode or mode == "strong") and in_gaz(low) and not r.is_plain_word(w)):
                return False
            if low in STOP_CAPS or low in TITLES or low in FUNCTION or low in P.MONTH_NUM:
                return False
            if is_initial(i):
                return True
            if mode == "strong2":
                return True
            if mode == "strong":
                if r.is_lexicon(w) or (w.isupper() and len(w) <= 3):
                    prev = words[i - 1][2].lower() if i > 0 else ""
                    return prev in ADDRESS_CUES and text[words[i - 1][1] : words[i][0]] in (". ", " ")
                return True
            if short_caps(w) and not in_gaz(low):
                return False
            if in_gaz(low):
                return True
            if mode == "ext" and (low in EPONYMS or ((low in r.sur_cue or low in r.first_cue) and low not in FUNCTION)):
                return True
            if (
                mode == "ext"
                and w not in r.lexicon_caps
                and low not in r.lexicon
                and not short_caps(w)
                and low not in r.places
                and not low.endswith(("ung", "heit", "keit", "schaft", "ion", "ie"))
            ):
                return True
            return not r.is_plain_word(w) and low not in r.places and w not in r.lexicon_caps

        def run_from(i: int, mode: str) -> int:
            """Extend a name run starting at i; return the index after the run."""
            j = i
            count = 0
            while j < n and count < 4:
                if j > i:
                    sp = sep(j)
                    if is_initial(j - 1):
                        if sp not in (". ", ".", ".  "):
                            break
                    elif (
                        sp == ", "
                        and count == 1
                        and words[j][2][0].isupper()
                        and not r.is_plain_word(words[j][2])
                        and (words[j][2].lower() in r.first or words[j - 1][2].isupper())
                    ):
                        pass  # "CHRIST, Charlotte" / "Frau Berger, Anna"
                    elif sp not in (" ", "  "):
                        break
                w = words[j][2]
                low = w.lower()
                if low in NAME_PARTICLES and (count > 0 or mode == "strong") and j + 1 < n:
                    if words[j + 1][2][0].isupper() and text[words[j][1] : words[j + 1][0]] == " ":
                        j += 1
                        continue
                    break
                if not name_like(j, mode if count == 0 else ("strong2" if mode == "strong" else "ext")):
                    break
                j += 1
                count += 1
            return j

        # Only a cue, an initial or a name-list word can start a name run (the branches below).
        can_start = bytearray(n)
        for k in ix.indices(
            w
            for w, low in ix.lower.items()
            if low in self._name_starts or len(w) == 1 or w in ("Ch", "Th", "Ph")
        ):
            can_start[k] = 1
        i = 0
        while i < n:
            if not can_start[i]:
                i += 1
                continue
            s, e, w = words[i]
            low = w.lower()
            start_run = -1
            end_idx = -1
            src = "gaz"
            if low in CUE_START or low in WEAK_CUES:
                j = i
                is_strong = False
                is_weak = False
                titles = 0
                while j < n:
                    lw = words[j][2].lower()
                    if lw == "in" and j > 0 and text[words[j - 1][1] : words[j][0]] == "." and titles:
                        j += 1  # "Dr.in"
                        continue
                    if lw in ACADEMIC and titles == 0:
                        break
                    if (lw in ADDRESS_CUES or lw in TITLES) and not self._valid_title(text, words, j, titles):
                        break
                    if lw in ADDRESS_CUES or lw in TITLES:
                        prev = words[j - 1][2].lower() if j > 0 else ""
                        if lw in ("frau", "herr", "herrn", "kollege", "kollegin", "schwester") and prev in ARTICLES:
                            is_weak = True
                        else:
                            is_strong = True
                            titles += 1
                        j += 1
                        continue
                    if lw in WEAK_CUES:
                        is_weak = True
                        j += 1
                        continue
                    break
                if j < n and j > i:
                    gap = text[words[j - 1][1] : words[j][0]]
                    if words[j - 1][2].lower() in LABEL_CUES and re.fullmatch(r"\.?[ \t]*:[ \t]*", gap):
                        k = run_from(j, "strong2")
                        if (
                            k == j + 1
                            and r.is_lexicon(words[j][2])
                            and words[j - 1][2].lower() not in ("name", "nachname", "vorname")
                        ):
                            k = j  # "Patient: Angst" -- a lexicon word alone after a field label
                        if k > j:
                            start_run, end_idx, src = j, k, "strong"
                            gap = ""
                    if start_run >= 0:
                        pass
                    elif "\n\n" in gap or (len(gap) > 6 and "\n" in gap) or "\t" in gap or ":" in gap:
                        i = j
                        continue
                    if start_run >= 0:
                        pass
                    elif is_strong:
                        k = run_from(j, "strong")
                        if k > j:
                            start_run, end_idx, src = j, k, "strong"
                    elif is_weak:
                        wj = words[j][2]
                        lj = wj.lower()
                        if (
                            (wj[0].isupper() or lower_mode)
                            and in_gaz(lj)
                            and not r.is_plain_word(wj)
                            and not short_caps(wj)
                        ):
                            k = run_from(j, "weak")
                            if k > j:
                                start_run, end_idx = j, k
                        elif wj[0].isupper() and name_like(j, "weak"):
                            k = run_from(j, "weak")
                            relation = (words[j - 1][2].lower() in RELATION_CUES and gap == " ") or (
                                words[j - 1][2] == "Pat" and gap == ". " and "-" not in wj  # "Pat. Rübsamen"
                            )
                            if k >= j + 2 or (relation and not short_caps(wj)):
                                start_run, end_idx = j, k
                                if relation and words[j - 1][2] == "Pat":
                                    src = "strong"  # later mentions count without a cue
                if start_run < 0:
                    i = max(j, i + 1)
                    continue
            elif (
                is_initial(i)
                and w != "I"
                and not (w == "M" and i + 1 < n and words[i + 1][2].lower() in EPONYMS)  # "M. Crohn" = Morbus
                and not (i > 0 and len(words[i - 1][2]) == 1 and words[i - 1][2].islower())
                and i + 1 < n
                and sep(i + 1) == ". "
                and words[i + 1][2][0].isupper()
                and (name_like(i + 1, "weak") or in_gaz_any(words[i + 1][2].lower()))
            ):
                # "J. Thiel", "M. Zezelj"
                k = run_from(i, "ext")
                if k > i + 1:
                    start_run, end_idx = i, k
            elif (
                (w[0].isupper() or lower_mode)
                and low in r.first
                and not r.is_plain_word(w)
                and not short_caps(w)
                and _name_shaped(w)  # not "PaCO" (PaCO2), "SpO", "HbA"
            ):
                k = run_from(i, "weak")
                if (
                    k == i + 1
                    and i + 1 < n
                    and self._line_end_after(text, words[i + 1][1])
                    and sep(i + 1) == " "
                    and words[i + 1][2][0].isupper()
                    and words[i + 1][2].lower() not in FUNCTION | TITLES
                ):
                    k = i + 2  # signature line "Ida Fuß"
                if k > i + 1 or (
                    k == i + 1 and text[e : e + 1] != "." and (len(w) >= 4 or self._short_name_ok(text, s, w))
                ):
                    start_run, end_idx = i, k
                    if k == i + 1 and i > 0 and sep(i) == " ":
                        pw = words[i - 1][2]
                        pl = pw.lower()
                        if (
                            pw[0].isupper()
                            and not short_caps(pw)
                            and not r.is_plain_word(pw)
                            and pl not in r.places
                            and pl not in TITLES
                            and pl not in FUNCTION
                            and pl not in ADDRESS_CUES
                            and pl not in WEAK_CUES
                        ):
                            start_run = i - 1  # "Çağrı Yıldız": unknown given name + known surname
                    if i > 0 and sep(i) == ", ":
                        pw = words[i - 1][2]
                        pl = pw.lower()
                        if (
                            pw[0].isupper()
                            and pl not in r.places
                            and pl not in r.first
                            and pl not in FUNCTION
                            and (
                                pw.isupper()
                                and len(pw) > 2
                                or (not r.is_plain_word(pw) and (pl in r.sur or pl in r.sur_cue))
                                or self._line_start(text, words[i - 1][0])
                            )
                        ):
                            start_run = i - 1
            elif (
                w[0].isupper()
                and (low in r.first_cue or (low in r.first and r.is_plain_word(w)))
                and i + 1 < n
                and sep(i + 1) == " "
                and not short_caps(w)
            ):
                # "Max Mustermann", "Ernst Berger": an ambiguous first name needs a surname next to it.
                nw = words[i + 1][2]
                nl = nw.lower()
                if (
                    nw[0].isupper()
                    and not short_caps(nw)
                    and nl not in FUNCTION
                    and (nl in r.sur or (not r.is_plain_word(nw) and nl not in r.places and nl not in r.first_cue))
                ):
                    k = run_from(i + 1, "ext")
                    start_run, end_idx = i, max(k, i + 2)
            elif not w[0].isupper() and low in r.first and len(low) >= 3 and not r.is_plain_word(w) and i + 1 < n:
                nxt = words[i + 1][2]
                if nxt.lower() in r.sur and not r.is_plain_word(nxt) and sep(i + 1) == " ":
                    start_run, end_idx = i, i + 2
            elif (
                w[0].isupper()
                and low in r.sur
                and not r.is_plain_word(w)
                and low not in r.places
                and len(low) >= 3
                and not short_caps(w)
                and not (len(w) <= 4 and text[e : e + 1] == ".")
                and not any(ch.isupper() for ch in w[2:])
            ):
                start_run, end_idx = i, i + 1
                # following gazetteer names only ("Baastrup Asger")
                k = i + 1
                while (
                    k < n
                    and k - i < 3
                    and sep(k) == " "
                    and words[k][2][0].isupper()
                    and in_gaz(words[k][2].lower())
                    and not r.is_plain_word(words[k][2])
                ):
                    k += 1
                end_idx = k
                # an unknown given name before it ("Helmfried Koenig")
                if i > 0 and sep(i) == " ":
                    pw = words[i - 1][2]
                    pl = pw.lower()
                    if (
                        pw[0].isupper()
                        and not short_caps(pw)
                        and not r.is_plain_word(pw)
                        and pl not in r.places
                        and pl not in TITLES
                        and pl not in FUNCTION
                        and pl not in ADDRESS_CUES
                    ):
                        start_run = i - 1
            if start_run >= 0:
                while end_idx > start_run and words[end_idx - 1][2].lower() in NAME_PARTICLES:
                    end_idx -= 1
                if end_idx > start_run:
                    ss = words[start_run][0]
                    ee = words[end_idx - 1][1]
                    if is_initial(end_idx - 1):
                        ee += 1
                    spans.append((ss, ee, src))
                    tok_idx = [
                        t
                        for t in range(start_run, end_idx)
                        if not is_initial(t) and words[t][2].lower() not in NAME_PARTICLES
                    ]
                    for ti in tok_idx:
                        tw = words[ti][2]
                        if len(tw) >= 3 and not r.is_plain_word(tw):
                            found_tokens.add(fold(tw))
                            if len(tok_idx) >= 2 or in_gaz(tw.lower()) or src == "strong":
                                multi_tokens.add(fold(tw))
                    # "Drs. Seiler und Wantzer": a second name joined by "und"
                    if (
                        src == "strong"
                        and end_idx + 1 < n
                        and words[end_idx][2] == "und"
                        and sep(end_idx) == " "
                        and sep(end_idx + 1) == " "
                        and words[end_idx + 1][2][0].isupper()
                        and words[end_idx + 1][2].lower() not in TITLES | ADDRESS_CUES
                    ):
                        spans.append((words[end_idx + 1][0], words[end_idx + 1][1], "strong"))
                        end_idx += 2
                    elif (  # "Dres. Eulenberg & Wachtel"
                        src == "strong"
                        and end_idx < n
                        and sep(end_idx) == " & "
                        and words[end_idx][2][0].isupper()
                        and not r.is_plain_word(words[end_idx][2])
                    ):
                        spans.append((words[end_idx][0], words[end_idx][1], "strong"))
                        end_idx += 1
                i = max(end_idx, i + 1)
                continue
            i += 1

        # "Geschrieben von Amadea Leber", "diktiert von ...": an author line.
        # "Liebe Vroni!", "Hallo Tom,": a salutation with a single name.
        cue_rxs = [AUTHOR_CUE]
        if any(h in text for h in _SALUTATION_HINTS):
            cue_rxs.append(SALUTATION)
        if any(q in text for q in _QUOTES):
            cue_rxs += [SPEAKER_AFTER, SPEAKER_BEFORE]  # quoted speech: „…“, sagte Lea / Lea sagte: „…“
        for rx in cue_rxs:
            for m in _scan(rx, text, ix):
                if (
                    rx is AUTHOR_CUE
                    and m.group()[:1] in "vd"
                    and not AUTHOR_VERB.search(text, max(0, m.start() - 16), m.start())
                ):
                    continue
                j = bisect_left(words, (m.end(),))  # the word starting where the cue ends
                if j == n or words[j][0] != m.end():
                    continue
                wj = words[j][2]
                lj = wj.lower()
                if not wj[0].isupper() or lj in FUNCTION | TITLES | ADDRESS_CUES | WEAK_CUES | STOP_CAPS:
                    continue
                if rx is not AUTHOR_CUE:
                    if r.is_plain_word(wj) or lj in r.places or lj in ENDEARMENTS:
                        continue
                    k = j + 1
                else:
                    k = run_from(j, "strong")
                    if k == j or not (in_gaz_any(lj) or (k >= j + 2 and not r.is_plain_word(wj))):
                        continue
                spans.append((words[j][0], words[k - 1][1], "strong"))
                for ti in range(j, k):
                    tw = words[ti][2]
                    if len(tw) >= 3 and not r.is_plain_word(tw):
                        found_tokens.add(fold(tw))
                        multi_tokens.add(fold(tw))
        # "M. wird vorgestellt": the initial of a person named earlier, as the sentence subject.
        first_initials = {
            text[ss]
            for ss, ee, _src in spans
            if " " in text[ss:ee].strip() and text[ss : ss + 2].isalpha() and text[ss].isupper()
        }
        for m in INITIAL_SUBJECT.finditer(text) if first_initials else ():
            nxt = m.group("next").lower()
            if m.group("ini") in first_initials and self._sentence_start(text, m.start()) and (
                nxt in r.common or nxt in FUNCTION or (nxt.endswith(("t", "te", "ten", "en")) and not r.is_lexicon(nxt))
            ):
                spans.append((m.start("ini"), m.end("ini") + 1, "initial"))
        for cue in _scan(BIRTH_NAME_CUE, text, ix):
            window_start = max(0, cue.start() - 80)
            m = BIRTH_NAME.search(text, window_start, cue.end())
            if m is None:
                continue
            toks = m.group("name").split()
            ss = m.start("name")
            # drop leading cue words ("Patientin", "Frau")
            while toks and (
                toks[0].lower().rstrip(".") in WEAK_CUES | ADDRESS_CUES | TITLES | FUNCTION
                or (r.is_plain_word(toks[0].rstrip(".")) and not toks[0].endswith(","))
            ):
                ss = text.index(toks[0], ss) + len(toks[0])
                while ss < len(text) and text[ss] in " ,\t":
                    ss += 1
                toks = toks[1:]
            toks = [t.rstrip(",") for t in toks]
            if toks and all(not r.is_lexicon(t.rstrip(".")) for t in toks):
                spans.append((ss, m.end("name"), "strong"))
                for t in toks:
                    if len(t) >= 3:
                        found_tokens.add(fold(t))
                        multi_tokens.add(fold(t))

        for ss, ee, src in spans:
            c.append((7 if src == "strong" else 8, ss, ee, "PERSON", src))
        # Coreference: later mentions of detected or known name tokens.
        if not coref:
            return
        keys: dict[str, bool] = {k: True for k in person_keys}
        for t in found_tokens:
            strong_key = t in multi_tokens
            for suf in ("",) + _INFLECT:
                if keys.get(t + suf) is not True:
                    keys[t + suf] = strong_key
        if keys:
            initials = {k[0] for k in keys if k}

            def is_key(w: str) -> bool:
                if len(w) < 2 or (not lower_mode and not w[0].isupper()):
                    return False
                fw = w.lower() if w.isascii() else fold(w)
                return fw[0] in initials and fw in keys

            for k in ix.indices(w for w in ix.at if is_key(w)):
                s, e, w = words[k]
                fw = w.lower() if w.isascii() else fold(w)
                cued = self._cued(text, s)
                if not cued and (
                    r.is_plain_word(w)
                    or any(
                        fw.endswith(suf) and r.is_plain_word(w[: -len(suf)])
                        for suf in _INFLECT
                        if len(w) > len(suf) + 2
                    )
                ):
                    continue  # "des linken Fußes" after a Dr. Fuß: the word, not the name
                if not keys[fw] and not cued:
                    continue
                c.append((9, s, e, "PERSON", "coref"))

    @staticmethod
    def _line_end_after(text: str, e: int) -> bool:
        rest = text[e : e + 40]
        return bool(re.match(r"[ \t]*(?:\n|$|,[ \t]*(?:Dr|Prof|PD|MD|M\.|B\.|Dipl))", rest))

    @staticmethod
    def _valid_title(text: str, words: list[tuple[int, int, str]], j: int, titles: int) -> bool:
        """Short abbreviations only count as titles in their usual form ("Dr. X", "OA Dr. X")."""
        s, e, w = words[j]
        lw = w.lower()
        nxt = text[e : e + 2]
        if lw in (
            "fr",
            "hr",
            "hrn",
            "dr",
            "drs",
            "dres",
            "prof",
            "doz",
            "mag",
            "ass",
            "priv",
            "univ",
            "dipl",
            "ing",
            "prim",
            "gez",
            "med",
            "mult",
            "univers",
            "univer",
            "ddr",
            "dent",
            "rer",
            "nat",
            "phil",
        ):
            return nxt[:1] == "." and nxt != ".:" or (lw == "dr" and nxt[:1] in (" ", "ª"))
        if w.isupper() and len(w) <= 4:  # PD, OA, OÄ, FA, SR, DGKS
            if titles:
                return True
            following = text[e : e + 6]
            return bool(re.match(r"[ \t]+(?:Dr|Prof|Doz|Priv|PD|Univ)", following))
        return True

    @staticmethod
    def _short_name_ok(text: str, s: int, w: str) -> bool:
        """Three-letter given names ("Tim", "Mia") alone: not after numbers or abbreviations ("137 Uli")."""
        if len(w) != 3 or not (w[0].isupper() and w[1:].islower()):
            return False
        k = s - 1
        while k >= 0 and text[k] in " \t":
            k -= 1
        return k < 0 or not (text[k].isdigit() or text[k] == ".")

    @staticmethod
    def _sentence_start(text: str, s: int) -> bool:
        k = s - 1
        while k >= 0 and text[k] in " \t\ufeff":
            k -= 1
        return k < 0 or text[k] in "\n.!?:"

    @staticmethod
    def _line_start(text: str, s: int) -> bool:
        k = s - 1
        while k >= 0 and text[k] in " \t\ufeff":
            k -= 1
        return k < 0 or text[k] == "\n"

    @staticmethod
    def _cued(text: str, s: int) -> bool:
        before = text[max(0, s - 12) : s].lower()
        return bool(re.search(r"(?:herr|herrn|frau|fr\.|hr\.|dr\.|prof\.)\s+$", before))

    # ------------------------------------------------------------------
    def _places_orgs(
        self,
        text: str,
        ix: _Words,
        c: list[tuple[int, int, int, str, str]],
        lower_mode: bool = False,
        places: bool = True,
    ) -> None:
        """Organizations; with `places` also places (priority 10) and professions (11)."""
        r = self.r
        words = ix.words
        n = len(words)
        # Only a capitalized place-list word or a hyphenated one ("Leipzig-Gohlis") can start a place.
        can_start = bytearray(n)
        for k in ix.indices(
            w for w, low in ix.lower.items() if w[0].isupper() and (low in r.places or low in r.place_words or "-" in w)
        ):
            can_start[k] = 1
        i = 0 if places else n
        while i < n:
            if not can_start[i]:
                i += 1
                continue
            s, e, w = words[i]
            if w[0].isupper():
                low = w.lower()
                if low in r.places or low in r.place_words:
                    # Longest match over following words.
                    best = 0
                    for k in range(min(r.max_place_len, n - i), 0, -1):
                        seg = text[s : words[i + k - 1][1]].replace("İ", "I")
                        if "\n" in seg:
                            continue
                        if seg.lower() in r.places:
                            best = k
                            break
                    if best and not (best == 1 and r.is_plain_word(w)):
                        # A place that is also a person name is left to context.
                        if not (
                            best == 1 and (low in r.first or low in r.first_cue) and not self._place_context(text, s)
                        ):
                            ps = s
                            if (
                                i > 0
                                and words[i - 1][2] in ("Bad", "Sankt", "St")
                                and text[words[i - 1][1] : s] in (" ", ". ")
                            ):
                                ps = words[i - 1][0]  # "Bad Homburg", "St. Pölten"
                            c.append((10, ps, words[i + best - 1][1], "LOCATION", "gazetteer"))
                            i += best
                            continue
                elif "-" in w:
                    # A town with its district: "Leipzig-Gohlis", "Berlin-Mitte", "Hamburg-Altona".
                    head, _, rest = low.partition("-")
                    if head in r.places and rest[:1] and w[len(head) + 1].isupper() and not r.is_plain_word(head):
                        c.append((10, s, e, "LOCATION", "gazetteer"))
            i += 1
        for m in _scan(PLACE_CUE, text, ix) if places else ():
            s, e = m.start("place"), m.end("place")
            place = m.group("place")
            first = place.split()[0]
            cue = m.group(0)[: m.start("place") - m.start()].strip().lower()
            known = self._place_at(place)
            if known:
                words_ = place.split()[:known]
                c.append((10, s, s + len(" ".join(words_)), "LOCATION", "cue"))
                continue
            if first.lower() in r.places_cue and cue not in ("bei", "nach", "aus", "in", "von", "raum", "nahe"):
                c.append((10, s, s + len(first), "LOCATION", "cue"))
                continue
            if cue in ("bei", "nach", "aus", "in", "von", "raum", "nahe", "im raum", "aus dem raum"):
                if cue in ("im raum", "aus dem raum", "raum") and not r.is_plain_word(first):
                    c.append((10, s, s + len(first), "LOCATION", "cue"))
                continue
            if r.is_plain_word(first) or first.lower() in r.first or first.lower() in P.MONTH_NUM:
                continue
            if first.isupper() and len(first) <= 4:
                continue
            c.append((10, s, s + len(first), "LOCATION", "cue"))
        for m in DATELINE.finditer(text) if places else ():
            place = m.group("place")
            first = place.split()[0]
            # "Neustadt, den 12.03.2025" -- a letter's place-and-date line.  Only clinical
            # terms and a few header words are excluded; a common noun can be a town.
            if (
                r.is_lexicon(first)
                or first.lower() in FUNCTION
                or first.lower() in P.MONTH_NUM
                or first.lower() in DATELINE_WORDS
            ) and self._place_at(place) == 0:
                continue
            s = m.start("place")
            c.append((10, s, s + len(place), "LOCATION", "dateline"))
        # Organizations.
        legal = []
        for h in _scan(LEGAL_HINT, text, ix):
            m = ORG_LEGAL.search(text, max(0, h.start() - 90), h.end())
            while m is not None and m.end() < h.end():
                m = ORG_LEGAL.search(text, m.end(), h.end())
            if m is not None:
                legal.append(m)
        for m in legal:
            s = m.start()
            words_ = m.group().split()
            while words_ and words_[0].lower() in STOP_CAPS | {"die", "der", "das", "bei", "für"}:
                s += len(words_[0]) + 1
                words_ = words_[1:]
            if len(words_) >= 2:
                c.append((6, s, m.end(), "ORGANIZATION", "legal"))
        for m in _scan(UNI_PLACE, text, ix):
            if self._place_at(m.group("place")) > 0:
                c.append((6, m.start(), m.end(), "ORGANIZATION", "org"))
        for m in _scan(INSURERS, text, ix) if any(w in INSURER_WORDS for w in ix.at) else ():
            c.append((6, m.start(), m.end(), "ORGANIZATION", "insurer"))
        org_spans: list[tuple[int, int]] = []
        # Only an organization head or a hyphenated word ("Helios-Klinikum") can start one.
        for i in ix.indices(w for w, low in ix.lower.items() if low in ORG_HEADS or self._org_head(low) or "-" in w):
            s, e, w = words[i]
            low = w.lower()
            if not w[0].isupper():
                # Dictation without capitals: a head followed by a known place ("sparkasse köln").
                if lower_mode and low in ORG_HEADS and i + 1 < n and text[e : words[i + 1][0]] == " ":
                    k = self._place_at(text[words[i + 1][0] : words[i + 1][1] + 40])
                    if k:
                        org_spans.append((s, words[i + k][1]))
                continue
            is_head = self._org_head(low)
            hyph = "-" in w and ORG_SUFFIX_RE.search(low.rsplit("-", 1)[-1]) is not None
            if not is_head and not hyph:
                continue
            # Proper words after the head: "Klinikum Nord", "Krankenhaus der Samariter Holzhausen",
            # chained heads: "Klinik für Allgemeinchirurgie des Diakonissenkrankenhauses Bärental",
            # "Landesnervenklinik der Medizinischen Hochschule Bad Blumenthal".
            j = i + 1
            last = i
            last_head = i
            proper = False
            after_fuer = specialty = False
            while j < n and j - last_head <= 7:
                gap = text[words[j - 1][1] : words[j][0]]
                if (
                    gap not in (" ", "  ", " \n", "\n", " - ", "-", ". ")
                    and not (gap == "- " and words[j][2] in ("und", "oder"))  # "Kinder- und Jugendpsychiatrie"
                    or (gap == ". " and words[j - 1][2].lower() not in TITLES)
                    or (
                        gap == "\n"
                        and not (w.isupper() and j == i + 1)
                        and not self._org_line(words[j][2])
                        and words[j][2] not in ("der", "des")
                    )
                ) and not (
                    gap.strip() == ""
                    and "\n" in gap
                    and words[j][2][0].isupper()
                    and j == i + 1
                    and (self._place_at(text[words[j][0] : words[j][1] + 30]) > 0)
                ):
                    break
                wj = words[j][2]
                lj = wj.lower()
                if lj in ORG_LINKS and j + 1 < n:
                    after_fuer = lj == "für"
                    j += 1
                    continue
                if lj == "und" and after_fuer and j + 1 < n and words[j + 1][2][0].isupper():
                    j += 1
                    continue
                if (
                    (lj in ("bad", "sankt", "st") or (lj in TITLES and lj not in PERSONAL_ADDRESS))
                    and j + 1 < n
                    and words[j + 1][2][0].isupper()
                ):  # "Praxis Dr. Kropka" -- but "Jugendamt Frau Kowalczyk" is a person
                    j += 1
                    continue
                if not wj[0].isupper():
                    break
                if after_fuer and (lj.endswith(SPECIALTY_ENDINGS) or r.is_lexicon(wj)):
                    j += 1  # "Praxis für Allgemeinmedizin Reinhardt": the specialty belongs to the name
                    specialty = True
                    continue
                if specialty and "\n" in gap:
                    break  # "Klinik für Innere Medizin" ends its line
                after_fuer = specialty = False
                if self._org_head(lj):
                    last_head = j  # a second head joins the chain
                    last = j
                    j += 1
                    continue
                if (
                    lj in COMPASS
                    or lj in r.places_cue  # an ambiguous town ("Halle", "Essen"): the head is its cue
                    or self._place_at(text[words[j][0] : words[j][1] + 40]) > 0
                    or (
                        not r.is_plain_word(wj)
                        and not lj.endswith(("ung", "ie", "ik", "logie", "medizin", "chirurgie"))
                        and lj not in TITLES
                        and lj not in r.common
                    )
                    or wj.isupper()
                    and len(wj) > 3
                    and lj not in r.lexicon
                    or (low in HOSPITALITY_HEADS and words[j - 1][2].lower() in ("zur", "zum"))
                    or (words[j - 1][2].lower() in ("am", "im", "an", "auf", "der") and lj in TOPO_NOUNS)
                    or (j == i + 1 and gap == " " and self._town_after_hospital(text, low, j, words))
                ):
                    last = j
                    proper = True
                    j += 1
                    continue
                if (
                    gap == " "
                    and j + 1 < n
                    and self._org_head(words[j + 1][2].lower())
                    and text[words[j][1] : words[j + 1][0]] == " "
                ):
                    j += 1  # an adjective before a head: "der Medizinischen Hochschule"
                    continue
                break
            has_proper_prefix = hyph and any(
                p[:1].isupper() and not r.is_plain_word(p) and p.lower() not in ORG_HEADS for p in w.split("-")[:-1]
            )
            if last == i and low in ("kita", "kindergarten", "kinderkrippe", "krippe", "hort") and i + 1 < n:
                nw = words[i + 1][2]
                if (
                    nw[0].isupper()
                    and text[e : words[i + 1][0]] == " "
                    and not r.is_lexicon(nw)
                    and nw.lower() not in FUNCTION
                ):
                    last = i + 1  # "Kita Sonnenschein"
                    proper = True
            if last > i and (proper or has_proper_prefix):
                org_spans.append((s, words[last][1]))
            elif has_proper_prefix:
                org_spans.append((s, e))
        # Acronym + town: "im ÖHK Mühlhausen", "UKE Hamburg", "LVR Köln".
        acronyms = ix.indices(
            w
            for w, low in ix.lower.items()
            if 2 <= len(w) <= 5
            and w.isupper()
            and w not in r.lexicon_caps
            and w not in NOT_ORG_ACRONYMS
            and low not in r.common
        )
        for i in acronyms:
            s, e, w = words[i]
            if i < n - 1 and text[e : words[i + 1][0]] == " ":
                k = self._place_at(text[words[i + 1][0] : words[i + 1][1] + 40])
                if k:
                    org_spans.append((s, words[i + k][1]))
        org_spans.sort()
        merged: list[list[int]] = []
        for s, e in org_spans:
            if merged and s < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        for s, e in merged:
            pre = ORG_SAINT.search(text, max(0, s - 8), s)
            if pre is not None:
                s = pre.start()  # "St.-Marien-Krankenhaus", "Sankt-Georg-Klinik"
            # A letterhead's unit after a comma: "Landeskrankenhaus Neustadt, Epilepsie-Einheit".
            if self._line_start(text, s):
                m = ORG_UNIT_TAIL.match(text, e)
                if m is not None:
                    e = m.end()
            c.append((6, s, e, "ORGANIZATION", "org"))
        for m in _scan(CLUB, text, ix):
            parts = m.group().split()
            if len(parts) >= 2 and (parts[1][0].isdigit() or not self.r.is_plain_word(parts[1])):
                c.append((6, m.start(), m.end(), "ORGANIZATION", "org"))
        for m in _scan(WARD_NAME, text, ix) if any(h in text for h in (" Süd", " Nord", " Ost", " West")) else ():
            c.append((6, m.start("ward"), m.end("ward"), "ORGANIZATION", "ward"))
        for m in _scan(EMPLOYER_CUE, text, ix):
            if m.group("prep") not in ("bei", ":"):
                continue  # "arbeitet im Schichtdienst": too often a plain noun
            org = re.split(r"\.(?=\s|$)|[,;]", m.group("org"))[0]
            first = org.split()[0].rstrip(".")
            org_words = org.split()
            if first.lower() in ORG_HEADS:
                # "bei der Bäckerei Sonnenschein": a head and its name; a head alone is no employer.
                if len(org_words) < 2 or r.is_lexicon(org_words[1]) or org_words[1].lower() in FUNCTION:
                    continue
            elif r.is_lexicon(first) or first.lower() in FUNCTION or first.lower() in r.first:
                continue
            if m.group("prep") != "bei" and r.is_plain_word(first):
                continue
            if self._place_at(org) == len(org.split()):
                continue
            c.append((7, m.start("org"), m.start("org") + len(org), "ORGANIZATION", "cue"))
        # Professions (masked at level thorough only).
        professions = (
            w for w, low in ix.lower.items() if w[0].isupper() and low in r.professions and not r.is_lexicon(w)
        )
        for k in ix.indices(professions) if places else ():
            s, e, w = words[k]
            c.append((11, s, e, "PROFESSION", "gazetteer"))
        for m in _scan(PROFESSION_CUE, text, ix) if places else ():
            c.append((11, m.start("prof"), m.end("prof"), "PROFESSION", "cue"))

    @staticmethod
    def _org_head(low: str) -> bool:
        return low in ORG_HEADS or (len(low) > 8 and low.endswith(ORG_SUFFIXES))

    @staticmethod
    def _org_line(word: str) -> bool:
        """A letterhead continuation line: "Akademisches Lehrkrankenhaus", "Lehrkrankenhaus der ..."."""
        low = word.lower()
        return low in ("akademisches", "akademische", "lehrkrankenhaus", "universitätsklinikum", "klinikum")

    def _town_after_hospital(self, text: str, head: str, j: int, words: list[tuple[int, int, str]]) -> bool:
        """ "Landeskrankenhaus Neustadt," -- a town name that is also an ordinary word, right after a
        hospital head and ending the phrase (comma, line end, full stop); the head opens a line
        (letterhead) or the word has the shape of a German place name (-stadt, -dorf, -hausen ...)."""
        if not head.endswith(HOSPITAL_ENDINGS):
            return False
        s, e, w = words[j]
        low = w.lower()
        if not (self._line_start(text, words[j - 1][0]) or low.endswith(PLACE_ENDINGS)):
            return False
        if (
            len(w) < 4
            or self.r.is_lexicon(w)
            or low in FUNCTION
            or low in STOP_CAPS
            or low in P.MONTH_NUM
            or low.endswith(NOUN_ENDINGS)
        ):
            return False
        return re.match(r"[ \t]*(?:[,;]|\r?\n|$|\.(?:\s|$))", text[e : e + 3]) is not None

    @staticmethod
    def _place_context(text: str, s: int) -> bool:
        return bool(re.search(r"(?:\bin|\baus|\bnach|\bvon|\d{4,5})\s+$", text[max(0, s - 10) : s]))

    # ------------------------------------------------------------------
    def _resolve(self, text: str, cands: list[tuple[int, int, int, str, str]]) -> list[Entity]:
        """Keep non-overlapping candidates: higher priority first, then longer."""
        cands.sort(key=lambda x: (x[0], -(x[2] - x[1]), x[1]))
        occ = bytearray(len(text) + 1)
        kept: list[tuple[int, int, str, str]] = []
        lex = self.r
        for _prio, s, e, label, src in cands:
            if e <= s or occ.find(1, s, e) != -1:
                continue
            if src not in (
                "strong",
                "coref",
                "regex",
                "zip",
                "kvnr",
                "iban",
                "rvnr",
                "number",
                "year",
            ) and lex.is_lexicon(text[s:e]):
                continue  # the clinical lexicon is never masked on its own
            occ[s:e] = b"\x01" * (e - s)
            kept.append((s, e, label, src))
        kept.sort()
        return [Entity(s, e, label, text[s:e], source=src) for s, e, label, src in kept]


def _matches_after(rx: re.Pattern[str], text: str, literal: str):  # type: ignore[no-untyped-def]
    """Exactly rx.finditer(text) for a regex whose every match begins right after `literal`
    (a lookbehind): tried only there, found with str.find."""
    return P.matches_at(rx, text, [p + len(literal) for p in P.find_all(text, literal)])


# Below this length a plain scan is as fast as finding where to try.
_SCAN_MIN = 1000


@dataclass(frozen=True)
class _Heads:
    """patterns.Heads prepared for _scan."""

    keys: tuple[str, ...]  # first two characters of the heads at a word start
    finds: tuple[tuple[str, int], ...]  # other heads, and where the match begins after them
    number: bool

    @classmethod
    def of(cls, heads: P.Heads) -> _Heads:
        finds = [(h, 0) for h in heads.anywhere] + [(h, len(h)) for h in heads.after]
        return cls(tuple(sorted({h[:2] for h in heads.word})), tuple(finds), heads.number)


def _scan(rx: re.Pattern[str], text: str, ix: _Words):  # type: ignore[no-untyped-def]
    """Exactly rx.finditer(text), but tried only where a match can begin (patterns.literal_heads):
    heads at a word start are looked up in ix.letter_starts(), digits in ix.number_starts(), the
    other heads found with str.find."""
    if len(text) < _SCAN_MIN:
        return rx.finditer(text)
    if rx in _STARTS:
        return P.matches_at(rx, text, _STARTS[rx](text))
    heads = _HEADS.get(rx)
    if heads is None:
        return rx.finditer(text)
    if heads.number and not (heads.keys or heads.finds):
        return P.matches_at(rx, text, ix.number_starts(text))
    index = ix.letter_starts(text)
    starts = {p for key in heads.keys for p in index.get(key, ())}
    if heads.number:
        starts.update(ix.number_starts(text))
    for h, offset in heads.finds:
        starts.update(p + offset for p in P.find_all(text, h))
    return P.matches_at(rx, text, sorted(starts))


_EMAIL_CHAR = re.compile(r"[\w.+-]")
_HOST_CHAR = re.compile(r"[\w.-]")
_FIELD_CHAR = re.compile(r"[a-zäöüß]")


def _email_starts(text: str) -> list[int]:
    r"""P.EMAIL begins where the run of [\w.+-] before an "@" does (its look-behind excludes them)."""
    return sorted(set(P.run_starts(_EMAIL_CHAR, text, P.find_all(text, "@"))))


def _url_starts(text: str) -> list[int]:
    r"""P.URL begins at "http://", "https://" or "www." (in any case), or where the run of [\w.-]
    that reaches a dot before a top-level domain begins (a host has no other characters and its
    look-behind excludes them)."""
    starts = {m.start() for m in P.WWW.finditer(text)}
    for p in P.find_all(text, "://"):
        starts.update(q for q in (p - 4, p - 5) if q >= 0)
    starts.update(P.run_starts(_HOST_CHAR, text, [m.start() for m in P.DOT_TLD.finditer(text)]))
    return sorted(starts)


_BLANK = re.compile(r"[ \t]")
_NAME_CHAR = re.compile(r"[\w'’-]")
_salutation_words = P.literal_heads(re.compile(_SALUTATION_WORDS))
assert _salutation_words is not None  # a branch of words
_SALUTATION_HEADS = _salutation_words.word + _salutation_words.anywhere
_SPEECH_COLON_RX = re.compile(_SPEECH_COLON)


def _salutation_starts(text: str) -> list[int]:
    """SALUTATION begins at a line start or after a punctuation mark, then only blanks up to its
    word: where the run of blanks before an occurrence of the word begins."""
    words = sorted({p for h in _SALUTATION_HEADS for p in P.find_all(text, h)})
    return sorted(set(P.run_starts(_BLANK, text, words)))


def _speaker_before_starts(text: str) -> list[int]:
    """SPEAKER_BEFORE (empty) matches at the start of the name before blanks and "sagte: „"."""
    colons = [m.start() for m in _SPEECH_COLON_RX.finditer(text)]
    return sorted(set(P.run_starts(_NAME_CHAR, text, P.run_starts(_BLANK, text, colons))))


def _number_field_starts(text: str) -> list[int]:
    """P.GENERIC_NUMBER_CUE begins at the capital before the lower-case run that ends at one of
    its suffixes ("Vorgangsnummer", "Eingangs-Nr")."""
    ends = sorted({p for suffix in ("-Nr", "nummer", "-Nummer") for p in P.find_all(text, suffix)})
    return sorted({q - 1 for q in P.run_starts(_FIELD_CHAR, text, ends) if q > 0})


def _name_shaped(w: str) -> bool:
    """Capitalized like a name: "Anna", "Anna-Lena", "ANNA", "anna" -- not "PaCO" or "SpO"."""
    if w.isupper() or w.islower():
        return True
    return all(not any(ch.isupper() for ch in part[1:]) for part in re.split(r"[-'’]", w))


# Whole-text scans that _scan() may restrict to their literal heads (a literal head never matches
# the empty string, which patterns.matches_at relies on).
_HEADS = {
    rx: _Heads.of(heads)
    for rx in (
        P.PHONE_CUE,
        P.ID_CUE,
        P.PLATE,
        P.SOCIAL_CUE,
        P.NORM,
        P.STREET_PREP,
        P.AGE_SELF,
        PLACE_CUE,
        EMPLOYER_CUE,
        PROFESSION_CUE,
        UNI_PLACE,
        INSURERS,
        LEGAL_HINT,
        WARD_NAME,
        BIRTH_NAME_CUE,
        AUTHOR_CUE,
        SPEAKER_AFTER,
        CLUB,
        P.PHONE,
        P.RVNR,
        P.CASE_NUMBER,
        P.FILE_NUMBER,
        P.LONG_NUMBER,
        P.DATE_NUM,
        P.YEAR,
        P.AGE_YEARS,
        P.AGE_ALT,
        P.AGE_PAREN,
    )
    if (heads := P.literal_heads(rx)) is not None
}
# Scans whose possible starts are found by hand (their patterns open with a wide class).
_STARTS = {
    P.EMAIL: _email_starts,
    P.URL: _url_starts,
    P.GENERIC_NUMBER_CUE: _number_field_starts,
    SALUTATION: _salutation_starts,
    SPEAKER_BEFORE: _speaker_before_starts,
}
