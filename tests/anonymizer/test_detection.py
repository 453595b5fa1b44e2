"""Detection rules for letterheads, wards, author lines, salutations and initials.

The examples are written for these tests (invented names and places); they exercise
the general rules, not any one benchmark letter.
"""

from __future__ import annotations

import pytest

from anonymizer import Anonymizer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a letterhead over several lines is one organization
        (
            "Kreisklinikum Eberstadt\nAkademisches Lehrkrankenhaus\nder Universität Heidelberg\n\n"
            "Sehr geehrte Frau Kollegin,",
            "[ORGANISATION_1]\n\nSehr geehrte Frau Kollegin,",
        ),
        ("St.-Marien-Krankenhaus Lahnstein\nText", "[ORGANISATION_1]\nText"),
        # a department of a named hospital, chained by "des"/"der"
        ("Klinik für Kinder- und Jugendpsychiatrie des Elisabeth-Krankenhauses Halle", "[ORGANISATION_1]"),
        ("Tagesklinik der Evangelischen Hochschule Freiburg", "[ORGANISATION_1]"),
        ("Praxis für Psychotherapie Hellwig", "[ORGANISATION_1]"),
        # a town that is also an ordinary word, in a letterhead, with its unit after a comma
        ("Kreiskrankenhaus Birkenfeld, Psychiatrische Ambulanz\n", "[ORGANISATION_1]\n"),
        ("Er lag im Krankenhaus Neustadt.", "Er lag im [ORGANISATION_1]."),
        # acronym + town
        ("Sie war zuvor im UKE Hamburg.", "Sie war zuvor im [ORGANISATION_1]."),
        # wards
        ("Übernahme von der 2 West.", "Übernahme von der [ORGANISATION_1]."),
        ("Station: 4 Psychosomatik A\nZimmer: 12", "Station: [ID_1] Psychosomatik [ID_2]\nZimmer: [ID_3]"),
        # certification numbers in letterheads
        ("Zertifiziert nach DIN EN ISO 9001:2015 und DIN EN 15224", "Zertifiziert nach [ID_1] und [ID_2]"),
        # hospitality and employers
        ("Er arbeitet im Gasthof Zum Hirschen.", "Er arbeitet im [ORGANISATION_1]."),
        (
            "sie arbeitet bei der sparkasse hannover seit zwei jahren und ist müde",
            "sie arbeitet bei der [ORGANISATION_1] seit zwei jahren und ist müde",
        ),
        ("Sie wohnt jetzt in einer WG in Leipzig-Gohlis.", "Sie wohnt jetzt in einer WG in [ORT_1]."),
        ("Er wohnt im Seniorenheim Abendrot.", "Er wohnt im [ORGANISATION_1]."),
        ("Eingangs-Nr. 55/2024, Vorgangsnummer: A-1182", "Eingangs-Nr. [ID_1], Vorgangsnummer: [ID_2]"),
        ("Er spielt beim FC Rot-Weiß Erfurt.", "Er spielt beim [ORGANISATION_1]."),
        ("Sie geht in die Grundschule am Park.", "Sie geht in die [ORGANISATION_1]."),
        # people: author lines, salutations, a subject initial
        ("Termin mit Jugendamt Frau Kowalczyk.", "Termin mit Jugendamt Frau [PERSON_1]."),
        ("Klient (Mustafa, 34) kommt aus Aleppo.", "Klient ([PERSON_1], 30-35) kommt aus [ORT_1]."),
        ("Kopie an: Dres. Eulenberg & Wachtel", "Kopie an: Dres. [PERSON_1] & [PERSON_2]"),
        (
            "Dr. Ida Fuß kam. Schwellung des linken Fußes; Frau Fuß. PaCO2 38 mmHg, SpO2 97 %.",
            "Dr. [PERSON_1] kam. Schwellung des linken Fußes; Frau [PERSON_1]. PaCO2 38 mmHg, SpO2 97 %.",
        ),
        ("Diktiert von Kerstin Mahlmann", "Diktiert von [PERSON_1]"),
        (
            "Pat. Rübsamen klagt über Kopfschmerzen. Rübsamen wurde mobilisiert.",
            "Pat. [PERSON_1] klagt über Kopfschmerzen. [PERSON_1] wurde mobilisiert.",
        ),
        ("„Du schaffst das“, meinte Yusuf.", "„Du schaffst das“, meinte [PERSON_1]."),
        ("Joscha sagte: „Ich kann nicht mehr.“", "[PERSON_1] sagte: „Ich kann nicht mehr.“"),
        ("Liebe Fritzi,\ndanke für deine Nachricht.", "Liebe [PERSON_1],\ndanke für deine Nachricht."),
        (
            "Die Patientin Nora Feldmann, 34 Jahre. N. berichtet über Panik.",
            "Die Patientin [PERSON_1], 30-35 Jahre. [PERSON_1] berichtet über Panik.",
        ),
    ],
)
def test_it_finds_organizations_wards_and_people(anon: Anonymizer, text: str, expected: str) -> None:
    result = anon.anonymize(text)
    assert result.text == expected
    assert anon.restore(result.text, result.mapping) == text


