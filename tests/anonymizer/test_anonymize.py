from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from anonymizer import LABELS, Anonymizer, Entity, Mapping
from anonymizer.entities import LEVELS

SEED = (
    "Max Mustermann, 45 Jahre, wohnt in Berlin, max@email.de, Diagnose F32.1 "
    "(mittelgradige depressive Episode), PHQ-9: 15"
)
SEED_OUT = (
    "[PERSON_1], 45-50 Jahre, wohnt in [ORT_1], [EMAIL_1], Diagnose F32.1 (mittelgradige depressive Episode), PHQ-9: 15"
)


def test_it_anonymizes_the_seed_example_exactly(anon: Anonymizer) -> None:
    result = anon.anonymize(SEED)
    assert result.text == SEED_OUT
    assert anon.restore(result.text, result.mapping) == SEED


def test_it_reports_entities_with_offsets(anon: Anonymizer) -> None:
    ents = anon.analyze(SEED)
    assert all(isinstance(e, Entity) for e in ents)
    assert all(SEED[e.start : e.end] == e.text for e in ents)
    assert {e.label for e in ents} == {"PERSON", "AGE", "LOCATION", "EMAIL"}
    assert all(e.label in LABELS for e in ents)


def test_it_loads_the_data_once_and_shares_it(anon: Anonymizer) -> None:
    # Construction time itself is measured by bench/anonymizer_bench.py (load, fresh interpreter).
    again = Anonymizer(level="thorough")
    assert again.resources is anon.resources
    assert len(anon.resources.first) > 5000 and len(anon.resources.lexicon) > 900


def test_its_core_imports_neither_django_nor_spacy() -> None:
    code = (
        "import sys; from anonymizer import Anonymizer; a = Anonymizer(); a.anonymize('Herr Jonas Becker'); "
        "print(sorted(m for m in ('django', 'spacy') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "DUKTUS_ANONYMIZER_SPACY_MODEL"}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_it_ignores_a_missing_spacy_model() -> None:
    a = Anonymizer(spacy_model="de_no_such_model")
    assert a.detector.extra_ner is None
    assert a.anonymize(SEED).text == SEED_OUT


def test_it_rejects_unknown_levels() -> None:
    with pytest.raises(ValueError):
        Anonymizer(level="paranoid")


def test_it_handles_empty_text(anon: Anonymizer) -> None:
    assert anon.analyze("") == []
    result = anon.anonymize("")
    assert result.text == ""
    assert anon.restore("", result.mapping) == ""
    assert anon.residual_risk("") == []


def test_it_uses_one_placeholder_per_person(anon: Anonymizer) -> None:
    text = "Anna Berger kam heute. Annas Schwester sagt, Frau Berger sei müde. Berger schläft schlecht."
    result = anon.anonymize(text)
    assert result.text == (
        "[PERSON_1] kam heute. [PERSON_1]s Schwester sagt, Frau [PERSON_1] sei müde. [PERSON_1] schläft schlecht."
    )
    assert anon.restore(result.text, result.mapping) == text


def test_it_keeps_placeholders_across_calls(anon: Anonymizer) -> None:
    first = anon.anonymize("Frau Anna Berger kommt aus Köln.")
    second = anon.anonymize("Heute rief Frau Berger wieder an.", first.mapping)
    assert "[PERSON_1]" in second.text
    assert anon.restore("Grüße an [PERSON_1]", second.mapping) == "Grüße an Anna Berger"


def test_it_restores_changed_placeholders(anon: Anonymizer) -> None:
    result = anon.anonymize("Herr Jonas Becker wohnt in Hamburg.")
    out = "[Person_1] aus [ORT_1]; PERSON_1 und [PERSON 1]s Mutter"
    assert anon.restore(out, result.mapping) == "Jonas Becker aus Hamburg; Jonas Becker und Jonas Beckers Mutter"


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("[PERSON_1]s Mutter", "Jonas Beckers Mutter"),
        ("PERSON_1 kam", "Jonas Becker kam"),
        ("[Person_1] kam", "Jonas Becker kam"),
        ("[PERSON 1] kam", "Jonas Becker kam"),
        ("[person_1] kam", "Jonas Becker kam"),
        ("[ PERSON_1 ] kam", "Jonas Becker kam"),
        ("[PERSON-1] kam", "Jonas Becker kam"),
        ("aus [ort_1].", "aus Hamburg."),
        ("Person 1 ist ein Platzhalter der Studie", "Person 1 ist ein Platzhalter der Studie"),
        ("[PERSON_9] ist unbekannt", "[PERSON_9] ist unbekannt"),
    ],
)
def test_restore_tolerates_what_models_do_to_placeholders(anon: Anonymizer, variant: str, expected: str) -> None:
    result = anon.anonymize("Herr Jonas Becker wohnt in Hamburg.")
    assert anon.restore(variant, result.mapping) == expected


