"""Questionnaire metadata: items, answer options, bands, cut-offs, change rules, licences.

Pure Python, no Django. `scoring.py` and `charts.py` read every number from here, so a
cut-off or band changes in one place. Sources are in /work/shared/reference/clinical.md
(§1 instruments, §2 licensing); the ⚠️ decisions are noted next to the values.

Item texts are shipped only where the licence allows it *and* the official German wording
could be checked against independent copies (PHQ-9, GAD-7). Everything else carries neutral
labels and must be loaded from a file the practice provides (`load_licensed_form`):
- C-SSRS, ISI, ORS, SRS: licence conditions for electronic use (`licensed_text_required`).
- PCL-5, AUDIT-C: free to embed, but the official German form (Ehring et al. 2014 for the
  PCL-5; one stored AUDIT-C version, e.g. the S3 guideline's) was not available to copy
  verbatim. clinical.md §1.0 forbids retyping or paraphrasing items, so the text stays
  out until someone copies it from the official form (`text_status == "official_form_pending"`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

Number = int | Decimal

# Bump when a band, cut-off or change rule changes: stored scores record the rule set
# they were computed with, so old results stay reproducible (clinical.md §1.0).
RULESET_VERSION = "2026.1"

TEXT_EMBEDDED = "embedded"
TEXT_LICENSED = "licensed"
TEXT_OFFICIAL_FORM_PENDING = "official_form_pending"

CSSRS_LEVELS = ("none", "low", "moderate", "high")

# AUDIT-C cut-offs (total ≥ value is positive), kept apart by profile (clinical.md §0.1, §1.6).
AUDITC_CUTOFFS: dict[str, dict[str, int]] = {
    # S3-Leitlinie alkoholbezogene Störungen, AWMF 076-001
    "de": {"male": 5, "female": 4},
    # Bush et al. 1998; Bradley et al. 2003
    "us": {"male": 4, "female": 3},
}
AUDITC_PROFILE_SOURCES = {
    "de": "S3-Leitlinie alkoholbezogene Störungen, AWMF 076-001",
    "us": "Bush et al. 1998 / Bradley et al. 2003",
}


# German labels for the flags `scoring.score` sets, for the UI and chart tooltips.
FLAG_LABELS_DE: dict[str, str] = {
    "ITEM9_POSITIVE": "Item 9 > 0 (Suizidgedanken abklären)",
    "PROBABLE_PTSD": "wahrscheinliche PTBS (Cut-off erreicht)",
    "DSM5_RULE_MET": "DSM-5-Regel erfüllt",
    "SCREEN_POSITIVE": "Screening positiv",
    "ALLIANCE_CONCERN": "Allianz ansprechen",
    "RISK_MODERATE": "mittleres Suizidrisiko",
    "RISK_HIGH": "hohes Suizidrisiko",
    "RELIABLE_IMPROVEMENT": "reliable Verbesserung",
    "RELIABLE_DETERIORATION": "reliable Verschlechterung",
    "MINIMAL_IMPORTANT_CHANGE": "klinisch relevante Veränderung",
    "RESPONSE": "Response (≥ 50 % Reduktion)",
    "REMISSION": "Remission",
}
# Flags that concern safety and must stand out wherever a result is shown (clinical.md §1.0).
SAFETY_FLAGS = frozenset({"ITEM9_POSITIVE", "RISK_MODERATE", "RISK_HIGH"})


@dataclass(frozen=True)
class Band:
    """A severity band; both ends belong to the band (clinical.md: "a–b" includes both)."""

    lower: Number
    upper: Number
    label: str
    label_de: str


@dataclass(frozen=True)
class Option:
    value: int
    label_de: str


@dataclass(frozen=True)
class Instrument:
    code: str
    short_name: str
    name_de: str
    item_count: int  # number of scored answers
    min_value: Number
    max_value: Number
    decimal_places: int  # 1 for the ORS/SRS visual analogue scales, else 0
    min_total: Number | None  # None: no total (C-SSRS)
    max_total: Number | None
    higher_is_worse: bool
    bands: tuple[Band, ...]
    # Cut-off line for charts; `cutoff_rule` says on which side the positive/clinical
    # range lies: ">=" (total ≥ cutoff) or "<=" (total ≤ cutoff).
    cutoff: Number | None
    cutoff_rule: str | None
    cutoff_source: str
    # Change rules (points; "positive change = better"); None where no rule is sourced.
    reliable_change: Number | None
    minimal_important_change: Number | None
    change_source: str
    response_rule: bool  # ≥ 50 % reduction (PHQ-9 only, see scoring)
    remission_below: Number | None
    # Texts
    instruction: str
    items: tuple[str, ...]  # German item text, or neutral labels where not shipped
    options: tuple[Option, ...]  # same options for every item; empty where not shipped
    text_status: str
    licensed_text_required: bool
    copyright: str
    licence_note: str

    @property
    def has_total(self) -> bool:
        return self.max_total is not None

    @property
    def text_available(self) -> bool:
        return self.text_status == TEXT_EMBEDDED

    def band_for(self, total: Number) -> Band | None:
        for band in self.bands:
            if band.lower <= total <= band.upper:
                return band
        return None


def auditc_bands(cutoff: int) -> tuple[Band, ...]:
    """AUDIT-C bands depend on sex and profile, so they are built for one cut-off."""
    return (
        Band(0, cutoff - 1, "negative", "unauffällig"),
        Band(cutoff, 12, "positive", "Screening positiv"),
    )


_PHQ_OPTIONS = (
    Option(0, "Überhaupt nicht"),
    Option(1, "An einzelnen Tagen"),
    Option(2, "An mehr als der Hälfte der Tage"),
    Option(3, "Beinahe jeden Tag"),
)
_PHQ_INSTRUCTION = (
    "Wie oft fühlten Sie sich im Verlauf der letzten 2 Wochen durch die folgenden "
    "Beschwerden beeinträchtigt?"
)
# The PHQ footer as printed on the English forms (clinical.md §2, wording ⚠️) plus the
# German source line from the PHQ-D manual's title page. Check both against the
# official PHQ-D form before release.
_PHQ_FOOTER = (
    "Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and "
    "colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute."
)
_PHQ_D_SOURCE = (
    "Autorisierte deutsche Version des „Prime MD Patient Health Questionnaire (PHQ)“: "
    "Löwe, Spitzer, Zipfel & Herzog, PHQ-D Gesundheitsfragebogen für Patienten, "
    "2. Aufl., Karlsruhe: Pfizer 2002. © 2002 Pfizer."
)
_YES_NO = (Option(0, "Nein"), Option(1, "Ja"))
_PENDING_NOTE = (
    "Elektronische Nutzung erlaubt, der offizielle deutsche Wortlaut ist aber noch nicht "
    "hinterlegt: Bitte die Itemtexte des offiziellen Formulars unter „Fragebögen → Lizenzen“ "
    "als Datei hochladen. Bis dahin werden die Werte vom Papierbogen übernommen."
)


def _numbered(count: int, word: str = "Item") -> tuple[str, ...]:
    return tuple(f"{word} {n}" for n in range(1, count + 1))


INSTRUMENTS: dict[str, Instrument] = {
    "phq9": Instrument(
        code="phq9",
        short_name="PHQ-9",
        name_de="PHQ-9 – Gesundheitsfragebogen für Patienten (Depressivität)",
        item_count=9,
        min_value=0,
        max_value=3,
        decimal_places=0,
        min_total=0,
        max_total=27,
        higher_is_worse=True,
        # Bands: Kroenke et al. 2001. German labels follow NVL Unipolare Depression,
        # Anhang 1 (5–9 "unterschwellig bis leicht", 15–19 "ausgeprägt"); clinical.md
        # offered "mittelschwer/ausgeprägt" ⚠️.
        bands=(
            Band(0, 4, "minimal", "minimal"),
            Band(5, 9, "mild", "leicht"),
            Band(10, 14, "moderate", "mittelgradig"),
            Band(15, 19, "moderately_severe", "ausgeprägt"),
            Band(20, 27, "severe", "schwer"),
        ),
        cutoff=10,
        cutoff_rule=">=",
        cutoff_source="Screening Major Depression, Kroenke et al. 2001",
        reliable_change=6,
        minimal_important_change=5,
        change_source=(
            "Reliable Veränderung ≥ 6 (NHS Talking Therapies/IAPT); klinisch relevante "
            "Veränderung ≥ 5 (Löwe et al. 2004), jeweils zur vorigen Messung; Response "
            "≥ 50 % und Remission < 5 gegenüber der ersten Messung, wenn diese ≥ 10 war (NCQA)"
        ),
        response_rule=True,
        remission_below=5,
        instruction=_PHQ_INSTRUCTION,
        items=(
            "Wenig Interesse oder Freude an Ihren Tätigkeiten",
            "Niedergeschlagenheit, Schwermut oder Hoffnungslosigkeit",
            "Schwierigkeiten ein- oder durchzuschlafen oder vermehrter Schlaf",
            "Müdigkeit oder Gefühl, keine Energie zu haben",
            "Verminderter Appetit oder übermäßiges Bedürfnis zu essen",
            "Schlechte Meinung von sich selbst; Gefühl, ein Versager zu sein oder die "
            "Familie enttäuscht zu haben",
            "Schwierigkeiten, sich auf etwas zu konzentrieren, z. B. beim Zeitunglesen "
            "oder Fernsehen",
            "Waren Ihre Bewegungen oder Ihre Sprache so verlangsamt, dass es auch anderen "
            "auffallen würde? Oder waren Sie im Gegenteil „zappelig“ oder ruhelos und "
            "hatten dadurch einen stärkeren Bewegungsdrang als sonst?",
            "Gedanken, dass Sie lieber tot wären oder sich Leid zufügen möchten",
        ),
        options=_PHQ_OPTIONS,
        text_status=TEXT_EMBEDDED,
        licensed_text_required=False,
        copyright=f"{_PHQ_D_SOURCE} {_PHQ_FOOTER}",
        licence_note="Frei nutzbar (Pfizer 2010); nur offizielle Übersetzung, keine Änderungen.",
    ),
    "gad7": Instrument(
        code="gad7",
        short_name="GAD-7",
        name_de="GAD-7 – Generalisierte Angst",
        item_count=7,
        min_value=0,
        max_value=3,
        decimal_places=0,
        min_total=0,
        max_total=21,
        higher_is_worse=True,
        # Spitzer et al. 2006; German labels parallel to the PHQ-9 ⚠️.
        bands=(
            Band(0, 4, "minimal", "minimal"),
            Band(5, 9, "mild", "leicht"),
            Band(10, 14, "moderate", "mittelgradig"),
            Band(15, 21, "severe", "schwer"),
        ),
        cutoff=10,
        cutoff_rule=">=",
        cutoff_source="Weitere Abklärung ab 10, Spitzer et al. 2006",
        reliable_change=4,
        minimal_important_change=None,
        change_source="Reliable Veränderung ≥ 4 (NHS Talking Therapies/IAPT)",
        response_rule=False,
        remission_below=None,
        instruction=_PHQ_INSTRUCTION,
        items=(
            "Nervosität, Ängstlichkeit oder Anspannung",
            "Nicht in der Lage sein, Sorgen zu stoppen oder zu kontrollieren",
            "Übermäßige Sorgen bezüglich verschiedener Angelegenheiten",
            "Schwierigkeiten zu entspannen",
            "Rastlosigkeit, so dass Stillsitzen schwer fällt",
            "Schnelle Verärgerung oder Gereiztheit",
            "Gefühl der Angst, so als würde etwas Schlimmes passieren",
        ),
        options=_PHQ_OPTIONS,
        text_status=TEXT_EMBEDDED,
        licensed_text_required=False,
        copyright=(
            "GAD-7, Modul des PHQ-D; deutsche Version: Löwe et al. 2008 (Med Care 46:266). "
            f"{_PHQ_FOOTER}"
        ),
        licence_note="Frei nutzbar (Pfizer 2010); nur offizielle Übersetzung, keine Änderungen.",
    ),
    "cssrs": Instrument(
        code="cssrs",
        short_name="C-SSRS",
        name_de="C-SSRS – Columbia-Suizid-Schweregrad-Skala (Screener)",
        item_count=6,
        min_value=0,
        max_value=1,
        decimal_places=0,
        min_total=None,
        max_total=None,
        higher_is_worse=True,
        # Ordinal risk levels 0–3 for charts; there is no sum score (clinical.md §1.3).
        bands=(
            Band(0, 0, "none", "kein Risikohinweis"),
            Band(1, 1, "low", "niedriges Risiko"),
            Band(2, 2, "moderate", "mittleres Risiko"),
            Band(3, 3, "high", "hohes Risiko"),
        ),
        cutoff=None,
        cutoff_rule=None,
        cutoff_source="",
        reliable_change=None,
        minimal_important_change=None,
        change_source="",
        response_rule=False,
        remission_below=None,
        instruction="",
        # Neutral topic words from the content column of clinical.md §1.3, not the items.
        items=(
            "Frage 1 (Todeswunsch)",
            "Frage 2 (Suizidgedanken)",
            "Frage 3 (Gedanken an eine Methode)",
            "Frage 4 (Absicht)",
            "Frage 5 (Plan und Absicht)",
            "Frage 6 (suizidales Verhalten)",
            "Frage 6b (Verhalten in den letzten 3 Monaten)",
        ),
        options=_YES_NO,
        text_status=TEXT_LICENSED,
        licensed_text_required=True,
        copyright="© Research Foundation for Mental Hygiene (Columbia Lighthouse Project).",
        licence_note=(
            "Elektronische Umsetzungen: exklusive Lizenz bei Clario (Unterlizenz, "
            "Zertifizierung). Vor Auslieferung mit Columbia/Clario klären."
        ),
    ),
    "pcl5": Instrument(
        code="pcl5",
        short_name="PCL-5",
        name_de="PCL-5 – PTBS-Checkliste für DSM-5",
        item_count=20,
        min_value=0,
        max_value=4,
        decimal_places=0,
        min_total=0,
        max_total=80,
        higher_is_worse=True,
        bands=(),  # no empirically derived severity bands (clinical.md §1.4)
        cutoff=33,
        cutoff_rule=">=",
        cutoff_source="Deutsche Version, Krüger-Gottschalk et al. 2017",
        # ⚠️ clinical.md lists two conventions. Reliable change uses the PCL-5-specific
        # estimate of Marx et al. 2022 (15–18 points; the lower bound, so deterioration
        # is not missed); the VA's 10 points serve as the clinically relevant change.
        reliable_change=15,
        minimal_important_change=10,
        change_source=(
            "Reliable Veränderung ≥ 15 (Marx et al. 2022, Spanne 15–18); klinisch "
            "relevante Veränderung ≥ 10 (National Center for PTSD)"
        ),
        response_rule=False,
        remission_below=None,
        instruction="",
        items=_numbered(20),
        options=(),
        text_status=TEXT_OFFICIAL_FORM_PENDING,
        licensed_text_required=False,
        copyright=(
            "PCL-5: Weathers, Litz, Keane, Palmieri, Marx & Schnurr – National Center for "
            "PTSD (gemeinfrei). Deutsche Übersetzung: Ehring, Knaevelsrud, Krüger & "
            "Schäfer (2014)."
        ),
        licence_note=(
            "Original gemeinfrei; Weitergabe der deutschen Übersetzung mit den "
            f"Übersetzern klären ⚠️. {_PENDING_NOTE}"
        ),
    ),
    "isi": Instrument(
        code="isi",
        short_name="ISI",
        name_de="ISI – Insomnia Severity Index",
        item_count=7,
        min_value=0,
        max_value=4,
        decimal_places=0,
        min_total=0,
        max_total=28,
        higher_is_worse=True,
        # German labels: somn.io rendering of Gerber et al. 2016 (clinical.md §1.5).
        bands=(
            Band(0, 7, "none", "keine klinisch bedeutsame Insomnie"),
            Band(8, 14, "subthreshold", "unterschwellige Insomnie"),
            Band(15, 21, "moderate", "klinisch bedeutsame Insomnie (moderate Ausprägung)"),
            Band(22, 28, "severe", "klinisch bedeutsame Insomnie (starke Ausprägung)"),
        ),
        cutoff=None,
        cutoff_rule=None,
        cutoff_source="",
        reliable_change=None,  # MID (Yang et al. 2009) not retrieved
        minimal_important_change=None,
        change_source="",
        response_rule=False,
        remission_below=None,
        instruction="",
        # Plain numbers: layouts order items 5–7 differently (clinical.md §1.5).
        items=_numbered(7),
        options=(),
        text_status=TEXT_LICENSED,
        licensed_text_required=True,
        copyright="© Morin (1993, 1996, 2000, 2006); Vertrieb: Mapi Research Trust (ePROVIDE).",
        licence_note="Nutzung nur mit Genehmigung (Mapi Research Trust).",
    ),
    "auditc": Instrument(
        code="auditc",
        short_name="AUDIT-C",
        name_de="AUDIT-C – Kurzscreening Alkoholkonsum",
        item_count=3,
        min_value=0,
        max_value=4,
        decimal_places=0,
        min_total=0,
        max_total=12,
        higher_is_worse=True,
        bands=(),  # depend on sex and profile: auditc_bands(cutoff)
        cutoff=None,  # depends on sex and profile: AUDITC_CUTOFFS
        cutoff_rule=">=",
        cutoff_source="",
        reliable_change=None,
        minimal_important_change=None,
        change_source="",
        response_rule=False,
        remission_below=None,
        instruction="",
        items=(
            "Item 1 (Häufigkeit)",
            "Item 2 (Menge an einem Trinktag)",
            "Item 3 (Rauschtrinken)",
        ),
        options=(),
        text_status=TEXT_OFFICIAL_FORM_PENDING,
        licensed_text_required=False,
        copyright=(
            "AUDIT: WHO (WHO/MSD/MSB/01.6a, 2001); AUDIT-C: Bush et al. 1998. Copyright-"
            "Zeile des verwendeten deutschen Formulars übernehmen ⚠️."
        ),
        licence_note=(
            "Frei nutzbar; eine offizielle deutsche Fassung wählen und ihre Version "
            f"speichern (S3-Fassung: „mehr als 6“ statt „6 oder mehr“). {_PENDING_NOTE}"
        ),
    ),
    "ors": Instrument(
        code="ors",
        short_name="ORS",
        name_de="ORS – Outcome Rating Scale",
        item_count=4,
        min_value=Decimal("0.0"),
        max_value=Decimal("10.0"),
        decimal_places=1,
        min_total=Decimal("0.0"),
        max_total=Decimal("40.0"),
        higher_is_worse=False,
        # Project convention ≤ 25 = clinical range (clinical.md §0.6).
        bands=(
            Band(Decimal("0.0"), Decimal("25.0"), "clinical", "klinischer Bereich"),
            Band(Decimal("25.1"), Decimal("40.0"), "non_clinical", "nicht-klinischer Bereich"),
        ),
        cutoff=Decimal("25.0"),
        cutoff_rule="<=",
        cutoff_source="Klinischer Cut-off Erwachsene (Miller et al. 2003), Konvention ≤ 25",
        reliable_change=Decimal("5.0"),
        minimal_important_change=None,
        change_source="Reliable Veränderung ≥ 5 Punkte (Sekundärquellen)",
        response_rule=False,
        remission_below=None,
        instruction="",
        items=(
            "Item 1 (individuell)",
            "Item 2 (zwischenmenschlich)",
            "Item 3 (sozial)",
            "Item 4 (insgesamt)",
        ),
        options=(),
        text_status=TEXT_LICENSED,
        licensed_text_required=True,
        copyright="© Scott D. Miller und Barry L. Duncan.",
        licence_note=(
            "Freie Lizenz nur für Einzelbehandelnde auf Papier; elektronische Nutzung "
            "braucht eine kommerzielle Lizenz (PCOMS/FIT). Auch Summenwert-Eingabe ggf. "
            "betroffen ⚠️."
        ),
    ),
    "srs": Instrument(
        code="srs",
        short_name="SRS",
        name_de="SRS – Session Rating Scale",
        item_count=4,
        min_value=Decimal("0.0"),
        max_value=Decimal("10.0"),
        decimal_places=1,
        min_total=Decimal("0.0"),
        max_total=Decimal("40.0"),
        higher_is_worse=False,
        # Project convention ≤ 36 = alliance concern (clinical.md §0.6).
        bands=(
            Band(Decimal("0.0"), Decimal("36.0"), "concern", "Allianz ansprechen"),
            Band(Decimal("36.1"), Decimal("40.0"), "ok", "unauffällig"),
        ),
        cutoff=Decimal("36.0"),
        cutoff_rule="<=",
        cutoff_source="Duncan et al. 2003, Konvention ≤ 36",
        # The brief sets 5 points for the SRS too; clinical.md sources it for the ORS only.
        reliable_change=Decimal("5.0"),
        minimal_important_change=None,
        change_source="Reliable Veränderung ≥ 5 Punkte (wie ORS; für SRS nicht eigens belegt)",
        response_rule=False,
        remission_below=None,
        instruction="",
        items=(
            "Item 1 (Beziehung)",
            "Item 2 (Ziele und Themen)",
            "Item 3 (Vorgehen)",
            "Item 4 (insgesamt)",
        ),
        options=(),
        text_status=TEXT_LICENSED,
        licensed_text_required=True,
        copyright="© Barry L. Duncan, Scott D. Miller und Jacqueline A. Sparks.",
        licence_note=(
            "Freie Lizenz nur für Einzelbehandelnde auf Papier; elektronische Nutzung "
            "braucht eine kommerzielle Lizenz (PCOMS/FIT)."
        ),
    ),
}

_MAX_ITEM_CHARS = 2000


def get_instrument(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except (KeyError, TypeError):
        raise KeyError(f"Unbekannter Fragebogen: {code!r}") from None


@dataclass(frozen=True)
class LicensedForm:
    """The texts of an electronic form: item texts, and for choice items the answer labels
    (one tuple per item, `max_value - min_value + 1` labels each), instruction and copyright
    line. Built from the shipped text or from a practice's licensed file."""

    items: tuple[str, ...]
    options: tuple[tuple[str, ...], ...] | None = None
    instruction: str = ""
    copyright: str = ""

    def extra(self) -> dict[str, object]:
        """What is stored next to the item texts (InstrumentLicence.form_extra)."""
        return {
            "options": [list(o) for o in self.options] if self.options else None,
            "instruction": self.instruction,
            "copyright": self.copyright,
        }


