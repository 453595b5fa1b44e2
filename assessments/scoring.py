"""Score questionnaire answers: totals, severity, safety flags and change between two totals.

Pure functions, no Django, no I/O. Every band, cut-off and change threshold comes from
`assessments.instruments`. Missing answers are rejected rather than prorated (clinical.md
§1.0: no authoritative proration rule). Messages are German and name the item; they
echo a value only when it is invalid (out of range, wrong format).

    score("phq9", [1, 2, 0, 1, 3, 0, 1, 2, 1], previous_total=16)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import cast

from assessments.instruments import (
    AUDITC_CUTOFFS,
    AUDITC_PROFILE_SOURCES,
    CSSRS_LEVELS,
    INSTRUMENTS,
    RULESET_VERSION,
    Instrument,
    Number,
    auditc_bands,
)

CODES = tuple(INSTRUMENTS)
SEXES = ("female", "male", "diverse")
_CONTEXT_KEYS = frozenset({"sex", "cutoff_profile", "cutoff", "previous_total"})
_TENTH = Decimal("0.1")

# PCL-5 DSM-5 clusters (items, 1-based) and how many items rated ≥ 2 each needs.
PCL5_CLUSTERS: dict[str, tuple[range, int]] = {
    "B": (range(1, 6), 1),
    "C": (range(6, 8), 1),
    "D": (range(8, 15), 2),
    "E": (range(15, 21), 2),
}
# Response/remission are defined for patients starting from PHQ-9 caseness (NCQA: > 9).
_PHQ9_CASENESS = 10
# SRS: discuss any single item below about 9 (clinical.md §1.8, secondary source).
_SRS_ITEM_DISCUSS_BELOW = Decimal("9.0")


class InvalidAnswers(ValueError):
    """Answers or context cannot be scored. `item` is the 1-based item (or C-SSRS key)."""

    def __init__(self, message: str, *, item: int | str | None = None) -> None:
        super().__init__(message)
        self.item = item


@dataclass
class Score:
    code: str
    total: Number | None
    severity: str | None
    severity_de: str | None = None
    flags: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    change: Number | None = None
    change_flags: set[str] = field(default_factory=set)
    cutoff: Number | None = None  # the cut-off actually applied, if any
    subscales: dict[str, int] = field(default_factory=dict)  # PCL-5 clusters B–E
    ruleset: str = RULESET_VERSION


def score(code: str, answers: object, **context: object) -> Score:
    """Score one administration. See the module docstring and `instruments.INSTRUMENTS`."""
    unknown = set(context) - _CONTEXT_KEYS
    if unknown:
        raise TypeError(f"Unbekannte Angaben: {', '.join(sorted(unknown))}")
    instrument = INSTRUMENTS.get(code) if isinstance(code, str) else None
    if instrument is None:
        raise InvalidAnswers("Unbekannter Fragebogen.")

    if code == "cssrs":
        if context.get("previous_total") is not None:
            raise InvalidAnswers(
                "C-SSRS hat keinen Summenwert; ein Vorwert kann nicht verglichen werden."
            )
        return _score_cssrs(instrument, answers)

    values = _item_values(instrument, answers)
    total: Number = sum(values, Decimal("0.0") if instrument.decimal_places else 0)
    result = Score(code=code, total=total, severity=None)
    _SCORERS[code](instrument, values, result, context)

    previous = context.get("previous_total")
    if previous is not None:
        previous_total = parse_total(code, previous, label="Vorwert")
        result.change, result.change_flags = compare(code, previous_total, total)
    return result


def score_stored(code: str, answers: object, context: Mapping[str, object] | None = None) -> Score:
    """`score` with a stored context. The context may also say where the AUDIT-C sex came
    from: {"sex": "diverse", "sex_from": "unspecified"} is a patient without a recorded
    sex, scored with the lower cut-off (clinical.md §1.6), and the note says so."""
    context = dict(context or {})
    sex_from = context.pop("sex_from", None)
    result = score(code, answers, **context)
    if code == "auditc" and sex_from == "unspecified":
        result.notes = [
            f"Geschlecht ohne Angabe: niedrigerer Cut-off ≥ {result.cutoff} (wie für Frauen) "
            "angewendet, damit kein riskanter Konsum übersehen wird."
            if note.startswith("Geschlecht divers") else note
            for note in result.notes
        ]
    return result


def parse_total(code: str, value: object, *, label: str = "Summenwert") -> Number:
    """Validate a stored or entered total: int, or Decimal with one decimal for ORS/SRS."""
    instrument = INSTRUMENTS[code]
    low, high = instrument.min_total, instrument.max_total
    if low is None or high is None:
        raise InvalidAnswers(f"{instrument.short_name} hat keinen Summenwert.")
    if instrument.decimal_places:
        return _parse_tenths(instrument, value, item=None, low=low, high=high, label=label)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswers(f"{label}: ganze Zahl von {_range_text(low, high)} erwartet.")
    if not low <= value <= high:
        raise InvalidAnswers(
            f"{label}: Wert {value} liegt außerhalb von {_range_text(low, high)}."
        )
    return value


def compare(code: str, previous_total: Number, current_total: Number) -> tuple[Number, set[str]]:
    """Change between two totals (positive = better) and the change flags it earns.

    Totals must already be valid for the instrument. RESPONSE and REMISSION compare with
    `previous_total`, so pass the baseline as previous to get them relative to intake.
    """
    instrument = INSTRUMENTS[code]
    if not instrument.has_total:
        raise InvalidAnswers(f"{instrument.short_name} hat keinen Summenwert.")
    if instrument.higher_is_worse:
        change = previous_total - current_total
    else:
        change = current_total - previous_total
    flags: set[str] = set()
    rci = instrument.reliable_change
    if rci is not None:
        if change >= rci:
            flags.add("RELIABLE_IMPROVEMENT")
        elif change <= -rci:
            flags.add("RELIABLE_DETERIORATION")
    mic = instrument.minimal_important_change
    # cast: abs() of int | Decimal is typed as their join (object); it is the same Number type.
    if mic is not None and cast(Number, abs(change)) >= mic:
        flags.add("MINIMAL_IMPORTANT_CHANGE")
    if previous_total >= _PHQ9_CASENESS:
        if instrument.response_rule and current_total * 2 <= previous_total:
            flags.add("RESPONSE")
        if instrument.remission_below is not None and current_total < instrument.remission_below:
            flags.add("REMISSION")
    return change, flags


# --- validation -------------------------------------------------------------------


def _item_values(instrument: Instrument, answers: object) -> list[Number]:
    if isinstance(answers, (str, bytes, Mapping)) or not isinstance(answers, Sequence):
        raise InvalidAnswers(
            f"{instrument.short_name}: Antworten müssen als Liste in Fragebogenreihenfolge "
            "übergeben werden."
        )
    if len(answers) != instrument.item_count:
        raise InvalidAnswers(
            f"{instrument.short_name}: Erwartet werden {instrument.item_count} Antworten, "
            f"erhalten: {len(answers)}."
        )
    if instrument.decimal_places:
        return [_parse_tenths(instrument, value, item=n) for n, value in enumerate(answers, 1)]
    return [_parse_int(instrument, value, item=n) for n, value in enumerate(answers, 1)]


def _range_text(low: Number, high: Number) -> str:
    return f"{_de(low)}–{_de(high)}"


def _de(value: Number) -> str:
    """German number format (decimal comma) for messages and notes."""
    return str(value).replace(".", ",")


def _parse_int(instrument: Instrument, value: object, *, item: int) -> int:
    low, high = instrument.min_value, instrument.max_value
    if value is None:
        raise InvalidAnswers(f"Item {item}: Antwort fehlt.", item=item)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAnswers(
            f"Item {item}: ganze Zahl von {_range_text(low, high)} erwartet.",
            item=item,
        )
    if not low <= value <= high:
        raise InvalidAnswers(
            f"Item {item}: Wert {value} liegt außerhalb von {_range_text(low, high)}.",
            item=item,
        )
    return value


def _to_decimal(value: object) -> Decimal | None:
    """Decimal from Decimal, int, float or str; None if it is not a finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest string that round-trips, so 6.1 stays 6.1, while
        # 0.1 + 0.2 (0.30000000000000004) is caught below as too many decimals.
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _parse_tenths(
    instrument: Instrument,
    value: object,
    *,
    item: int | None,
    low: Number | None = None,
    high: Number | None = None,
    label: str | None = None,
) -> Decimal:
    low = instrument.min_value if low is None else low
    high = instrument.max_value if high is None else high
    label = label or f"Item {item}"
    if value is None:
        raise InvalidAnswers(f"{label}: Antwort fehlt.", item=item)
    number = _to_decimal(value)
    if number is None:
        raise InvalidAnswers(
            f"{label}: Zahl von {_range_text(low, high)} erwartet "
            "(höchstens eine Nachkommastelle, Dezimalpunkt).",
            item=item,
        )
    if not low <= number <= high:
        raise InvalidAnswers(
            f"{label}: Wert {_de(number)} liegt außerhalb von "
            f"{_range_text(low, high)}.",
            item=item,
        )
    tenths = number.quantize(_TENTH)
    if tenths != number:
        raise InvalidAnswers(
            f"{label}: Wert {_de(number)} hat mehr als eine Nachkommastelle.", item=item
        )
    return tenths if tenths else Decimal("0.0")  # no "-0.0"