def test_it_escapes_literal_placeholders(anon: Anonymizer) -> None:
    text = "Die Vorlage enthält [PERSON_1] und ORT_2. Frau Berger kam."
    result = anon.anonymize(text)
    assert "[PERSON_1]" not in result.text.replace("Frau [PERSON_1]", "")
    assert "ORT_2" not in result.text
    assert result.text.count("[PLATZHALTER_") == 2
    assert anon.restore(result.text, result.mapping) == text


def test_it_serializes_the_mapping(anon: Anonymizer) -> None:
    result = anon.anonymize(SEED)
    data = result.mapping.to_json()
    json.loads(data)
    again = Mapping.from_json(data)
    assert anon.restore(result.text, again) == SEED
    assert Mapping.from_dict(result.mapping.to_dict()).entries == result.mapping.entries


def test_it_replaces_seeded_identifiers(anon: Anonymizer) -> None:
    mapping = Mapping()
    mapping.add_known("PERSON", "Anna Winter")
    mapping.add_known("PHONE", "0171 1234567")
    mapping.add_known("DATE_BIRTH", "1980-03-12")
    mapping.add_known("ID", "A123456789")
    mapping.add_known("ORGANIZATION", "Bäckerei Sonnenschein")
    text = (
        "Frau Winter kam im Winter. Anna Winters Handy: 0171/123 45 67, geboren 12.3.1980, "
        "KVNR A 123456789, arbeitet in der Bäckerei Sonnenschein."
    )
    result = anon.anonymize(text, mapping)
    assert result.text == (
        "Frau [PERSON_1] kam im Winter. [PERSON_1]s Handy: [TELEFON_1], geboren "
        "[GEBURTSDATUM_1], KVNR [ID_1], arbeitet in der [ORGANISATION_1]."
    )
    assert anon.restore(result.text, mapping) == text


def test_it_accepts_known_as_argument(anon: Anonymizer) -> None:
    result = anon.anonymize("Rückruf an Zoltán Kovács.", known={"PERSON": ["Zoltán Kovács", "Kovacs"]})
    assert result.text == "Rückruf an [PERSON_1]."


def test_it_matches_known_names_without_accents(anon: Anonymizer) -> None:
    result = anon.anonymize("Termin mit Zoltan Kovacs.", known={"PERSON": ["Zoltán Kovács"]})
    assert result.text == "Termin mit [PERSON_1]."


@pytest.mark.parametrize(
    "text",
    [
        "Diagnosen: F32.1, F43.10, Z63.0, F10.2 und F60.31.",
        "Sitzung 10/24, KZT 1, LZT 45, Sitzung 3/12.",
        "PHQ-9: 15, GAD-7 = 12, BDI-II 28, C-SSRS negativ, PCL-5: 44, WHO-5 12.",
        "Verfahren: KVT, EMDR, DBT, Schematherapie, ACT, CBASP, IPT und MBT.",
        "Sertralin 50 mg 1-0-0, Quetiapin 25 mg 0-0-1, Lorazepam 1 mg bei Bedarf.",
        "Ezetimib/Simvastatin 10/20 mg 0-0-1, Venlafaxin 37.5 mg.",
        "Angst, Schuld, Trauer, Wut und Scham stehen im Vordergrund; Winter und Sommer sind schwer.",
        "Die Patientin berichtet über Grübeln, Hoffnungslosigkeit und Engel-Fantasien.",
        # ordinary text near the organization, author, salutation and initial rules
        "Er hat in der Schule Probleme.",
        "Sie bekam im Krankenhaus Besuch.",
        "Klinik für Psychiatrie und Psychotherapie, Station offen geführt.",
        "Geschrieben von Hand, erstellt von Angehörigen.",
        "Liebe Grüße, danke!",
        "Hallo zusammen, lieber Kollege,",
        "Bei M. Crohn und V. a. Depression, Z. n. Suizidversuch; s. o.",
        "MRT und EKG unauffällig, ISO-Kurve normal.",
        "Verlegung auf die Intensivstation.",
        "Im TV lief Werbung; (Angst, 12) auf der Skala.",
        "Patient: Angst vor Kontrollverlust. Patientin: Schuld und Scham.",
        "Kontrolle nach 1 J., seit 3 J. abstinent; in der Schule am Montag, im Krankenhaus am Wochenende.",
        "„Nein“, sagte Mama. Die Mutter sagte: „Nein.“ Er sagte: „Ich will nicht.“",
    ],
)
def test_it_leaves_clinical_text_alone(anon_thorough: Anonymizer, text: str) -> None:
    assert anon_thorough.anonymize(text).text == text


