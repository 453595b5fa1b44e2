"""Forms: the answer sheet (any instrument, validated by scoring.score), links, schedules,
licences. Answers are parsed leniently here and judged by the scorer, so the German messages
of InvalidAnswers reach the user unchanged and next to the item they concern."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django import forms
from django.utils import timezone

from assessments import scoring
from assessments.instruments import INSTRUMENTS, Instrument, LicensedForm, load_licensed_form
from duktus.forms import DateInput

_INT = re.compile(r"^[+-]?\d+$")
CSSRS_KEYS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_recent")


@dataclass
class Item:
    name: str
    number: str
    label: str
    kind: str  # "choice" (radio), "decimal" (number input), "yesno"
    options: list[tuple[str, str]]
    value: str = ""
    error: str = ""
    depends: str = ""  # C-SSRS: only asked after "yes" to this question


@dataclass
class AnswerSheet:
    """The item part of a questionnaire form, for any instrument.

    `form`: the electronic form's texts (shipped or licensed), or None for paper entry with
    item numbers, neutral labels and bare values.
    """

    instrument: Instrument
    data: Any = None
    form: LicensedForm | None = None
    items: list[Item] = field(default_factory=list)
    error: str = ""
    answers: Any = None
    missing: bool = False  # True when the only problem is unanswered items (preview)

    @property
    def texts(self) -> tuple[str, ...] | None:
        return self.form.items if self.form else None

    @property
    def instruction(self) -> str:
        return self.form.instruction if self.form else ""

    @property
    def copyright(self) -> str:
        """The licensed form's own line if it has one, else the instrument's."""
        return (self.form.copyright if self.form else "") or self.instrument.copyright

    def __post_init__(self) -> None:
        inst = self.instrument
        labels = self.texts or inst.items
        answer_labels = self.form.options if self.form else None
        data = self.data or {}
        if inst.code == "cssrs":
            for n, (key, label) in enumerate(zip(CSSRS_KEYS, labels), 1):
                number = "6b" if key == "q6_recent" else str(n)
                depends = "q2" if key in ("q3", "q4", "q5") else ("q6" if key == "q6_recent" else "")
                self.items.append(Item(key, number, label, "yesno", [("yes", "Ja"), ("no", "Nein")], str(data.get(key, "")), depends=depends))
            return
        for n, label in enumerate(labels, 1):
            name = f"item_{n}"
            if inst.decimal_places:
                kind, options = "decimal", []
            else:
                kind = "choice"
                values = range(int(inst.min_value), int(inst.max_value) + 1)
                texts = answer_labels[n - 1] if answer_labels else None
                # Paper entry (or a form without answer labels): the bare item values.
                options = [(str(v), texts[i] if texts else str(v)) for i, v in enumerate(values)]
            self.items.append(Item(name, str(n), label, kind, options, str(data.get(name, "")).strip()))

    def parse(self) -> Any:
        if self.instrument.code == "cssrs":
            answers: dict[str, bool | None] = {}
            for item in self.items:
                answers[item.name] = {"yes": True, "no": False}.get(item.value)
            # Skip logic: follow-up questions after a "no" are not asked; drop stray answers.
            if answers["q2"] is not True:
                answers.update(q3=None, q4=None, q5=None)
            if answers["q6"] is not True:
                answers["q6_recent"] = None
            return answers
        out: list[Any] = []
        for item in self.items:
            value = item.value
            if value == "":
                out.append(None)
            elif self.instrument.decimal_places:
                out.append(value.replace(",", "."))
            else:
                out.append(int(value) if _INT.match(value) else value)
        return out

    def validate(self, context: dict[str, Any] | None = None) -> scoring.Score | None:
        """Score the answers; on InvalidAnswers attach the German message to its item."""
        self.answers = self.parse()
        try:
            return scoring.score_stored(self.instrument.code, self.answers, context)
        except scoring.InvalidAnswers as exc:
            self.error = str(exc)
            self.missing = "fehlt" in self.error
            target = exc.item if isinstance(exc.item, str) else (f"item_{exc.item}" if exc.item else None)
            for item in self.items:
                if item.name == target:
                    item.error = str(exc)
            return None


class AdministrationForm(forms.Form):
    administered_on = forms.DateField(label="Datum", widget=DateInput())
    sex = forms.ChoiceField(
        label="Geschlecht (für den AUDIT-C-Cut-off)", required=False,
        choices=[("", "aus den Stammdaten"), ("female", "weiblich"), ("male", "männlich"), ("diverse", "divers")],
    )

    def clean_administered_on(self) -> Any:
        day = self.cleaned_data["administered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("Das Datum darf nicht in der Zukunft liegen.")
        return day


def instrument_choices(codes: list[str] | None = None) -> list[tuple[str, str]]:
    return [(c, i.short_name) for c, i in INSTRUMENTS.items() if codes is None or c in codes]


class LinkForm(forms.Form):
    instrument = forms.ChoiceField(label="Fragebogen")
    days = forms.IntegerField(label="Gültig (Tage)", min_value=1, max_value=30, initial=7)
    send_email = forms.BooleanField(
        label="Link per E-Mail an die hinterlegte Adresse senden", required=False,
        help_text="Die E-Mail nennt nur die Praxis, nicht den Fragebogen und keine Gesundheitsdaten.",
    )

    def __init__(self, *args: Any, codes: list[str], patient_email: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "link_%s")  # the patient page also holds the schedule form
        super().__init__(*args, **kwargs)
        # fields is typed dict[str, Field]; "instrument" is the ChoiceField declared above.
        cast(forms.ChoiceField, self.fields["instrument"]).choices = instrument_choices(codes)
        self.patient_email = patient_email

    def clean_send_email(self) -> bool:
        wanted = self.cleaned_data.get("send_email", False)
        if wanted and not self.patient_email:
            raise forms.ValidationError("Für diese Person ist keine E-Mail-Adresse hinterlegt.")
        return wanted


class ScheduleForm(forms.Form):
    instrument = forms.ChoiceField(label="Fragebogen", choices=instrument_choices())
    interval_days = forms.IntegerField(label="Alle … Tage", min_value=1, max_value=365, initial=28)
    starts_on = forms.DateField(label="Erstmals fällig am", widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "schedule_%s")
        super().__init__(*args, **kwargs)


class LicenceForm(forms.Form):
    instrument = forms.ChoiceField(
        label="Fragebogen",
        choices=[(c, i.short_name) for c, i in INSTRUMENTS.items() if not i.text_available],
    )
    licence_note = forms.CharField(
        label="Lizenzvermerk", max_length=500,
        help_text="Lizenzgeber, Lizenznummer bzw. Vertrag, Datum, Umfang (elektronische Nutzung).",
    )
    items_file = forms.FileField(
        label="Itemtexte (JSON-Datei)",
        help_text=(
            "Aus dem lizenzierten Formular kopiert: eine JSON-Liste mit einem Text pro Item, oder ein "
            "Objekt mit „items“ und optional „options“ (Antwortbeschriftungen), „instruction“, „copyright“."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("items_file")
        code = data.get("instrument")
        if upload and code:
            if upload.size > 200_000:
                self.add_error("items_file", "Die Datei ist zu groß (höchstens 200 kB).")
                return data
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "items.json"
                path.write_bytes(upload.read())
                try:
                    data["item_texts"] = load_licensed_form(code, path)
                except ValueError as exc:
                    self.add_error("items_file", str(exc))
        return data
