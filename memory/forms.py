"""Forms validate and normalise; views hand cleaned_data to memory.services."""

from __future__ import annotations

from typing import Any

from django import forms

from duktus.forms import DateInput
from memory.models import ATTAINMENT_RANGE, AttainmentScale, EntryType

REVIEW_ACTIONS = {"confirm": "confirmed", "reject": "rejected", "outdated": "outdated", "reopen": "proposed", "restore": "confirmed"}


class EntryForm(forms.Form):
    type = forms.ChoiceField(label="Art", choices=EntryType.choices,
                             error_messages={"required": "Bitte die Art des Eintrags wählen.",
                                             "invalid_choice": "Bitte eine gültige Art wählen."})
    text = forms.CharField(label="Eintrag", min_length=3, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": "Bitte einen Text eingeben.",
                                           "min_length": "Der Eintrag ist zu kurz (mindestens 3 Zeichen).",
                                           "max_length": "Der Eintrag ist zu lang (höchstens 2000 Zeichen)."})
    date = forms.DateField(label="Datum", required=False, widget=DateInput(),
                           error_messages={"invalid": "Bitte ein gültiges Datum eingeben."})
    goal_measure = forms.CharField(label="Messbar: Woran wird Erreichung erkannt?", required=False, max_length=2000)
    goal_baseline = forms.CharField(label="Ausgangslage", required=False, max_length=2000)
    goal_target = forms.CharField(label="Erreichbar: erwartetes Ergebnis", required=False, max_length=2000)
    goal_relevance = forms.CharField(label="Relevant: Bedeutung für die Person", required=False, max_length=2000)
    goal_due = forms.DateField(label="Terminiert: bis", required=False, widget=DateInput(),
                               error_messages={"invalid": "Bitte ein gültiges Datum eingeben."})
    attainment_scale = forms.ChoiceField(label="Skala der Zielerreichung", required=False,
                                         choices=[("", "–"), *AttainmentScale.choices])
    attainment = forms.IntegerField(label="Zielerreichung", required=False,
                                    error_messages={"invalid": "Bitte eine ganze Zahl eingeben."})

    GOAL_FIELDS = ("goal_measure", "goal_baseline", "goal_target", "goal_relevance", "goal_due", "attainment_scale", "attainment")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}  # Form.clean returns cleaned_data; the stubs allow None
        if data.get("type") != EntryType.THERAPEUTIC_GOAL:
            for f in self.GOAL_FIELDS:
                data.pop(f, None)
            return data
        value, scale = data.get("attainment"), data.get("attainment_scale")
        if value is not None:
            if not scale:
                self.add_error("attainment_scale", "Bitte eine Skala für die Zielerreichung wählen.")
            else:
                low, high = ATTAINMENT_RANGE[AttainmentScale(scale)]
                if not low <= value <= high:
                    self.add_error("attainment", f"Die Zielerreichung muss zwischen {low} und {high} liegen.")
        else:
            data.pop("attainment", None)
        return data

    @classmethod
    def for_entry(cls, entry: Any) -> EntryForm:
        initial = {"type": entry.type, "text": entry.text, "date": entry.date}
        if entry.is_goal:
            initial |= {f: getattr(entry, f) for f in cls.GOAL_FIELDS}
        return cls(initial=initial)


class ReviewForm(forms.Form):
    action = forms.ChoiceField(choices=[(k, k) for k in REVIEW_ACTIONS],
                               error_messages={"required": "Unbekannte Aktion.", "invalid_choice": "Unbekannte Aktion."})


class SearchForm(forms.Form):
    q = forms.CharField(label="Was wissen wir über …?", min_length=2, max_length=300,
                        widget=forms.TextInput(attrs={"placeholder": "Was wissen wir über Schlaf?", "type": "search"}),
                        error_messages={"required": "Bitte einen Suchbegriff eingeben.",
                                        "min_length": "Bitte mindestens 2 Zeichen eingeben.",
                                        "max_length": "Die Suche ist zu lang (höchstens 300 Zeichen)."})


class SummaryForm(forms.Form):
    text = forms.CharField(label="Fallzusammenfassung", max_length=8000, widget=forms.Textarea(attrs={"rows": 10}),
                           error_messages={"required": "Die Zusammenfassung darf nicht leer sein.",
                                           "max_length": "Die Zusammenfassung ist zu lang (höchstens 8000 Zeichen)."})