def test_levels_mask_what_the_table_says(anon_minimal: Anonymizer, anon: Anonymizer, anon_thorough: Anonymizer) -> None:
    text = (
        "Herr Jonas Becker, 45 Jahre, Lehrer, wohnt Hauptstraße 5, 10115 Berlin, geb. 01.02.1980, "
        "Termin am 03.04.2025, arbeitet bei Siemens AG, Tel. 030 1234567."
    )
    for a, level in ((anon_minimal, "minimal"), (anon, "moderate"), (anon_thorough, "thorough")):
        labels = {e.label for e in a.analyze(text)}
        assert labels <= LEVELS[level]
    assert {e.label for e in anon_minimal.analyze(text)} == {"PERSON", "STREET", "PHONE"}
    assert {e.label for e in anon.analyze(text)} == {
        "PERSON",
        "AGE",
        "STREET",
        "ZIP",
        "LOCATION",
        "DATE_BIRTH",
        "ORGANIZATION",
        "PHONE",
    }
    assert {"DATE", "PROFESSION"} <= {e.label for e in anon_thorough.analyze(text)}


def test_it_handles_unicode_and_windows_line_ends(anon: Anonymizer) -> None:
    text = (
        "Frau Ayşe Yıldırım aus İstanbul 😀\r\nHerr Paweł Łukasiewicz, Straße der Einheit 3\r\n"
        "Größe: 1,80 m; Grüße von Jörg Weiß 🙂\r\n"
    )
    result = anon.anonymize(text)
    assert "Ayşe" not in result.text and "Yıldırım" not in result.text
    assert "Łukasiewicz" not in result.text and "Jörg" not in result.text
    assert "😀" in result.text and "\r\n" in result.text
    assert anon.restore(result.text, result.mapping) == text