def test_unicode_names_from_several_languages(anon: Anonymizer) -> None:
    text = (
        "Frau Gülşen Öztürk (ğ, ş, ı), Herr Łukasz Wróbel und Herr Çağrı Doğan 🧠\r\n"
        "Grüße, Jörg Weiß\r\n"
    )
    result = anon.anonymize(text)
    for name in ("Gülşen", "Öztürk", "Łukasz", "Wróbel", "Çağrı", "Doğan", "Jörg", "Weiß"):
        assert name not in result.text
    assert "(ğ, ş, ı)" in result.text and "🧠\r\n" in result.text
    assert anon.restore(result.text, result.mapping) == text


def test_literal_placeholders_of_every_kind_are_escaped(anon: Anonymizer) -> None:
    text = "Die Vorlage enthält [PLATZHALTER_1], [PERSON_1] und ORT_2. Herr Çağrı Doğan kam."
    result = anon.anonymize(text)
    assert result.text == (
        "Die Vorlage enthält [PLATZHALTER_1], [PLATZHALTER_2] und [PLATZHALTER_3]. Herr [PERSON_1] kam."
    )
    assert anon.restore(result.text, result.mapping) == text
    # an LLM answer that uses both: the literal comes back literally, the person as the name
    answer = "[PERSON_1] fragte nach [PLATZHALTER_2]."
    assert anon.restore(answer, result.mapping) == "Çağrı Doğan fragte nach [PERSON_1]."


def test_residual_risk_blocks_rv_number_and_iban_but_not_placeholders(anon: Anonymizer) -> None:
    text = "[PERSON_1] (IBAN DE89 3704 0044 0532 0130 00, RV-Nummer 12 150380 B 123) aus [ORT_1]."
    risks = anon.residual_risk(text)
    assert [(e.label, e.severity) for e in risks] == [("ID", "block"), ("ID", "block")]
    assert risks[0].text.startswith("DE89") and "150380" in risks[1].text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aufenthalt vom 4. bis 18.10.21", "Aufenthalt vom [DATUM_1] bis [DATUM_2]"),
        ("vom 2. bis zum 7.10.2021", "vom [DATUM_1] bis zum [DATUM_2]"),
        ("Chemotherapie 03-06/2022", "Chemotherapie [DATUM_1]-[DATUM_2]"),
        ("am 21. und 23.04.2028", "am [DATUM_1] und [DATUM_2]"),
        ("Bericht:\n03/2020 Verlaufskontrolle", "Bericht:\n[DATUM_1] Verlaufskontrolle"),
        # scores and session counters next to a range stay
        ("GAD-7 12 - 14.03.2024", "GAD-7 12 - [DATUM_1]"),
        ("PHQ-9 von 15 und 12.03.2024", "PHQ-9 von 15 und [DATUM_1]"),
        ("Sitzung 3-4/12 und Sitzung 10/24", "Sitzung 3-4/12 und Sitzung 10/24"),
    ],
)
def test_date_ranges_at_level_thorough(anon_thorough: Anonymizer, text: str, expected: str) -> None:
    result = anon_thorough.anonymize(text)
    assert result.text == expected
    assert anon_thorough.restore(result.text, result.mapping) == text


def test_minimal_level_masks_every_kind_of_id(anon_minimal: Anonymizer) -> None:
    text = (
        "KVNR A123456789, IBAN DE89 3704 0044 0532 0130 00, RV-Nummer 12 150380 B 123, "
        "Personalausweis L01X00T47, Fallnummer 2024-0815, Kennzeichen B-AB 1234, Aktenzeichen 4 F 112/24."
    )
    assert anon_minimal.anonymize(text).text == (
        "KVNR [ID_1], IBAN [ID_2], RV-Nummer [ID_3], Personalausweis [ID_4], Fallnummer [ID_5], "
        "Kennzeichen [ID_6], Aktenzeichen [ID_7]."
    )
