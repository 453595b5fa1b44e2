"""Tests for sessions.crisis_cue (no Django, no database)."""

from __future__ import annotations

import datetime
import json
import unittest
from pathlib import Path

import pytest

from sessions import crisis_cue
from sessions.crisis_cue import ACUTE, CONCERN, analyse, detect, has_acute_risk

DATA = Path(crisis_cue.__file__).resolve().parent / "data"
KINDS = {"positive", "negated", "historic", "third_party", "neutral", "hypothetical", "concern"}
TODAY = datetime.date(2026, 11, 22)  # fixed, so year-based "historic" rules do not drift


# tests/conftest.py has autouse fixtures that need pytest-django's `settings`. These
# tests touch neither Django nor the database, so shadow them: the file then also runs
# with `pytest -p no:django`.
@pytest.fixture(autouse=True)
def _celery_eager() -> None:
    return None


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    return None


@pytest.fixture(autouse=True)
def _fast_password_hasher() -> None:
    return None


def _rows() -> list[dict]:
    lines = (DATA / "crisis_sentences.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _score(rows: list[dict]) -> tuple[float, float]:
    predicted = [has_acute_risk(r["text"], today=TODAY) for r in rows]
    tp = sum(1 for r, p in zip(rows, predicted, strict=True) if r["label"] and p)
    fp = sum(1 for r, p in zip(rows, predicted, strict=True) if not r["label"] and p)
    fn = sum(1 for r, p in zip(rows, predicted, strict=True) if r["label"] and not p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def _held_out() -> list[dict]:
    return [r for r in _rows() if r["split"] == "test"]


_NOT_MET = (
    "Held-out (test_v6) {} measured {} on its first run; the {} target is not met. Do not "
    "tune on the test split: fix the rules on dev, then write a fresh held-out split and "
    "remove this marker when it passes."
)


class LabelledSetTestCase(unittest.TestCase):
    def test_it_has_enough_varied_sentences(self) -> None:
        rows = _rows()
        self.assertGreaterEqual(len(rows), 120)
        self.assertEqual(len({r["text"] for r in rows}), len(rows), "duplicate sentences")
        for r in rows:
            self.assertIsInstance(r["label"], bool, r)
            self.assertIn(r["kind"], KINDS, r)
            self.assertIn(r["split"], {"dev", "test"}, r)
            self.assertEqual(r["label"], r["kind"] == "positive", r)
        kinds = {r["kind"] for r in rows}
        self.assertTrue({"positive", "negated", "historic", "third_party", "neutral"} <= kinds)

    def test_it_keeps_a_held_out_split(self) -> None:
        test = _held_out()
        # Absolute floors, not a share: every finished round moves into dev, so the dev
        # split grows while each fresh held-out round stays about the same size.
        self.assertGreaterEqual(len(test), 75)
        self.assertGreaterEqual(sum(r["label"] for r in test), 30)
        self.assertEqual(len({r["origin"] for r in test}), 1, "one held-out round at a time")


class MetricsTestCase(unittest.TestCase):
    # The rules are tuned on dev only; the held-out split (one round, see
    # sessions/data/README.md) is evaluated once and then only guards against regressions.

    def test_it_meets_the_targets_on_the_dev_split(self) -> None:
        # Dev figures after the test_v5 fixes: 1.000 / 1.000 on 419 sentences (175 positive);
        # the floors allow one slip each.
        precision, recall = _score([r for r in _rows() if r["split"] == "dev"])
        self.assertGreaterEqual(recall, 0.99)
        self.assertGreaterEqual(precision, 0.99)

    def test_it_does_not_regress_on_the_held_out_split(self) -> None:
        # Floors = the first and only run of test_v6: precision 0.810 (17/21), recall 0.425
        # (17/40).
        precision, recall = _score(_held_out())
        self.assertGreaterEqual(recall, 0.425)
        self.assertGreaterEqual(precision, 0.809)

    @pytest.mark.xfail(strict=True, reason=_NOT_MET.format("precision", "0.810 (17/21)", "0.85"))
    def test_it_meets_the_precision_target_on_the_held_out_split(self) -> None:
        self.assertGreaterEqual(_score(_held_out())[0], 0.85)

    @pytest.mark.xfail(strict=True, reason=_NOT_MET.format("recall", "0.425 (17/40)", "0.9"))
    def test_it_meets_the_recall_target_on_the_held_out_split(self) -> None:
        self.assertGreaterEqual(_score(_held_out())[1], 0.9)


class RiskTestCase(unittest.TestCase):
    def assertRisk(self, text: str, expected: bool) -> None:  # noqa: N802
        self.assertEqual(has_acute_risk(text, today=TODAY), expected, text)


class NegationTestCase(RiskTestCase):
    def test_it_ignores_negated_statements(self) -> None:
        for text in [
            "Suizidalität verneint.",
            "Keine akute Suizidalität.",
            "Pat. distanziert sich glaubhaft von Suizidgedanken.",
            "Kein Hinweis auf Suizidalität.",
            "Akute Suizidalität ausgeschlossen, absprachefähig.",
            "Suizidgedanken werden auf Nachfrage verneint.",
            "keine suizidgedanken keine plaene",
            "Pat. hat nie Suizidgedanken gehabt.",
            "Todeswünsche bestehen nicht.",
            "Er will nicht sterben.",
            "Suizidgedanken? Nein.",
        ]:
            self.assertRisk(text, False)

    def test_it_limits_negation_to_its_clause(self) -> None:
        self.assertRisk("Suizidalität verneint, aber will nicht mehr leben.", True)
        self.assertRisk("Keine Suizidgedanken. Sie hat Tabletten gesammelt.", True)
        self.assertRisk("Suizidgedanken vorhanden, jedoch keine konkreten Pläne.", True)
        self.assertRisk("Lebensmüde Gedanken ohne konkrete Pläne.", True)

    def test_it_treats_nicht_absprachefaehig_as_positive(self) -> None:
        self.assertRisk("Pat. ist nicht absprachefähig.", True)
        self.assertRisk("pat nicht absprachefaehig", True)
        self.assertRisk("Pat. ist nicht sicher absprachefähig.", True)
        self.assertRisk("Pat. ist absprachefähig.", False)
        cues = detect("Pat. ist nicht absprachefähig.")
        self.assertEqual([c.category for c in cues], ["absprachefaehigkeit"])

    def test_it_keeps_double_negation_positive(self) -> None:
        self.assertRisk("Akute Suizidalität kann nicht sicher ausgeschlossen werden.", True)
        self.assertRisk("Kann sich von Suizidgedanken nicht glaubhaft distanzieren.", True)
        self.assertRisk("Suizidgedanken werden nicht verneint.", True)

    def test_it_does_not_let_a_negation_inside_a_cue_negate_it(self) -> None:
        self.assertRisk("Pat. will nicht mehr leben.", True)
        self.assertRisk("Sieht keinen Sinn mehr im Leben.", True)

    def test_it_ends_a_negation_where_a_new_clause_with_its_own_verb_starts(self) -> None:
        self.assertRisk("Er hat keine Arbeit mehr und will sich umbringen.", True)
        self.assertRisk("Sie hat keine Hoffnung mehr, will nur noch tot sein.", True)
        self.assertRisk("kann nicht mehr schlafen er will sterben", True)
        self.assertRisk("Pat. verneint Suizidgedanken und hat keine Pläne.", False)
        self.assertRisk("Keine Suizidgedanken und ist zukunftsorientiert.", False)
        self.assertRisk("Todeswünsche hat sie keine.", False)
        self.assertRisk("Er hat nie überlegt, sich zu erschießen.", False)
        # Only the negation scope is narrowed: other people and the past keep the clause.
        self.assertRisk("Der Ehemann ist betrunken und will sich umbringen.", False)
        self.assertRisk("Früher hatte sie Suizidgedanken und wollte sterben.", False)


class ContextTestCase(RiskTestCase):
    def test_it_ignores_past_events(self) -> None:
        self.assertFalse(has_acute_risk("Früher Suizidgedanken, aktuell nicht.", today=TODAY))
        self.assertFalse(has_acute_risk("Z.n. Suizidversuch 2016.", today=TODAY))
        self.assertFalse(has_acute_risk("Vor 5 Jahren Suizidversuch.", today=TODAY))

    def test_it_flags_a_recurrence(self) -> None:
        self.assertTrue(has_acute_risk("Früher Suizidgedanken, jetzt wieder mit Plan.", today=TODAY))
        self.assertTrue(has_acute_risk("Erneuter Suizidversuch am Sonntag.", today=TODAY))

    def test_it_ignores_other_people(self) -> None:
        for text in [
            "Suizid des Vaters 2015.",
            "Die Mutter unternahm mehrere Suizidversuche.",
            "Ihre Tochter äußert Suizidgedanken.",
            "Suizidversuch der Schwester im Januar.",
            "Der Ehemann äußerte, er werde sich umbringen.",
        ]:
            self.assertFalse(has_acute_risk(text, today=TODAY), text)

    def test_it_ignores_hypothetical_and_topic_mentions(self) -> None:
        self.assertFalse(has_acute_risk("Falls Suizidgedanken auftreten, meldet sich Pat."))
        self.assertFalse(has_acute_risk("Krisenplan: bei Suizidgedanken Telefonseelsorge."))
        self.assertFalse(has_acute_risk("Wie frage ich nach Suizidgedanken?"))

    def test_it_ignores_idioms(self) -> None:
        self.assertFalse(has_acute_risk("Das bringt mich noch um, sagt er über den Lärm."))
        self.assertFalse(has_acute_risk("Ich sterbe vor Langeweile."))
        self.assertFalse(has_acute_risk("Er überlegt, über seinen Schatten zu springen."))
        self.assertFalse(has_acute_risk("Sie plant, sich in die Arbeit zu stürzen."))
        self.assertFalse(has_acute_risk("Sie sieht keinen Sinn mehr im Job."))

    def test_it_finds_plans_and_hopelessness_in_other_wordings(self) -> None:
        self.assertRisk("Sieht keinen Grund mehr, weiterzuleben.", True)
        self.assertRisk("Er sieht keinen Sinn mehr in seinem Leben.", True)
        self.assertRisk("Er denkt daran, vom Kirchturm zu springen.", True)
        self.assertRisk("Sie überlegt, sich zu erhängen.", True)
        self.assertRisk("Er erwägt, sich vor die S-Bahn zu werfen.", True)
        self.assertRisk("Er hat den Ort für den Sprung schon ausgesucht.", True)

    def test_it_reads_a_farewell_in_its_context(self) -> None:
        text = "Seit dem Umzug depressiv, hat einen Abschiedsbrief geschrieben."
        self.assertTrue(has_acute_risk(text))
        self.assertTrue(has_acute_risk("Sie hat sich von allen Freunden verabschiedet."))
        self.assertFalse(has_acute_risk("Pat. hat sich von den Kollegen verabschiedet."))
        text = "Hat einen Abschiedsbrief zur Pensionierung der Chefin geschrieben."
        self.assertFalse(has_acute_risk(text))
        self.assertEqual([f.status for f in analyse(text)], [crisis_cue.BENIGN])


class MethodEuphemismFarewellTestCase(RiskTestCase):
    # General mechanisms added after test_v5: a method lexicon with preparation acts, euphemisms
    # with self-reference, farewell acts that need a second cue, wider past markers.

    def assertRisks(self, expected: bool, texts: list[str]) -> None:  # noqa: N802
        for text in texts:
            self.assertRisk(text, expected)

    def test_it_finds_a_lethal_means_that_is_bought_hidden_or_researched(self) -> None:
        self.assertRisks(True, [
            "Er habe eine Schusswaffe besorgt.",
            "Pat. hat sich im Internet über Kohlenmonoxid informiert.",
            "Der Strick liegt im Kofferraum bereit.",
            "Sie habe die Rasierklingen im Bad bereitgelegt.",
            "Er hat einen Schlauch für den Auspuff gekauft.",
            "Sie saß in der Badewanne, der Föhn lag daneben.",
            "Er rechnete aus, wie viele Schmerzmittel tödlich wären.",
        ])
        # Everyday objects only count when laid ready, hidden or hoarded.
        self.assertRisks(False, [
            "Die Medikamente liegen im Nachttisch bereit.",
            "Pat. hat sich über Nebenwirkungen der Tabletten informiert.",
            "Sie hat Grillkohle für die Party gekauft.",
            "Er habe keine Waffe besorgt.",
        ])

    def test_it_finds_heights_traffic_and_water(self) -> None:
        self.assertRisks(True, [
            "Er ging auf den Kirchturm, um hinunterzuspringen.",
            "Sie will sich vor die Straßenbahn werfen.",
            "Er denke daran, ins Wasser zu gehen.",
        ])
        self.assertRisk("Es gebe keinerlei Pläne, irgendwo hinunterzuspringen.", False)

    def test_it_reads_euphemisms_with_self_reference(self) -> None:
        self.assertRisks(True, [
            "Er spricht davon, es endlich zu beenden.",
            "Pat. plant, ihr Leben zu beenden.",
            "Sie habe keine Kraft mehr zu leben.",
            "Er hofft, bald zu sterben.",
            "Ihr sei egal, ob sie morgen stirbt.",
            "Es wäre leichter, wenn es mich nicht mehr gäbe.",
            "Todessehnsucht seit Wochen.",
        ])
        # A relationship, a job or a therapy in the sentence explains "es beenden"/"Schluss".
        self.assertRisks(False, [
            "Sie will die Beziehung beenden, es sei vorbei.",
            "Er möchte es mit der Therapie beenden.",
            "Sie hat mit ihrem Freund Schluss gemacht.",
            "Pat. macht heute früher Schluss.",
            "Er hofft, bald eine Wohnung zu finden.",
        ])

    def test_it_needs_a_second_cue_for_everyday_farewell_acts(self) -> None:
        self.assertRisks(False, [
            "Er hat die Konten aufgelöst, weil er die Bank wechselt.",
            "Sie hat ihr Testament gemacht.",
        ])
        (cue,) = detect("Sie hat ihr Testament gemacht.", today=TODAY)
        self.assertEqual(cue.severity, CONCERN)
        self.assertRisks(True, [
            "Pat. hat die Konten aufgelöst und die Papiere geordnet.",
            "Er hat das Testament gemacht, damit nach seinem Tod alles klar ist.",
            "Kann nicht mehr, ich will nicht mehr, morgen mach ich Schluss.",
            "Pat. sagt, das sei ihre letzte Nachricht an uns.",
            # A person after a preposition is an object, not the subject of the farewell.
            "Passwörter für die Schwester notiert und sich von allen verabschiedet.",
        ])

    def test_it_knows_more_markers_of_the_past_and_of_someone_elses_worry(self) -> None:
        self.assertRisks(False, [
            "Der Suizidversuch liegt lange zurück.",
            "Ehemals Suizidgedanken, seit Jahren stabil.",
            "Im Studium habe er an Suizid gedacht.",
            "Die Ehefrau befürchtet, er könne sich umbringen.",
            "Sorge der Mutter, die Pat. könne sich etwas antun.",
        ])
        self.assertRisk("Pat. hat Angst, sie könne sich etwas antun.", True)


class CueTestCase(unittest.TestCase):
    def test_it_returns_offsets_into_the_original_text(self) -> None:
        text = "Größte Sorge: Pat. äußert lebensmüde Gedanken."
        (cue,) = detect(text)
        self.assertEqual(text[cue.start : cue.end], cue.phrase)
        self.assertEqual(cue.phrase, "lebensmüde")
        self.assertEqual(cue.severity, ACUTE)

    def test_it_matches_umlaut_spellings_and_dictation(self) -> None:
        self.assertTrue(has_acute_risk("LEBENSMÜDE GEDANKEN"))
        self.assertTrue(has_acute_risk("lebensmuede gedanken seit gestern"))
        self.assertTrue(has_acute_risk("ich bring mich um wenn das so weitergeht"))
        self.assertTrue(has_acute_risk("pat sagt sie will nicht mehr leben und hat tabletten gesammelt"))

    def test_it_reports_concern_cues_without_raising_the_event(self) -> None:
        text = "Pat. hat sich gestern geritzt, wirkt hoffnungslos."
        self.assertEqual({c.severity for c in detect(text)}, {CONCERN})
        self.assertFalse(has_acute_risk(text))

    def test_it_explains_suppressed_cues(self) -> None:
        statuses = {f.cue.phrase: f.status for f in analyse("Suizid des Vaters, keine Suizidgedanken.")}
        self.assertEqual(statuses, {"Suizidgedanken": "negated"})

    def test_it_documents_the_review_state(self) -> None:
        data = json.loads((DATA / "crisis_phrases.json").read_text(encoding="utf-8"))
        self.assertEqual(data["review"]["date"], "2026-11-22")
        self.assertEqual(data["review"]["reviewed_by"], "engineering draft, clinical review pending")
        categories = {c["category"] for c in data["cues"]}
        self.assertTrue(
            {"suizidgedanken", "plan", "abschied", "mittel", "selbstverletzung", "hoffnungslosigkeit"}
            <= categories
        )
        self.assertTrue({c["severity"] for c in data["cues"]} <= {ACUTE, CONCERN})
