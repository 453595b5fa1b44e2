from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.utils import timezone

from duktus.forms import DateInput
from sessions.models import AIRequest, Setting

MAX_NOTE = 100_000


class SessionForm(forms.Form):
    date = forms.DateField(label="Datum", widget=DateInput(),
                           error_messages={"required": "Bitte ein Datum angeben.", "invalid": "Bitte ein gültiges Datum angeben."})
    duration_minutes = forms.IntegerField(label="Dauer (Minuten)", min_value=5, max_value=300, initial=50,
                                          error_messages={"min_value": "Mindestens 5 Minuten.", "max_value": "Höchstens 300 Minuten.",
                                                          "required": "Bitte die Dauer angeben.", "invalid": "Bitte eine Zahl angeben."})
    setting = forms.ChoiceField(label="Setting", choices=Setting.choices, initial=Setting.EINZEL,
                                error_messages={"invalid_choice": "Bitte ein Setting auswählen."})
    approval = forms.ChoiceField(label="Bewilligung (Kontingent)", required=False)

    def __init__(self, *args: Any, approvals: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._approvals = {str(a.code): a for a in approvals}
        # fields is typed dict[str, Field]; "approval" is the ChoiceField declared above.
        cast(forms.ChoiceField, self.fields["approval"]).choices = [("", "keine")] + [
            (str(a.code), f"{a.get_phase_display()} ({a.sessions_used}/{a.approved_sessions})") for a in approvals]
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())
            # Pre-select the newest Bewilligung that still has sessions left (a used-up one would
            # only be refused on saving).
            open_ones = [a for a in approvals if a.sessions_used < a.approved_sessions]
            if open_ones:
                self.initial.setdefault("approval", str(open_ones[-1].code))

    def clean_approval(self) -> Any:
        value = self.cleaned_data.get("approval")
        if not value:
            return None
        approval = self._approvals.get(value)
        if approval is None:
            raise forms.ValidationError("Bitte eine Bewilligung dieser Patientin / dieses Patienten wählen.")
        if approval.sessions_used >= approval.approved_sessions:
            raise forms.ValidationError("Das bewilligte Kontingent ist ausgeschöpft.")
        return approval


class NoteForm(forms.Form):
    field = forms.ChoiceField(choices=[("note", "note"), ("process_notes", "process_notes")])
    text = forms.CharField(required=False, max_length=MAX_NOTE, strip=False,
                           error_messages={"max_length": "Die Notiz ist zu lang."})
    revision = forms.IntegerField(min_value=0, required=False)


class CorrectionForm(forms.Form):
    text = forms.CharField(label="Korrigierter Text", max_length=MAX_NOTE, strip=False, widget=forms.Textarea(attrs={"rows": 10}),
                           error_messages={"required": "Bitte den korrigierten Text angeben."})
    reason = forms.CharField(label="Grund der Korrektur", max_length=500,
                             error_messages={"required": "Bitte den Grund der Korrektur angeben."})


class QuestionForm(forms.Form):
    question = forms.CharField(label="Frage an die KI", max_length=2000,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               error_messages={"required": "Bitte eine Frage eingeben.", "max_length": "Die Frage ist zu lang (höchstens 2.000 Zeichen)."})


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[(d, d) for d in (AIRequest.Decision.ACCEPTED, AIRequest.Decision.EDITED, AIRequest.Decision.REJECTED)],
                                 error_messages={"invalid_choice": "Unbekannte Entscheidung.", "required": "Unbekannte Entscheidung."})
    text = forms.CharField(required=False, max_length=20_000, strip=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == AIRequest.Decision.EDITED and not (data.get("text") or "").strip():
            self.add_error("text", "Der bearbeitete Text ist leer.")
        return data
