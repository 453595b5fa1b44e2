from __future__ import annotations

from django import forms

MAX_QUERY = 300
MIN_QUERY = 3


class EvidenceSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        strip=True,
        max_length=MAX_QUERY,
        label="Suchbegriff oder Frage",
        error_messages={"max_length": f"Bitte höchstens {MAX_QUERY} Zeichen eingeben."},
    )

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())
