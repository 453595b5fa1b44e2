from __future__ import annotations

from decimal import Decimal
from unittest import TestCase

from assessments.scoring import InvalidAnswers, compare, score

MAX_VALUE = {"phq9": 3, "gad7": 3, "pcl5": 4, "isi": 4, "auditc": 4}
ITEM_COUNT = {"phq9": 9, "gad7": 7, "pcl5": 20, "isi": 7, "auditc": 3}


def make_answers(code: str, total: int, *, last: int | None = None) -> list[int]:
    """Answers summing to `total`, filled from the first item; `last` fixes the last item."""
    count, high = ITEM_COUNT[code], MAX_VALUE[code]
    answers = [0] * count
    remaining = total
    if last is not None:
        answers[-1] = last
        remaining -= last
        count -= 1
    for i in range(count):
        answers[i] = min(high, remaining)
        remaining -= answers[i]
    assert remaining == 0, "total not reachable"
    return answers


def cssrs(**overrides: object) -> dict[str, object]:
    answers: dict[str, object] = {
        "q1": False, "q2": False, "q3": None, "q4": None, "q5": None,
        "q6": False, "q6_recent": None,
    }
    answers.update(overrides)
    return answers


def ideation(**overrides: object) -> dict[str, object]:
    """Q2 answered yes, so Q3–Q5 must be answered."""
    answers: dict[str, object] = {"q2": True, "q3": False, "q4": False, "q5": False}
    answers.update(overrides)
    return cssrs(**answers)