def test_it_handles_a_megabyte(anon: Anonymizer) -> None:
    block = (
        "Frau Anna Berger (Tel. 0171 2345678) berichtet über Angst und Schlafstörungen, PHQ-9: 14. "
        "Termin am 12.03.2025 in Berlin.\n"
    )
    text = block * (1_000_000 // len(block) + 1)
    assert len(text) >= 1_000_000
    result = anon.anonymize(text)
    assert "Berger" not in result.text and "0171" not in result.text and "Berlin" not in result.text
    assert result.text.count("[PERSON_1]") == text.count("Anna Berger")
    assert result.text.count("PHQ-9: 14") == text.count("PHQ-9: 14")
    assert anon.restore(result.text, result.mapping) == text


def test_it_generalizes_ages_and_restores_them(anon: Anonymizer) -> None:
    text = "Patient, 47 Jahre alt, und sein 8-jähriger Sohn; eine 93-jährige Nachbarin."
    result = anon.anonymize(text)
    assert result.text == "Patient, 45-50 Jahre alt, und sein 5-10-jähriger Sohn; eine 90+-jährige Nachbarin."
    assert anon.restore(result.text, result.mapping) == text


def test_it_is_thread_safe(anon: Anonymizer) -> None:
    """Many threads share one instance; every result equals the single-threaded one."""
    bench = Path(__file__).resolve().parents[2] / "bench/data/therapy_notes.jsonl"
    docs = [json.loads(line)["text"] for line in bench.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs.append(SEED)
    expected = [anon.anonymize(d).text for d in docs]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(offset: int) -> None:
        try:
            barrier.wait()
            for k in range(len(docs) * 2):
                i = (k + offset) % len(docs)
                result = anon.anonymize(docs[i])
                assert result.text == expected[i]
                assert anon.restore(result.text, result.mapping) == docs[i]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(7 * t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_one_conversation_mapping_is_safe_across_threads(anon: Anonymizer) -> None:
    mapping = Mapping()
    surnames = ["Berger", "Yılmaz", "Kowalski", "Nguyen", "Petrović", "Okafor", "Haddad", "Lindqvist"]
    names = [f"Frau {first} {last}" for first, last in zip(["Anna", "Lena", "Ayşe", "Ida"] * 2, surnames, strict=True)]
    names = names * 3  # every person three times, from different threads
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            out = anon.anonymize(f"{name} kam zur Sitzung.", mapping).text
            assert name.split()[-1] not in out
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    people = [e["original"] for e in mapping.entries.values() if e["label"] == "PERSON"]
    assert sorted(people) == sorted({n.removeprefix("Frau ") for n in names})  # one placeholder each


def test_residual_risk_blocks_contacts_and_known(anon: Anonymizer) -> None:
    text = (
        "Bitte [PERSON_1] unter 0171 1234567 anrufen oder an x@y.de schreiben; KVNR K123456789, "
        "IBAN DE89 3704 0044 0532 0130 00, geb. 12.03.1980. Gruß an anna wínter."
    )
    risks = anon.residual_risk(text, known=["Anna Winter"])
    blocked = {e.label for e in risks if e.severity == "block"}
    assert {"PHONE", "EMAIL", "ID", "DATE_BIRTH", "PERSON"} <= blocked
    assert not any(e.start < 12 for e in risks)  # nothing inside the placeholder


def test_residual_risk_warns_on_names(anon: Anonymizer) -> None:
    risks = anon.residual_risk("Viele Grüße von Jürgen, der Angst hat.")
    assert [(e.text, e.severity) for e in risks] == [("Jürgen", "warn")]


def test_residual_risk_matches_inflected_known(anon: Anonymizer) -> None:
    risks = anon.residual_risk("Das ist Bergers Schwester.", known={"PERSON": ["Anna Berger"]})
    assert [e.text for e in risks] == ["Bergers"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Geschwister: Jana (12), Tim (8).", "Geschwister: [PERSON_1] (10-15), [PERSON_2] (5-10)."),
        ("dr. müller hat angerufen wegen frau schmidt", "dr. [PERSON_1] hat angerufen wegen frau [PERSON_2]"),
        ("Ich heiße Sven und bin 34.", "Ich heiße [PERSON_1] und bin 30-35."),
        ("Er habe seinen Job verloren. PHQ-9 ist 15.", "Er habe seinen Job verloren. PHQ-9 ist 15."),
        ("Sie wohnt in Bad Homburg.", "Sie wohnt in [ORT_1]."),
        ("Die Tochter geht in die Kita Sonnenschein.", "Die Tochter geht in die [ORGANISATION_1]."),
        ("Seine Ex-Frau Sabrina zog nach Wuppertal.", "Seine Ex-Frau [PERSON_1] zog nach [ORT_1]."),
        ("Betr.: Tobias Krämer, * 17.02.1985", "Betr.: [PERSON_1], * [GEBURTSDATUM_1]"),
        ("Aktenzeichen 4 F 112/24, Familiengericht", "Aktenzeichen [ID_1], Familiengericht"),
    ],
)
def test_it_handles_everyday_cases(anon: Anonymizer, text: str, expected: str) -> None:
    assert anon.anonymize(text).text == expected


@pytest.mark.parametrize("seeded", [False, True])
def test_family_members_with_one_surname_are_different_people(anon: Anonymizer, seeded: bool) -> None:
    text = (
        "Frau Henrike Wolkenstein, E-Mail h.wolkenstein@posteo.de, arbeitet bei der Bäckerei Sonnenschein. "
        "Ihr Vater Dietrich Wolkenstein begleitet sie. Henrikes Stimmung ist gedrückt; Frau Wolkenstein weint."
    )
    mapping = Mapping()
    if seeded:
        mapping.add_known("PERSON", "Henrike Wolkenstein")
    result = anon.anonymize(text, mapping)
    assert result.text == (
        "Frau [PERSON_1], E-Mail [EMAIL_1], arbeitet bei der [ORGANISATION_1]. "
        "Ihr Vater [PERSON_2] begleitet sie. [PERSON_1]s Stimmung ist gedrückt; Frau [PERSON_1] weint."
    )
    assert anon.restore("[PERSON_2] und [PERSON_1]", mapping) == "Dietrich Wolkenstein und Henrike Wolkenstein"
    assert anon.restore(result.text, mapping) == text


def test_one_person_in_both_name_orders(anon: Anonymizer) -> None:
    result = anon.anonymize("Anna Maria Berger kam. Berger, Anna ist müde. Ihr Bruder Paul Berger auch.")
    assert result.text == "[PERSON_1] kam. [PERSON_1] ist müde. Ihr Bruder [PERSON_2] auch."


def test_compiled_patterns_of_seeded_values_are_bounded() -> None:
    # A worker serves many patients: their identifiers must not pile up in memory for its life.
    from anonymizer import Anonymizer, Mapping
    from anonymizer.core import KNOWN_CACHE_SIZE

    anon = Anonymizer()
    for i in range(KNOWN_CACHE_SIZE + 50):
        mapping = Mapping()
        mapping.add_known("ID", f"A{i:09d}")
        anon.anonymize("Kein Treffer hier.", mapping)
    assert len(anon._known_cache) <= KNOWN_CACHE_SIZE
    assert ("ID", "A000000000") not in anon._known_cache
    mapping = Mapping()
    mapping.add_known("PERSON", "Henrike Wolkenstein")
    assert anon.anonymize("Frau Wolkenstein kam.", mapping).text == "Frau [PERSON_1] kam."
