from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from duktus.forms import DateInput


class AISettingsForm(forms.Form):
    enabled = forms.BooleanField(label="KI-Funktionen für die Praxis einschalten", required=False)
    provider = forms.CharField(label="Anbieter (Auftragsverarbeiter)", max_length=200, required=False)
    avv_signed_on = forms.DateField(label="AVV nach Art. 28 DSGVO unterzeichnet am", required=False,
                                    widget=DateInput())

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("enabled"):
            if not (data.get("provider") or "").strip():
                self.add_error("provider", "Bitte den Anbieter angeben.")
            signed = data.get("avv_signed_on")
            if not signed:
                self.add_error("avv_signed_on", "Ohne unterzeichneten AVV kann die KI nicht eingeschaltet werden.")
            elif signed > timezone.localdate() + dt.timedelta(days=0):
                self.add_error("avv_signed_on", "Das Datum liegt in der Zukunft.")
        return data