class BandEdgesTestCase(TestCase):
    def assert_bands(self, code: str, expected: list[tuple[int, str]]) -> None:
        for total, label in expected:
            with self.subTest(code=code, total=total):
                result = score(code, make_answers(code, total))
                self.assertEqual(result.total, total)
                self.assertEqual(result.severity, label)
                self.assertTrue(result.severity_de)

    def test_it_bands_phq9_on_both_sides_of_each_edge(self):
        self.assert_bands("phq9", [
            (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"),
            (10, "moderate"), (14, "moderate"), (15, "moderately_severe"),
            (19, "moderately_severe"), (20, "severe"), (27, "severe"),
        ])

    def test_it_bands_gad7_on_both_sides_of_each_edge(self):
        self.assert_bands("gad7", [
            (0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"),
            (10, "moderate"), (14, "moderate"), (15, "severe"), (21, "severe"),
        ])

    def test_it_bands_isi_on_both_sides_of_each_edge(self):
        self.assert_bands("isi", [
            (0, "none"), (7, "none"), (8, "subthreshold"), (14, "subthreshold"),
            (15, "moderate"), (21, "moderate"), (22, "severe"), (28, "severe"),
        ])

    def test_it_notes_isi_case_finding_above_10(self):
        self.assertFalse(any("Fallfindung" in n for n in score("isi", make_answers("isi", 10)).notes))
        self.assertTrue(any("Summenwert > 10" in n for n in score("isi", make_answers("isi", 11)).notes))
        self.assertEqual(score("isi", make_answers("isi", 11)).flags, set())

    def test_it_uses_german_labels(self):
        self.assertEqual(score("phq9", make_answers("phq9", 15)).severity_de, "ausgeprägt")
        self.assertEqual(score("gad7", make_answers("gad7", 10)).severity_de, "mittelgradig")

    def test_it_gives_pcl5_no_severity(self):
        for total in (0, 40, 80):
            with self.subTest(total=total):
                result = score("pcl5", make_answers("pcl5", total))
                self.assertIsNone(result.severity)
                self.assertIsNone(result.severity_de)


class PHQ9TestCase(TestCase):
    def test_it_flags_item9_whatever_the_total(self):
        result = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
        self.assertEqual(result.total, 1)
        self.assertEqual(result.severity, "minimal")
        self.assertEqual(result.flags, {"ITEM9_POSITIVE"})
        self.assertTrue(any("Item 9" in note for note in result.notes))

    def test_it_does_not_flag_item9_zero_even_when_severe(self):
        result = score("phq9", make_answers("phq9", 24, last=0))
        self.assertEqual(result.severity, "severe")
        self.assertNotIn("ITEM9_POSITIVE", result.flags)

    def test_it_notes_the_screening_cutoff(self):
        self.assertTrue(any("≥ 10" in n for n in score("phq9", make_answers("phq9", 10)).notes))
        self.assertFalse(any("≥ 10" in n for n in score("phq9", make_answers("phq9", 9)).notes))

    def test_it_accepts_a_tuple(self):
        self.assertEqual(score("phq9", tuple(make_answers("phq9", 7))).total, 7)


class PCL5TestCase(TestCase):
    def test_it_flags_probable_ptsd_at_the_default_cutoff(self):
        below = score("pcl5", make_answers("pcl5", 32))
        at = score("pcl5", make_answers("pcl5", 33))
        self.assertNotIn("PROBABLE_PTSD", below.flags)
        self.assertIn("PROBABLE_PTSD", at.flags)
        self.assertEqual(at.cutoff, 33)
        self.assertTrue(any("Krüger-Gottschalk" in note for note in at.notes))

    def test_it_applies_a_custom_cutoff(self):
        below = score("pcl5", make_answers("pcl5", 37), cutoff=38)
        at = score("pcl5", make_answers("pcl5", 38), cutoff=38)
        self.assertNotIn("PROBABLE_PTSD", below.flags)
        self.assertIn("PROBABLE_PTSD", at.flags)
        self.assertEqual(at.cutoff, 38)
        self.assertTrue(any("Abweichender Cut-off ≥ 38" in note for note in at.notes))
        lower = score("pcl5", make_answers("pcl5", 31), cutoff=31)
        self.assertIn("PROBABLE_PTSD", lower.flags)

    def test_it_rejects_invalid_cutoffs(self):
        for cutoff in (0, 81, -1, True, "33", 33.0, Decimal("33")):
            with self.subTest(cutoff=cutoff), self.assertRaises(InvalidAnswers):
                score("pcl5", make_answers("pcl5", 20), cutoff=cutoff)

    def minimal_rule(self) -> list[int]:
        answers = [0] * 20
        for item in (1, 6, 8, 9, 15, 16):  # B 1, C 1, D 2, E 2
            answers[item - 1] = 2
        return answers

    def test_it_meets_the_dsm5_rule_with_a_total_of_12(self):
        result = score("pcl5", self.minimal_rule())
        self.assertEqual(result.total, 12)
        self.assertEqual(result.flags, {"DSM5_RULE_MET"})
        self.assertEqual(result.subscales, {"B": 2, "C": 2, "D": 4, "E": 4})

    def test_it_misses_the_dsm5_rule_when_any_cluster_is_short(self):
        for item in (1, 6, 8, 15):  # drop one endorsed item from B, C, D, E in turn
            answers = self.minimal_rule()
            answers[item - 1] = 1
            with self.subTest(item=item):
                result = score("pcl5", answers)
                self.assertNotIn("DSM5_RULE_MET", result.flags)
                self.assertTrue(any("nicht erfüllt" in note for note in result.notes))

    def test_it_counts_only_items_rated_two_or_more(self):
        result = score("pcl5", [1] * 20)
        self.assertEqual(result.total, 20)
        self.assertEqual(result.flags, set())

    def test_it_can_flag_cutoff_without_the_rule(self):
        answers = [4] * 5 + [4, 4] + [1] * 13  # B and C only: 28 + 13 = 41
        result = score("pcl5", answers)
        self.assertEqual(result.flags, {"PROBABLE_PTSD"})

    def test_it_sums_the_clusters(self):
        result = score("pcl5", [1] * 5 + [2] * 2 + [3] * 7 + [4] * 6)
        self.assertEqual(result.subscales, {"B": 5, "C": 4, "D": 21, "E": 24})
        self.assertEqual(result.total, 54)


class AUDITCTestCase(TestCase):
    def assert_cutoff(self, sex: str, profile: str | None, cutoff: int) -> None:
        context = {"sex": sex} if profile is None else {"sex": sex, "cutoff_profile": profile}
        below = score("auditc", make_answers("auditc", cutoff - 1), **context)
        at = score("auditc", make_answers("auditc", cutoff), **context)
        self.assertEqual((below.severity, below.flags), ("negative", set()))
        self.assertEqual((at.severity, at.flags), ("positive", {"SCREEN_POSITIVE"}))
        self.assertEqual(at.cutoff, cutoff)

    def test_it_uses_the_german_cutoffs_by_default(self):
        self.assert_cutoff("male", None, 5)
        self.assert_cutoff("female", None, 4)

    def test_it_uses_the_german_cutoffs(self):
        self.assert_cutoff("male", "de", 5)
        self.assert_cutoff("female", "de", 4)
        self.assertTrue(any("AWMF" in n for n in score("auditc", [1, 1, 1], sex="male").notes))

    def test_it_uses_the_us_cutoffs(self):
        self.assert_cutoff("male", "us", 4)
        self.assert_cutoff("female", "us", 3)

    def test_it_applies_the_lower_cutoff_for_diverse_and_says_so(self):
        self.assert_cutoff("diverse", "de", 4)
        self.assert_cutoff("diverse", "us", 3)
        notes = score("auditc", [1, 1, 1], sex="diverse").notes
        self.assertTrue(any("divers" in note and "niedriger" in note for note in notes))

    def test_it_refuses_to_guess_without_sex(self):
        with self.assertRaises(InvalidAnswers) as caught:
            score("auditc", [1, 1, 1])
        self.assertIn("Geschlecht", str(caught.exception))
        with self.assertRaises(InvalidAnswers):
            score("auditc", [1, 1, 1], sex=None)

    def test_it_rejects_unknown_sex_and_profile(self):
        for context in ({"sex": "m"}, {"sex": "unknown"}, {"sex": True},
                        {"sex": "male", "cutoff_profile": "uk"}):
            with self.subTest(context=context), self.assertRaises(InvalidAnswers):
                score("auditc", [1, 1, 1], **context)


class CSSRSTestCase(TestCase):
    def assert_level(self, answers: dict, level: str, flags: set[str]) -> None:
        result = score("cssrs", answers)
        self.assertIsNone(result.total)
        self.assertEqual(result.severity, level)
        self.assertEqual(result.flags, flags)

    def test_it_is_none_without_any_yes(self):
        self.assert_level(cssrs(), "none", set())

    def test_it_accepts_skipped_questions_left_out(self):
        self.assert_level({"q1": False, "q2": False, "q6": False}, "none", set())

    def test_it_is_low_for_q1_or_q2(self):
        self.assert_level(cssrs(q1=True), "low", set())
        self.assert_level(ideation(), "low", set())
        self.assert_level(ideation(q1=True), "low", set())

    def test_it_is_moderate_for_q3(self):
        self.assert_level(ideation(q3=True), "moderate", {"RISK_MODERATE"})

    def test_it_is_moderate_for_behaviour_longer_ago(self):
        self.assert_level(cssrs(q6=True, q6_recent=False), "moderate", {"RISK_MODERATE"})

    def test_it_is_high_for_q4_or_q5(self):
        self.assert_level(ideation(q4=True), "high", {"RISK_HIGH"})
        self.assert_level(ideation(q5=True), "high", {"RISK_HIGH"})

    def test_it_is_high_for_recent_behaviour(self):
        self.assert_level(cssrs(q6=True, q6_recent=True), "high", {"RISK_HIGH"})

    def test_it_takes_the_highest_answer_not_a_sum(self):
        answers = ideation(q1=True, q3=True, q6=True, q6_recent=True)
        self.assert_level(answers, "high", {"RISK_HIGH"})
        # Three yes-answers at the low/moderate level stay moderate.
        self.assert_level(ideation(q1=True, q3=True), "moderate", {"RISK_MODERATE"})

    def test_it_notes_which_answer_set_the_level(self):
        notes = score("cssrs", ideation(q5=True)).notes
        self.assertTrue(any("Frage 5" in note for note in notes))

    def test_it_enforces_skip_logic(self):
        cases = [
            cssrs(q3=False),  # Q3 answered although Q2 = no
            cssrs(q5=True),
            ideation(q3=None),  # Q3 missing although Q2 = yes
            {"q1": False, "q2": True, "q6": False},
            cssrs(q6_recent=True),  # recent behaviour although Q6 = no
            cssrs(q6=True),  # follow-up missing although Q6 = yes
        ]
        for answers in cases:
            with self.subTest(answers=answers), self.assertRaises(InvalidAnswers):
                score("cssrs", answers)

    def test_it_accepts_no_to_6b_after_no_to_6(self):
        self.assert_level(cssrs(q6_recent=False), "none", set())
        self.assert_level(cssrs(q1=True, q6_recent=False), "low", set())

    def test_it_names_the_question(self):
        with self.assertRaises(InvalidAnswers) as caught:
            score("cssrs", cssrs(q4=False))
        self.assertIn("Frage 4", str(caught.exception))
        self.assertEqual(caught.exception.item, "q4")

    def test_it_rejects_missing_and_non_boolean_answers(self):
        cases = [
            {"q2": False, "q6": False},
            cssrs(q1=None),
            cssrs(q6=None),
            cssrs(q1=1),
            cssrs(q1="ja"),
            cssrs(extra=True),
        ]
        for answers in cases:
            with self.subTest(answers=answers), self.assertRaises(InvalidAnswers):
                score("cssrs", answers)

    def test_it_rejects_a_list(self):
        with self.assertRaises(InvalidAnswers):
            score("cssrs", [False, False, None, None, None, False, None])

    def test_it_has_no_total_to_compare(self):
        with self.assertRaises(InvalidAnswers):
            score("cssrs", cssrs(), previous_total=2)
        self.assertIsNone(score("cssrs", cssrs(), previous_total=None).change)


class VisualAnalogueTestCase(TestCase):
    def test_it_sums_tenths_exactly(self):
        for answers in ([6.1, 6.1, 6.1, 6.1], ["6.1"] * 4, [Decimal("6.1")] * 4,
                        [6.1, "6.1", Decimal("6.1"), "6.10"]):
            with self.subTest(answers=answers):
                result = score("ors", answers)
                self.assertIsInstance(result.total, Decimal)
                self.assertEqual(result.total, Decimal("24.4"))
                self.assertEqual(str(result.total), "24.4")

    def test_it_puts_ors_25_0_in_the_clinical_range(self):
        # As floats 6.3 + 6.3 + 6.2 + 6.2 is not exactly 25.0; as Decimal it is.
        at = score("ors", [6.3, 6.3, 6.2, 6.2])
        above = score("ors", [6.3, 6.3, 6.3, 6.2])
        self.assertEqual((at.total, at.severity), (Decimal("25.0"), "clinical"))
        self.assertEqual((above.total, above.severity), (Decimal("25.1"), "non_clinical"))
        self.assertEqual(score("ors", [0, 0, 0, 0]).severity, "clinical")
        self.assertEqual(score("ors", [10, 10, 10, 10]).severity, "non_clinical")
        self.assertEqual(at.flags, set())

    def test_it_flags_srs_at_or_below_36(self):
        at = score("srs", ["9.0", "9.0", "9.0", "9.0"])
        above = score("srs", ["9.1", "9.0", "9.0", "9.0"])
        self.assertEqual((at.total, at.severity, at.flags), (Decimal("36.0"), "concern",
                                                              {"ALLIANCE_CONCERN"}))
        self.assertEqual((above.total, above.severity, above.flags), (Decimal("36.1"), "ok", set()))
        self.assertEqual(score("srs", [0, 0, 0, 0]).severity, "concern")
        self.assertEqual(score("srs", [10, 10, 10, 10]).severity, "ok")

    def test_it_notes_low_srs_items(self):
        notes = score("srs", ["10", "8.9", "10", "10"]).notes
        self.assertTrue(any("Item 2" in note and "unter 9" in note for note in notes))
        self.assertFalse(any("unter 9" in n for n in score("srs", [9, 9, 9, 9]).notes))

    def test_it_notes_the_convention(self):
        self.assertTrue(any("≤ 25" in note for note in score("ors", [5, 5, 5, 5]).notes))
        self.assertTrue(any("≤ 36" in note for note in score("srs", [5, 5, 5, 5]).notes))

    def test_it_rejects_more_than_one_decimal(self):
        for value in ("6.15", 6.15, Decimal("6.15"), 0.1 + 0.2, "6.01"):
            with self.subTest(value=value), self.assertRaises(InvalidAnswers) as caught:
                score("ors", [5, 5, value, 5])
            self.assertIn("Item 3", str(caught.exception))
            self.assertIn("Nachkommastelle", str(caught.exception))

    def test_it_rejects_values_outside_0_to_10(self):
        for value in (10.1, "-0.1", Decimal("11"), 11, -1):
            with self.subTest(value=value), self.assertRaises(InvalidAnswers) as caught:
                score("srs", [value, 5, 5, 5])
            self.assertIn("außerhalb von 0,0–10,0", str(caught.exception))

    def test_it_rejects_non_numbers(self):
        for value in (None, True, False, "abc", "", "6,1", "NaN", float("nan"), float("inf"),
                      Decimal("Infinity"), [6], {"v": 6}):
            with self.subTest(value=value), self.assertRaises(InvalidAnswers):
                score("ors", [5, 5, 5, value])

    def test_it_accepts_whole_numbers(self):
        self.assertEqual(score("ors", [7, 7, 7, 7]).total, Decimal("28.0"))

    def test_it_normalises_negative_zero(self):
        self.assertEqual(str(score("ors", ["-0.0", 0, 0, 0]).total), "0.0")


class InvalidAnswersTestCase(TestCase):
    def test_it_names_the_item_and_range(self):
        with self.assertRaises(InvalidAnswers) as caught:
            score("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])
        self.assertEqual(str(caught.exception), "Item 3: Wert 4 liegt außerhalb von 0–3.")
        self.assertEqual(caught.exception.item, 3)
        self.assertIsInstance(caught.exception, ValueError)

    def test_it_rejects_wrong_item_counts(self):
        for code, count in ITEM_COUNT.items():
            for wrong in (0, count - 1, count + 1):
                with self.subTest(code=code, count=wrong), self.assertRaises(InvalidAnswers):
                    score(code, [0] * wrong, sex="female")
        for wrong in (3, 5):
            with self.subTest(code="ors", count=wrong), self.assertRaises(InvalidAnswers):
                score("ors", [5] * wrong)

    def test_it_rejects_out_of_range_values(self):
        for code, high in MAX_VALUE.items():
            for value in (-1, high + 1):
                answers = [0] * ITEM_COUNT[code]
                answers[1] = value
                with self.subTest(code=code, value=value):
                    with self.assertRaises(InvalidAnswers) as caught:
                        score(code, answers, sex="female")
                    self.assertIn(f"Item 2: Wert {value} liegt außerhalb von 0–{high}.",
                                  str(caught.exception))

    def test_it_accepts_both_ends_of_the_item_range(self):
        for code, high in MAX_VALUE.items():
            with self.subTest(code=code):
                self.assertEqual(score(code, [0] * ITEM_COUNT[code], sex="male").total, 0)
                total = high * ITEM_COUNT[code]
                self.assertEqual(score(code, [high] * ITEM_COUNT[code], sex="male").total, total)

    def test_it_rejects_missing_values(self):
        with self.assertRaises(InvalidAnswers) as caught:
            score("gad7", [0, 0, 0, None, 0, 0, 0])
        self.assertEqual(str(caught.exception), "Item 4: Antwort fehlt.")

    def test_it_rejects_bools_floats_and_strings_where_ints_are_expected(self):
        for value in (True, False, 1.0, 1.5, "1", Decimal("1"), [1]):
            answers: list[object] = [0] * 9
            answers[4] = value
            with self.subTest(value=value), self.assertRaises(InvalidAnswers) as caught:
                score("phq9", answers)
            self.assertIn("Item 5", str(caught.exception))

    def test_it_rejects_answers_that_are_not_a_list(self):
        for answers in (None, 5, "000000000", b"000000000", {i: 0 for i in range(9)},
                        set(range(9))):
            with self.subTest(answers=answers), self.assertRaises(InvalidAnswers):
                score("phq9", answers)

    def test_it_rejects_an_unknown_instrument(self):
        for code in ("bdi2", "PHQ9", None, 9):
            with self.subTest(code=code), self.assertRaises(InvalidAnswers):
                score(code, [0] * 9)

    def test_it_rejects_unknown_context(self):
        with self.assertRaises(TypeError):
            score("phq9", [0] * 9, previous=3)

    def test_it_rejects_invalid_previous_totals(self):
        for previous in (-1, 28, True, "10", 10.0):
            with self.subTest(previous=previous), self.assertRaises(InvalidAnswers) as caught:
                score("phq9", [0] * 9, previous_total=previous)
            self.assertIn("Vorwert", str(caught.exception))
        for previous in ("40.1", "20.05", "x"):
            with self.subTest(previous=previous), self.assertRaises(InvalidAnswers):
                score("ors", [5, 5, 5, 5], previous_total=previous)


class ChangeTestCase(TestCase):
    def change(self, code: str, previous: object, current_total: int, **context: object):
        result = score(code, make_answers(code, current_total), previous_total=previous, **context)
        return result.change, result.change_flags

    def test_it_has_no_change_without_a_previous_total(self):
        result = score("phq9", make_answers("phq9", 10))
        self.assertIsNone(result.change)
        self.assertEqual(result.change_flags, set())

    def test_it_flags_phq9_reliable_change_at_6(self):
        self.assertEqual(self.change("phq9", 16, 10),
                         (6, {"RELIABLE_IMPROVEMENT", "MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("phq9", 10, 16),
                         (-6, {"RELIABLE_DETERIORATION", "MINIMAL_IMPORTANT_CHANGE"}))

    def test_it_flags_phq9_minimal_important_change_at_5(self):
        self.assertEqual(self.change("phq9", 15, 10), (5, {"MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("phq9", 10, 15), (-5, {"MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("phq9", 14, 10), (4, set()))

    def test_it_flags_phq9_response_at_half(self):
        self.assertIn("RESPONSE", self.change("phq9", 20, 10)[1])
        self.assertNotIn("RESPONSE", self.change("phq9", 20, 11)[1])
        self.assertIn("RESPONSE", self.change("phq9", 11, 5)[1])

    def test_it_flags_phq9_remission_below_5(self):
        self.assertEqual(self.change("phq9", 12, 4)[1], {
            "REMISSION", "RESPONSE", "RELIABLE_IMPROVEMENT", "MINIMAL_IMPORTANT_CHANGE"})
        self.assertNotIn("REMISSION", self.change("phq9", 12, 5)[1])
        self.assertIn("REMISSION", self.change("phq9", 10, 0)[1])

    def test_it_needs_caseness_for_response_and_remission(self):
        # From 9 (below caseness) to 2: reliable improvement, but neither response nor
        # remission, which are defined for patients starting at ≥ 10.
        self.assertEqual(self.change("phq9", 9, 2)[1],
                         {"RELIABLE_IMPROVEMENT", "MINIMAL_IMPORTANT_CHANGE"})
        self.assertEqual(self.change("phq9", 3, 1), (2, set()))

    def test_it_flags_gad7_reliable_change_at_4(self):
        self.assertEqual(self.change("gad7", 14, 10), (4, {"RELIABLE_IMPROVEMENT"}))
        self.assertEqual(self.change("gad7", 13, 10), (3, set()))
        self.assertEqual(self.change("gad7", 10, 14), (-4, {"RELIABLE_DETERIORATION"}))
        self.assertEqual(self.change("gad7", 10, 13), (-3, set()))
        # No MIC, response or remission rule for the GAD-7.
        self.assertEqual(self.change("gad7", 20, 1), (19, {"RELIABLE_IMPROVEMENT"}))

    def test_it_flags_pcl5_change(self):
        self.assertEqual(self.change("pcl5", 50, 35),
                         (15, {"RELIABLE_IMPROVEMENT", "MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("pcl5", 50, 36), (14, {"MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("pcl5", 50, 40), (10, {"MINIMAL_IMPORTANT_CHANGE"}))
        self.assertEqual(self.change("pcl5", 50, 41), (9, set()))
        self.assertEqual(self.change("pcl5", 35, 50),
                         (-15, {"RELIABLE_DETERIORATION", "MINIMAL_IMPORTANT_CHANGE"}))

    def test_it_has_no_change_rule_for_isi_and_auditc(self):
        self.assertEqual(self.change("isi", 28, 0), (28, set()))
        self.assertEqual(self.change("auditc", 6, 3, sex="male"), (3, set()))
        self.assertEqual(self.change("auditc", 3, 6, sex="male"), (-3, set()))

    def test_it_counts_ors_and_srs_change_upwards(self):
        for code in ("ors", "srs"):
            with self.subTest(code=code):
                up = score(code, ["6.3", "6.3", "6.2", "6.2"], previous_total="20.0")
                self.assertEqual(up.change, Decimal("5.0"))
                self.assertEqual(up.change_flags, {"RELIABLE_IMPROVEMENT"})
                small = score(code, ["6.3", "6.3", "6.2", "6.2"], previous_total=20.1)
                self.assertEqual(small.change, Decimal("4.9"))
                self.assertEqual(small.change_flags, set())
                down = score(code, [5, 5, 5, 5], previous_total=Decimal("25.0"))
                self.assertEqual(down.change, Decimal("-5.0"))
                self.assertEqual(down.change_flags, {"RELIABLE_DETERIORATION"})
                small_down = score(code, [5, 5, 5, 5], previous_total="24.9")
                self.assertEqual(small_down.change_flags, set())

    def test_it_compares_totals_directly(self):
        self.assertEqual(compare("phq9", 16, 10)[0], 6)
        self.assertEqual(compare("ors", Decimal("20.0"), Decimal("30.0"))[0], Decimal("10.0"))
        with self.assertRaises(InvalidAnswers):
            compare("cssrs", 1, 2)

    def test_it_records_the_ruleset(self):
        self.assertTrue(score("phq9", [0] * 9).ruleset)


class ScoreStoredTestCase(TestCase):
    def test_it_is_score_with_a_stored_context(self):
        from assessments.scoring import score_stored

        self.assertEqual(score_stored("phq9", [1] * 9).total, 9)
        self.assertEqual(score_stored("auditc", [2, 1, 1], {"sex": "male", "cutoff_profile": "us"}).flags, {"SCREEN_POSITIVE"})

    def test_it_says_when_the_sex_was_not_recorded(self):
        from assessments.scoring import score_stored

        result = score_stored("auditc", [2, 1, 1], {"sex": "diverse", "sex_from": "unspecified", "cutoff_profile": "de"})
        self.assertEqual((result.cutoff, result.flags), (4, {"SCREEN_POSITIVE"}))
        self.assertTrue(any(n.startswith("Geschlecht ohne Angabe: niedrigerer Cut-off ≥ 4") for n in result.notes))
        self.assertFalse(any("divers" in n for n in result.notes))
        diverse = score_stored("auditc", [2, 1, 1], {"sex": "diverse"})
        self.assertTrue(any(n.startswith("Geschlecht divers") for n in diverse.notes))
