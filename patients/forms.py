"""Forms validate and normalise; views and services copy cleaned_data explicitly."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone

from duktus.forms import DateInput
from patients import icd10gm
from patients.models import Certainty, ConsentAction, ConsentGivenBy, ConsentPurpose, Gender, InsuranceType, Phase
from patients.validators import kvnr_is_valid, normalize_kvnr

PHONE_RE = re.compile(r"^\+?[0-9 ()/\-]{6,25}$")
PLZ_RE = re.compile(r"^[0-9]{5}$")


def _today() -> dt.date:
    return timezone.localdate()


class PatientForm(forms.Form):
    first_name = forms.CharField(label="Vorname", max_length=100)
    last_name = forms.CharField(label="Nachname", max_length=100)
    birth_date = forms.DateField(label="Geburtsdatum", widget=DateInput())
    gender = forms.ChoiceField(label="Geschlecht", choices=Gender.choices)
    street = forms.CharField(label="Straße und Hausnummer", max_length=200, required=False)
    postal_code = forms.CharField(label="PLZ", max_length=5, required=False)
    city = forms.CharField(label="Ort", max_length=100, required=False)
    phone = forms.CharField(label="Telefon", max_length=30, required=False)
    email = forms.EmailField(label="E-Mail", required=False, error_messages={"invalid": "Bitte eine gültige E-Mail-Adresse eingeben."})
    employer = forms.CharField(label="Arbeitgeber", max_length=200, required=False, help_text="Wird wie Name und Adresse nie an die KI gesendet.")
    insurance_type = forms.ChoiceField(label="Versicherungsart", choices=InsuranceType.choices)
    insurer = forms.CharField(label="Krankenkasse / Versicherung", max_length=200, required=False)
    insurance_number = forms.CharField(label="Krankenversichertennummer", max_length=12, required=False, help_text="Buchstabe + 9 Ziffern, z. B. A123456780")
    treatment_start = forms.DateField(label="Behandlungsbeginn", required=False, widget=DateInput())
    treatment_end = forms.DateField(label="Behandlungsende", required=False, widget=DateInput())
    is_minor = forms.BooleanField(label="Minderjährig", required=False)
    guardian_name = forms.CharField(label="Sorgeberechtigte/r", max_length=200, required=False)
    guardian_contact = forms.CharField(label="Kontakt der/des Sorgeberechtigten", max_length=200, required=False)
    guardian_custody = forms.CharField(label="Sorgerecht (z. B. gemeinsam, alleinig Mutter)", max_length=200, required=False)
    therapist = forms.ChoiceField(label="Zuständige/r Therapeut/in", required=False)

    def __init__(self, *args: Any, therapists: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if therapists is None:
            del self.fields["therapist"]
        else:
            # fields is typed dict[str, Field]; "therapist" is the ChoiceField declared above.
            cast(forms.ChoiceField, self.fields["therapist"]).choices = [("", "– nicht zugewiesen –"), *therapists]
        for name in ("first_name", "last_name", "birth_date"):
            self.fields[name].error_messages["required"] = "Dieses Feld ist erforderlich."
        self.fields["birth_date"].error_messages["invalid"] = "Bitte ein gültiges Datum eingeben."

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean_birth_date(self) -> dt.date:
        value = self.cleaned_data["birth_date"]
        if value > _today():
            raise forms.ValidationError("Das Geburtsdatum darf nicht in der Zukunft liegen.")
        if value.year < 1900:
            raise forms.ValidationError("Bitte ein Geburtsdatum nach 1900 eingeben.")
        return value

    def clean_postal_code(self) -> str:
        value = self.cleaned_data["postal_code"].strip()
        if value and not PLZ_RE.match(value):
            raise forms.ValidationError("Die Postleitzahl besteht aus 5 Ziffern.")
        return value

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        if value and not PHONE_RE.match(value):
            raise forms.ValidationError("Bitte eine gültige Telefonnummer eingeben (Ziffern, Leerzeichen, +, /, -).")
        return value

    def clean_insurance_number(self) -> str:
        value = normalize_kvnr(self.cleaned_data["insurance_number"])
        if value and not kvnr_is_valid(value):
            raise forms.ValidationError(
                "Die Krankenversichertennummer ist ungültig (Buchstabe + 9 Ziffern, Prüfziffer stimmt nicht)."
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("insurance_type") == InsuranceType.GKV and not data.get("insurance_number") and "insurance_number" not in self.errors:
            self.add_error("insurance_number", "Für gesetzlich Versicherte ist die Krankenversichertennummer erforderlich.")
        if data.get("insurance_type") == InsuranceType.GKV and not data.get("insurer"):
            self.add_error("insurer", "Bitte die Krankenkasse angeben.")
        start, end = data.get("treatment_start"), data.get("treatment_end")
        if start and end and end < start:
            self.add_error("treatment_end", "Das Behandlungsende liegt vor dem Behandlungsbeginn.")
        if data.get("is_minor"):
            if not data.get("guardian_name"):
                self.add_error("guardian_name", "Bei Minderjährigen bitte die/den Sorgeberechtigte/n angeben.")
            if not data.get("guardian_custody"):
                self.add_error("guardian_custody", "Bitte das Sorgerecht angeben.")
        birth = data.get("birth_date")
        if birth and data.get("is_minor") is False:
            today = _today()
            age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
            if age < 18:
                self.add_error("is_minor", "Laut Geburtsdatum ist die Person minderjährig – bitte ankreuzen und Sorgeberechtigte angeben.")
        return data

    @classmethod
    def initial_from(cls, patient: Any) -> dict[str, Any]:
        from patients.services import STAMMDATEN_FIELDS

        initial = {f: getattr(patient, f) for f in STAMMDATEN_FIELDS}
        initial["therapist"] = str(patient.therapist_id or "")
        return initial


class DiagnosisForm(forms.Form):
    # Own id prefix: the patient page shows this form next to the consent form (both have "note").
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "diagnosis_%s")
        super().__init__(*args, **kwargs)

    icd_code = forms.CharField(
        label="ICD-10-GM-Code",
        max_length=10,
        widget=forms.TextInput(attrs={
            "list": "icd-options", "autocomplete": "off", "hx-get": reverse_lazy("patients:icd_search"),
            "hx-trigger": "keyup changed delay:250ms", "hx-target": "#icd-options", "hx-swap": "innerHTML",
        }),
    )
    certainty = forms.ChoiceField(label="Diagnosesicherheit", choices=Certainty.choices, initial="G")
    is_primary = forms.BooleanField(label="Hauptdiagnose", required=False)
    diagnosed_on = forms.DateField(label="Gestellt am", widget=DateInput(), initial=_today)
    note = forms.CharField(label="Anmerkung", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_icd_code(self) -> str:
        found = icd10gm.lookup(self.cleaned_data["icd_code"])
        if found is None:
            raise forms.ValidationError("Unbekannter ICD-10-GM-Code. Bitte einen Code aus der Liste wählen (z. B. F32.1).")
        if not found.terminal:
            raise forms.ValidationError(icd10gm.billing_hint(found.code) or f"{found.code} ist keine endständige Schlüsselnummer – bitte genauer kodieren.")
        self.cleaned_data["icd_version"] = found.version
        return found.code

    def clean_diagnosed_on(self) -> dt.date:
        value = self.cleaned_data["diagnosed_on"]
        if value > _today():
            raise forms.ValidationError("Das Datum darf nicht in der Zukunft liegen.")
        return value


class ConsentForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "consent_%s")
        super().__init__(*args, **kwargs)

    purpose = forms.ChoiceField(label="Zweck", choices=ConsentPurpose.choices)
    action = forms.ChoiceField(label="Erklärung", choices=ConsentAction.choices)
    effective_on = forms.DateField(label="Datum der Erklärung", widget=DateInput(), initial=_today)
    given_by = forms.ChoiceField(label="Erklärt von", choices=ConsentGivenBy.choices)
    note = forms.CharField(label="Anmerkung", required=False, max_length=500)

    def clean_effective_on(self) -> dt.date:
        value = self.cleaned_data["effective_on"]
        if value > _today():
            raise forms.ValidationError("Das Datum darf nicht in der Zukunft liegen.")
        return value


class ApprovalForm(forms.Form):
    phase = forms.ChoiceField(label="Phase", choices=Phase.choices)
    approved_sessions = forms.IntegerField(label="Bewilligte Sitzungen", min_value=1, max_value=300)
    approved_on = forms.DateField(label="Bewilligt am", widget=DateInput())
    sessions_used = forms.IntegerField(label="Davon bereits durchgeführt", min_value=0, initial=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("approved_sessions") is not None and (data.get("sessions_used") or 0) > data["approved_sessions"]:
            self.add_error("sessions_used", "Es können nicht mehr Sitzungen durchgeführt als bewilligt sein.")
        return data


class SessionsUsedForm(forms.Form):
    sessions_used = forms.IntegerField(label="Durchgeführte Sitzungen", min_value=0, max_value=300)


class ICDSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=50)
    icd_code = forms.CharField(required=False, max_length=50)
