"""Crisis pathway pages: document an open crisis event, report one by hand, the Krisenplan
(form and print page). Clinical roles only; assistants 403, other practices 404."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from duktus import audit
from duktus.models import CLINICAL_ROLES
from duktus.tenancy import MemberRequest, practice_view
from patients import crisis
from patients.access import get_child_for_user, get_patient_for_user
from patients.crisis import CrisisAction, CrisisEvent, CrisisSource, SafetyPlan

CLINICAL = [r.value for r in CLINICAL_ROLES]


class CrisisDocumentForm(forms.Form):
    actions = forms.MultipleChoiceField(
        label="Was haben Sie getan?", choices=CrisisAction.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Bitte mindestens eine Maßnahme auswählen."},
    )
    note = forms.CharField(
        label="Dokumentation / Begründung", required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Bei „Kein Handlungsbedarf“ ist eine Begründung Pflicht.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if CrisisAction.NO_ACTION in (data.get("actions") or []) and not (data.get("note") or "").strip():
            self.add_error("note", "Für „Kein Handlungsbedarf“ ist eine Begründung erforderlich.")
        return data


class CrisisRaiseForm(forms.Form):
    summary = forms.CharField(
        label="Anlass", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Bitte den Anlass angeben."},
        help_text="Z. B. Anruf einer Angehörigen, Äußerung in einer E-Mail. Wird verschlüsselt gespeichert.",
    )


class SafetyPlanForm(forms.Form):
    warning_signs = forms.CharField(label="1. Warnzeichen", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="Gedanken, Gefühle, Situationen, die eine Krise ankündigen.")
    coping_strategies = forms.CharField(label="2. Was ich selbst tun kann", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                        help_text="Eigene Bewältigungsstrategien, Ablenkung, Beruhigung.")
    people_places = forms.CharField(label="3. Menschen und Orte", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="Wen ich anrufen, wohin ich gehen kann (Name, Telefon).")
    professional_contacts = forms.CharField(label="4. Professionelle Hilfe", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                            help_text="Praxis, Ärztin/Arzt, Krisendienst, Klinik (mit Telefonnummern).")
    means_restriction = forms.CharField(label="5. Mittel sichern", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
                                        help_text="Wie gefährliche Mittel (Medikamente, Waffen …) außer Reichweite kommen.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any((data.get(f) or "").strip() for f in SafetyPlan.FIELDS):
            raise forms.ValidationError("Bitte mindestens einen Abschnitt ausfüllen.")
        return data


def _plan_for(patient: Any) -> SafetyPlan | None:
    plan = SafetyPlan.objects.filter(patient=patient).select_related("updated_by").first()
    if plan is not None:
        plan.patient = patient
    return plan


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def crisis_document(request: MemberRequest, code: Any, event_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    event = get_child_for_user(request, CrisisEvent, patient, event_code)
    if not event.is_open:
        messages.info(request, "Dieser Hinweis ist bereits dokumentiert.")
        return redirect("patients:detail", code=patient.code)
    form = CrisisDocumentForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                crisis.document_crisis(event=event, actions=form.cleaned_data["actions"], note=form.cleaned_data["note"], request=request)
            except ValueError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Das Vorgehen wurde dokumentiert.")
            return redirect("patients:detail", code=patient.code)
        return render(request, "patients/crisis_document.html", {"patient": patient, "event": event, "form": form,
                                                                   "steps": crisis.PROTOCOL_STEPS, "numbers": crisis.EMERGENCY_NUMBERS}, status=422)
    audit.record(request, "crisis.view", patient=patient, obj=event)
    return render(request, "patients/crisis_document.html", {"patient": patient, "event": event, "form": form,
                                                               "steps": crisis.PROTOCOL_STEPS, "numbers": crisis.EMERGENCY_NUMBERS})


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def crisis_raise(request: MemberRequest, code: Any) -> HttpResponse:
    """Report a crisis by hand (e.g. after a phone call). Each report is its own event."""
    patient = get_patient_for_user(request, code, clinical=True)
    form = CrisisRaiseForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            crisis.raise_crisis(patient=patient, source=CrisisSource.MANUAL, source_id=uuid.uuid4(),
                                summary=form.cleaned_data["summary"], request=request)
            messages.success(request, "Der Krisenhinweis wurde angelegt.")
            return redirect("patients:detail", code=patient.code)
        return render(request, "patients/crisis_raise.html", {"patient": patient, "form": form}, status=422)
    return render(request, "patients/crisis_raise.html", {"patient": patient, "form": form})


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def safety_plan(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    plan = _plan_for(patient)
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            crisis.save_safety_plan(patient=patient, data=form.cleaned_data, request=request)
            messages.success(request, "Der Krisenplan wurde gespeichert.")
            return redirect("patients:safety_plan", code=patient.code)
        return render(request, "patients/safety_plan.html", {"patient": patient, "plan": plan, "form": form}, status=422)
    initial = {f: getattr(plan, f) for f in SafetyPlan.FIELDS} if plan else {}
    audit.record(request, "safety_plan.view", patient=patient, obj=plan)
    return render(request, "patients/safety_plan.html", {"patient": patient, "plan": plan, "form": SafetyPlanForm(initial=initial)})


@require_GET
@practice_view(roles=CLINICAL)
def safety_plan_print(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    plan = _plan_for(patient)
    if plan is None:
        messages.info(request, "Es gibt noch keinen Krisenplan.")
        return redirect("patients:safety_plan", code=patient.code)
    audit.record(request, "safety_plan.print", patient=patient, obj=plan)
    sections = [(SafetyPlanForm.base_fields[f].label, getattr(plan, f)) for f in SafetyPlan.FIELDS]
    return render(request, "patients/safety_plan_print.html", {"patient": patient, "plan": plan, "sections": sections,
                                                                "numbers": crisis.EMERGENCY_NUMBERS})