# --- per-instrument rules ----------------------------------------------------------


def _total(result: Score) -> Number:
    assert result.total is not None, "only the C-SSRS has no total"
    return result.total


def _cutoff(instrument: Instrument) -> Number:
    assert instrument.cutoff is not None, f"{instrument.code} has a cut-off"
    return instrument.cutoff


def _apply_band(instrument: Instrument, result: Score) -> None:
    band = instrument.band_for(_total(result))
    assert band is not None, "bands must cover the whole range"
    result.severity, result.severity_de = band.label, band.label_de


def _score_phq9(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    _apply_band(instrument, result)
    result.cutoff = instrument.cutoff
    if values[8] > 0:
        # Safety item: flag whatever the total (clinical.md §1.0, R-PHQ9-ITEM9).
        result.flags.add("ITEM9_POSITIVE")
        result.notes.append(
            "Item 9 (Gedanken an Tod oder Selbstverletzung) > 0: unabhängig vom "
            "Summenwert klinisch abklären (z. B. mit C-SSRS)."
        )
    if _total(result) >= _cutoff(instrument):
        result.notes.append(
            f"Summenwert ≥ {instrument.cutoff}: positives Screening auf Major Depression "
            "(Kroenke et al. 2001)."
        )


def _score_gad7(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    _apply_band(instrument, result)
    result.cutoff = instrument.cutoff
    if _total(result) >= _cutoff(instrument):
        result.notes.append(
            f"Summenwert ≥ {instrument.cutoff}: weitere Abklärung einer Angststörung "
            "empfohlen (Spitzer et al. 2006)."
        )


# ISI case finding in German samples: total > 10 (Dieck, Morin & Backhaus 2018, clinical.md §1.5).
_ISI_CASE_ABOVE = 10


def _score_isi(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    _apply_band(instrument, result)
    if _total(result) > _ISI_CASE_ABOVE:
        result.notes.append(
            f"Summenwert > {_ISI_CASE_ABOVE}: Hinweis auf eine Insomnie (Fallfindung, deutsche "
            "Validierung Dieck et al. 2018); Schweregrad nach den Bändern von Bastien et al. 2001."
        )


def _score_pcl5(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    cutoff = context.get("cutoff")
    if cutoff is None:
        cutoff = _cutoff(instrument)
        result.notes.append(f"Cut-off ≥ {cutoff} angewendet ({instrument.cutoff_source}).")
    else:
        if isinstance(cutoff, bool) or not isinstance(cutoff, int) or not 1 <= cutoff <= 80:
            raise InvalidAnswers("PCL-5: Cut-off muss eine ganze Zahl von 1–80 sein.")
        result.notes.append(
            f"Abweichender Cut-off ≥ {cutoff} angewendet (Standard: {instrument.cutoff})."
        )
    result.cutoff = cutoff
    result.notes.append("Keine empirisch begründeten Schweregrade; es wird keiner angegeben.")
    if _total(result) >= cutoff:
        result.flags.add("PROBABLE_PTSD")

    endorsed = {}
    for cluster, (items, _needed) in PCL5_CLUSTERS.items():
        result.subscales[cluster] = sum(values[i - 1] for i in items)
        endorsed[cluster] = sum(1 for i in items if values[i - 1] >= 2)
    counts = ", ".join(f"{c} {n}" for c, n in endorsed.items())
    if all(endorsed[c] >= needed for c, (_items, needed) in PCL5_CLUSTERS.items()):
        result.flags.add("DSM5_RULE_MET")
        result.notes.append(f"DSM-5-Regel erfüllt (Items ≥ 2: {counts}): vorläufige PTBS.")
    else:
        result.notes.append(
            f"DSM-5-Regel nicht erfüllt (Items ≥ 2: {counts}; nötig B 1, C 1, D 2, E 2)."
        )


def _score_auditc(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    sex = context.get("sex")
    profile = context.get("cutoff_profile")
    if profile is None:
        profile = "de"
    if profile not in AUDITC_CUTOFFS:
        raise InvalidAnswers("AUDIT-C: Cut-off-Profil muss „de“ oder „us“ sein.")
    if sex is None:
        raise InvalidAnswers(
            "AUDIT-C: Geschlecht fehlt – ohne Angabe kann kein Cut-off angewendet werden."
        )
    if sex not in SEXES:
        raise InvalidAnswers("AUDIT-C: Geschlecht muss „female“, „male“ oder „diverse“ sein.")
    cutoffs = AUDITC_CUTOFFS[profile]
    source = AUDITC_PROFILE_SOURCES[profile]
    if sex == "diverse":
        cutoff = min(cutoffs.values())
        result.notes.append(
            f"Geschlecht divers: niedrigerer Cut-off ≥ {cutoff} (wie für Frauen, {source}) "
            "angewendet, damit kein riskanter Konsum übersehen wird."
        )
    else:
        cutoff = cutoffs[sex]
        who = "Frauen" if sex == "female" else "Männer"
        result.notes.append(f"Cut-off ≥ {cutoff} für {who} angewendet ({source}).")
    result.cutoff = cutoff
    band = auditc_bands(cutoff)[1 if _total(result) >= cutoff else 0]
    result.severity, result.severity_de = band.label, band.label_de
    if band.label == "positive":
        result.flags.add("SCREEN_POSITIVE")


def _score_ors(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    _apply_band(instrument, result)
    result.cutoff = cutoff = _cutoff(instrument)
    result.notes.append(
        f"Cut-off {_de(cutoff)}: Summenwert ≤ {_de(cutoff)} gilt als "
        "klinischer Bereich (Projektkonvention ≤)."
    )


def _score_srs(instrument: Instrument, values: list, result: Score, context: Mapping) -> None:
    _apply_band(instrument, result)
    result.cutoff = cutoff = _cutoff(instrument)
    result.notes.append(
        f"Cut-off {_de(cutoff)}: Summenwert ≤ {_de(cutoff)} → Allianz "
        "in der Sitzung ansprechen (Projektkonvention ≤)."
    )
    if result.severity == "concern":
        result.flags.add("ALLIANCE_CONCERN")
    low_items = [n for n, v in enumerate(values, 1) if v < _SRS_ITEM_DISCUSS_BELOW]
    if low_items:
        listed = ", ".join(instrument.items[n - 1] for n in low_items)
        result.notes.append(f"Einzelwert unter 9 – im Gespräch aufgreifen: {listed}.")


_SCORERS = {
    "phq9": _score_phq9,
    "gad7": _score_gad7,
    "isi": _score_isi,
    "pcl5": _score_pcl5,
    "auditc": _score_auditc,
    "ors": _score_ors,
    "srs": _score_srs,
}

# --- C-SSRS ------------------------------------------------------------------------

_CSSRS_KEYS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")


def _cssrs_label(key: str) -> str:
    return "Frage 6b (q6_recent)" if key == "q6_recent" else f"Frage {key[1]} ({key})"


def _cssrs_answers(answers: object) -> dict[str, bool | None]:
    if not isinstance(answers, Mapping):
        raise InvalidAnswers("C-SSRS: Antworten müssen als Zuordnung q1 … q6, q6_recent kommen.")
    unknown = set(answers) - set(_CSSRS_KEYS)
    if unknown:
        raise InvalidAnswers("C-SSRS: unbekannte Felder; erlaubt sind q1 … q6 und q6_recent.")
    given = {key: answers.get(key) for key in _CSSRS_KEYS}
    for key, value in given.items():
        if value is not None and not isinstance(value, bool):
            raise InvalidAnswers(f"{_cssrs_label(key)}: Ja/Nein erwartet.", item=key)

    def require(key: str, why: str = "") -> None:
        if given[key] is None:
            raise InvalidAnswers(f"{_cssrs_label(key)}: Antwort fehlt{why}.", item=key)

    def forbid(key: str, why: str) -> None:
        if given[key] is not None:
            raise InvalidAnswers(f"{_cssrs_label(key)}: muss leer bleiben, {why}.", item=key)

    # Skip logic (clinical.md §1.3): Q1, Q2 and Q6 always; Q3–5 only after "yes" to Q2;
    # the 3-month follow-up only after "yes" to Q6.
    require("q1")
    require("q2")
    for key in ("q3", "q4", "q5"):
        if given["q2"]:
            require(key, ", weil Frage 2 bejaht wurde")
        else:
            forbid(key, "weil Frage 2 verneint wurde")
    require("q6")
    if given["q6"]:
        require("q6_recent", ", weil Frage 6 bejaht wurde")
    elif given["q6_recent"]:
        # "No" to 6b follows from "no" to 6 and is accepted; "yes" contradicts it.
        raise InvalidAnswers(
            f"{_cssrs_label('q6_recent')}: kann nicht bejaht werden, weil Frage 6 verneint wurde.",
            item="q6_recent",
        )
    else:
        given["q6_recent"] = None
    return given


def _score_cssrs(instrument: Instrument, answers: object) -> Score:
    a = _cssrs_answers(answers)
    # Highest endorsed answer sets the level; yes-answers are never summed.
    if a["q4"] or a["q5"] or (a["q6"] and a["q6_recent"]):
        level = "high"
        reasons = [
            text
            for hit, text in (
                (a["q4"], "Frage 4 (Absicht)"),
                (a["q5"], "Frage 5 (Plan und Absicht)"),
                (a["q6"] and a["q6_recent"], "Frage 6 (Verhalten in den letzten 3 Monaten)"),
            )
            if hit
        ]
    elif a["q3"] or a["q6"]:
        level = "moderate"
        reasons = [
            text
            for hit, text in (
                (a["q3"], "Frage 3 (Gedanken an eine Methode)"),
                (a["q6"], "Frage 6 (Verhalten vor mehr als 3 Monaten)"),
            )
            if hit
        ]
    elif a["q1"] or a["q2"]:
        level = "low"
        reasons = [
            text
            for hit, text in ((a["q1"], "Frage 1"), (a["q2"], "Frage 2"))
            if hit
        ]
    else:
        level, reasons = "none", []
    band = instrument.bands[CSSRS_LEVELS.index(level)]
    result = Score(code="cssrs", total=None, severity=level, severity_de=band.label_de)
    if level == "moderate":
        result.flags.add("RISK_MODERATE")
    elif level == "high":
        result.flags.add("RISK_HIGH")
    if reasons:
        label = band.label_de[0].upper() + band.label_de[1:]
        result.notes.append(f"{label} wegen: {', '.join(reasons)}.")
    else:
        result.notes.append("Keine Frage bejaht.")
    result.notes.append("Kein Summenwert: die höchste bejahte Frage bestimmt die Risikostufe.")
    return result
