"""Patient pages. Every view: practice_view gate first, then the access helper."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from duktus import audit
from duktus.models import CLINICAL_ROLES, Membership, Role
from duktus.tenancy import MemberRequest, practice_view
from patients import icd10gm, queries, services
from patients.access import get_child_for_user, get_patient_for_user
from patients.forms import ApprovalForm, ConsentForm, DiagnosisForm, ICDSearchForm, PatientForm, SessionsUsedForm
from patients.models import Approval, ConsentRecord, Diagnosis

CLINICAL = [r.value for r in CLINICAL_ROLES]


def _therapist_choices(request: MemberRequest) -> list[tuple[str, str]] | None:
    """Only owners assign patients to therapists."""
    membership = request.membership
    if membership.role != Role.OWNER:
        return None
    members = Membership.objects.filter(practice=membership.practice, role__in=CLINICAL).select_related("user").order_by("display_name")
    return [(str(m.user_id), m.display_name or m.user.email) for m in members]


def _therapist_from(request: MemberRequest, form: PatientForm) -> Any:
    value = form.cleaned_data.get("therapist")
    if not value:
        return None
    return get_user_model().objects.get(
        pk=int(value), memberships__practice=request.membership.practice, memberships__role__in=CLINICAL
    )


@require_http_methods(["GET", "POST"])
@practice_view()
def patient_list(request: MemberRequest) -> HttpResponse:
    # The name search is a POST: a name in a query string ends up in access logs, browser history
    # and Referer headers. A search changes nothing, so it renders instead of redirecting.
    search = ICDSearchForm(request.POST if request.method == "POST" else None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    too_short = bool(query) and len(query.replace(" ", "")) < 2
    patients = [] if too_short else queries.patient_rows(request.membership, query)
    audit.record(request, "patient.list", detail="search" if query else "")
    context = {"patients": patients, "query": query, "too_short": too_short}
    template = "patients/list.html#results" if request.htmx else "patients/list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@practice_view()
def patient_create(request: MemberRequest) -> HttpResponse:
    membership = request.membership
    therapists = _therapist_choices(request)
    form = PatientForm(request.POST or None, therapists=therapists)
    if request.method == "POST":
        if form.is_valid():
            if therapists is not None:
                therapist = _therapist_from(request, form)
            else:
                therapist = request.user if membership.role == Role.THERAPIST else None
            patient = services.create_patient(practice=membership.practice, data=form.cleaned_data, therapist=therapist, request=request)
            messages.success(request, "Patient/in wurde angelegt.")
            return redirect("patients:detail", code=patient.code)
        return render(request, "patients/form.html", {"form": form, "creating": True}, status=422)
    return render(request, "patients/form.html", {"form": form, "creating": True})


@require_GET
@practice_view()
def patient_detail(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code)
    membership = request.membership
    clinical = membership.role in CLINICAL
    audit.record(request, "patient.view", patient=patient, obj=patient)
    kzt_total = services.kzt_sessions_total(patient)
    approvals = [(a, a.warnings(kzt_total)) for a in patient.approvals.all()]
    context: dict[str, Any] = {
        "patient": patient,
        "clinical": clinical,
        "approvals": approvals,
        "approval_form": ApprovalForm(),
    }
    if clinical:
        diagnoses = list(patient.diagnoses.all())
        consents = list(patient.consents.select_related("recorded_by").all())
        rows: tuple[Diagnosis | ConsentRecord, ...] = (*diagnoses, *consents)
        for row in rows:
            row.patient = patient
        context.update(
            diagnoses=diagnoses,
            consents=consents,
            ai_consent=patient.has_ai_consent(),
            diagnosis_form=DiagnosisForm(),
            consent_form=ConsentForm(),
            access_log=queries.access_log(patient),
            timeline=_timeline(patient, diagnoses, consents),
        )
    return render(request, "patients/detail.html", context)


def _back_to_patient(request: MemberRequest, patient: Any) -> HttpResponse:
    """After a successful POST: a full redirect, also when the form was sent by htmx."""
    url = patient.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _timeline(patient: Any, diagnoses: list[Diagnosis], consents: list[Any]) -> list[dict[str, Any]]:
    """The patient's history, newest first. Later apps (sessions, questionnaires, documents)
    add their events here."""
    events: list[dict[str, Any]] = [{"date": patient.created_at.date(), "label": "Patient/in angelegt"}]
    if patient.treatment_start:
        events.append({"date": patient.treatment_start, "label": "Behandlungsbeginn"})
    if patient.treatment_end:
        events.append({"date": patient.treatment_end, "label": "Behandlungsende"})
    for d in diagnoses:
        events.append({"date": d.diagnosed_on, "label": f"Diagnose {d.icd_code} ({d.certainty})"})
    for c in consents:
        events.append({"date": c.effective_on, "label": f"Einwilligung {c.get_purpose_display()}: {c.get_action_display()}"})
    for a in patient.approvals.all():
        events.append({"date": a.approved_on, "label": f"Bewilligung {a.get_phase_display()}: {a.approved_sessions} Sitzungen"})
    return sorted(events, key=lambda e: e["date"], reverse=True)


@require_http_methods(["GET", "POST"])
@practice_view()
def patient_edit(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code)
    therapists = _therapist_choices(request)
    if request.method == "POST":
        form = PatientForm(request.POST, therapists=therapists)
        if form.is_valid():
            services.update_patient(patient=patient, data=form.cleaned_data, request=request)
            if therapists is not None:
                new_therapist = _therapist_from(request, form)
                if (new_therapist.pk if new_therapist else None) != patient.therapist_id:
                    services.assign_therapist(patient=patient, therapist=new_therapist, request=request)
            messages.success(request, "Stammdaten wurden gespeichert.")
            return redirect("patients:detail", code=patient.code)
        return render(request, "patients/form.html", {"form": form, "patient": patient}, status=422)
    audit.record(request, "patient.edit_form", patient=patient, obj=patient)
    form = PatientForm(initial=PatientForm.initial_from(patient), therapists=therapists)
    return render(request, "patients/form.html", {"form": form, "patient": patient})


@require_POST
@practice_view(roles=CLINICAL)
def diagnosis_add(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = DiagnosisForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.add_diagnosis(
            patient=patient, icd_code=d["icd_code"], icd_version=d["icd_version"], certainty=d["certainty"],
            is_primary=d["is_primary"], diagnosed_on=d["diagnosed_on"], note=d["note"], request=request,
        )
        messages.success(request, "Diagnose wurde hinzugefügt.")
        return _back_to_patient(request, patient)
    diagnoses = list(patient.diagnoses.all())
    for row in diagnoses:
        row.patient = patient
    return render(request, "patients/detail.html#diagnoses", {"patient": patient, "diagnoses": diagnoses, "diagnosis_form": form}, status=422)


@require_POST
@practice_view(roles=CLINICAL)
def diagnosis_end(request: MemberRequest, code: Any, diagnosis_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    diagnosis = get_child_for_user(request, Diagnosis, patient, diagnosis_code)
    from django.utils import timezone

    services.end_diagnosis(diagnosis=diagnosis, ended_on=timezone.localdate(), request=request)
    messages.success(request, "Diagnose wurde als beendet markiert.")
    return redirect("patients:detail", code=patient.code)


@require_POST
@practice_view(roles=CLINICAL)
def consent_add(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ConsentForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.record_consent(
            patient=patient, purpose=d["purpose"], action=d["action"], effective_on=d["effective_on"],
            given_by=d["given_by"], note=d["note"], request=request,
        )
        messages.success(request, "Einwilligungserklärung wurde dokumentiert.")
        return _back_to_patient(request, patient)
    consents = list(patient.consents.all())
    for row in consents:
        row.patient = patient
    return render(request, "patients/detail.html#consents", {"patient": patient, "consents": consents, "consent_form": form, "ai_consent": patient.has_ai_consent()}, status=422)


@require_POST
@practice_view()
def approval_add(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code)
    form = ApprovalForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        services.add_approval(
            patient=patient, phase=d["phase"], approved_sessions=d["approved_sessions"],
            approved_on=d["approved_on"], sessions_used=d["sessions_used"], request=request,
        )
        messages.success(request, "Bewilligung wurde gespeichert.")
        return _back_to_patient(request, patient)
    kzt_total = services.kzt_sessions_total(patient)
    approvals = [(a, a.warnings(kzt_total)) for a in patient.approvals.all()]
    return render(request, "patients/detail.html#approvals", {"patient": patient, "approvals": approvals, "approval_form": form}, status=422)


@require_POST
@practice_view()
def approval_used(request: MemberRequest, code: Any, approval_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code)
    approval = get_child_for_user(request, Approval, patient, approval_code)
    form = SessionsUsedForm(request.POST)
    if form.is_valid() and form.cleaned_data["sessions_used"] <= approval.approved_sessions:
        services.set_sessions_used(approval=approval, sessions_used=form.cleaned_data["sessions_used"], request=request)
        messages.success(request, "Sitzungszahl wurde aktualisiert.")
    else:
        messages.error(request, f"Bitte eine Zahl zwischen 0 und {approval.approved_sessions} eingeben.")
    return redirect("patients:detail", code=patient.code)


@require_GET
@practice_view(roles=CLINICAL)
def icd_search(request: MemberRequest) -> HttpResponse:
    form = ICDSearchForm(request.GET)
    query = (form.cleaned_data["q"] or form.cleaned_data["icd_code"]) if form.is_valid() else ""
    results = icd10gm.search(query, limit=20) if len(query.strip()) >= 1 else []
    return render(request, "patients/icd_options.html", {"results": results})