def shipped_form(code: str) -> LicensedForm | None:
    """The embedded official form, or None where the text is not shipped."""
    instrument = get_instrument(code)
    if not instrument.text_available:
        return None
    labels = tuple(o.label_de for o in instrument.options) or None
    return LicensedForm(
        items=instrument.items,
        options=tuple(labels for _ in instrument.items) if labels else None,
        instruction=instrument.instruction,
        copyright=instrument.copyright,
    )


def _choice_count(instrument: Instrument) -> int | None:
    """Answer labels per item for choice instruments; None where labels do not apply
    (C-SSRS yes/no, the ORS/SRS visual analogue scales)."""
    if instrument.code == "cssrs" or instrument.decimal_places:
        return None
    return int(instrument.max_value) - int(instrument.min_value) + 1


def _text(value: object, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValueError(f"{where}: Text fehlt.")
    if len(value) > _MAX_ITEM_CHARS:
        raise ValueError(f"{where}: Text ist zu lang.")
    return value.strip()


def parse_licensed_form(code: str, data: object) -> LicensedForm:
    """Validate a licensed form: a JSON list of item texts, or an object with "items" and
    optionally "options" (one label list for all items, or one per item), "instruction"
    and "copyright". Raises ValueError with a German message that never echoes the texts."""
    instrument = get_instrument(code)
    name = instrument.short_name
    if instrument.text_available:
        raise ValueError(f"{name}: Der offizielle Text ist eingebettet und darf nicht ersetzt werden.")
    if isinstance(data, list):
        data = {"items": data}
    if not isinstance(data, dict):
        raise ValueError(f"{name}: Erwartet wird eine JSON-Liste von Texten oder ein Objekt mit „items“.")
    unknown = set(data) - {"items", "options", "instruction", "copyright"}
    if unknown:
        raise ValueError(f"{name}: Unbekannte Felder; erlaubt sind items, options, instruction, copyright.")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ValueError(f"{name}: „items“ muss eine JSON-Liste von Texten sein.")
    expected = len(instrument.items)
    if len(raw_items) != expected:
        raise ValueError(f"{name}: Erwartet werden {expected} Itemtexte, gefunden: {len(raw_items)}.")
    items = tuple(_text(t, f"{name}, Item {n}") for n, t in enumerate(raw_items, 1))

    options = None
    raw_options = data.get("options")
    if raw_options is not None:
        count = _choice_count(instrument)
        if count is None:
            raise ValueError(f"{name}: Antwortbeschriftungen sind hier nicht vorgesehen (Ja/Nein bzw. Skala 0–10).")
        if not isinstance(raw_options, list) or not raw_options:
            raise ValueError(f"{name}: „options“ muss eine JSON-Liste sein.")
        per_item = raw_options if all(isinstance(o, list) for o in raw_options) else [raw_options] * expected
        if len(per_item) != expected:
            raise ValueError(f"{name}: Erwartet werden Antwortbeschriftungen für {expected} Items, gefunden: {len(per_item)}.")
        parsed = []
        for n, labels in enumerate(per_item, 1):
            if not isinstance(labels, list) or len(labels) != count:
                raise ValueError(f"{name}, Item {n}: Erwartet werden {count} Antwortbeschriftungen "
                                 f"(Werte {_de_range(instrument)}).")
            parsed.append(tuple(_text(label, f"{name}, Item {n}, Antwort {v}")
                                for v, label in enumerate(labels, int(instrument.min_value))))
        options = tuple(parsed)
    return LicensedForm(
        items=items,
        options=options,
        instruction=_text(data.get("instruction"), f"{name}, Instruktion", required=False),
        copyright=_text(data.get("copyright"), f"{name}, Copyright-Zeile", required=False),
    )


def _de_range(instrument: Instrument) -> str:
    return f"{instrument.min_value}–{instrument.max_value}"


def load_licensed_form(code: str, path: str | Path) -> LicensedForm:
    """Read a practice's licensed form from a JSON file (see `parse_licensed_form`).

    Only for instruments whose text we do not ship; shipped official texts must not be
    replaced (licences forbid modification). Raises ValueError with a German message on any
    problem. The texts are not logged or put into messages.
    """
    instrument = get_instrument(code)
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{instrument.short_name}: Datei mit Itemtexten nicht lesbar ({type(exc).__name__})."
        ) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        raise ValueError(f"{instrument.short_name}: Datei ist kein gültiges JSON.") from None
    return parse_licensed_form(code, data)


def load_licensed_items(code: str, path: str | Path) -> tuple[str, ...]:
    """The item texts of a licensed form file (`load_licensed_form`)."""
    return load_licensed_form(code, path).items
