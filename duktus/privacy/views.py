"""Patients' rights: export (Art. 15/20), restriction (Art. 18), erasure (Art. 17).
Every view: practice_view gate first, then the access helper. Clinical roles only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from duktus import audit
from duktus.models import CLINICAL_ROLES, Role
from duktus.privacy import erasure, export, retention
from duktus.privacy.access import get_certificate_for_user, get_export_for_user
from duktus.tenancy import practice_view
from patients.access import get_patient_for_user

CLINICAL = [r.value for r in CLINICAL_ROLES]


class ExportForm(forms.Form):
    withheld = forms.MultipleChoiceField(
        label="Zurückhalten", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[("process_notes", "Prozessnotizen (§ 630g Abs. 1 BGB)"), ("third_party", "Angaben über Dritte")],
    )
    withheld_reason = forms.CharField(label="Begründung", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("withheld") and not data.get("withheld_reason", "").strip():
            self.add_error("withheld_reason", "Bitte begründen Sie, warum Teile zurückgehalten werden.")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Begründung", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


def _page(request: HttpRequest, patient: Any, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "patient": patient,
        "check": erasure.check_erasure(patient),
        "restricted": erasure.is_restricted(patient),
        "is_owner": request.membership.role == Role.OWNER,  # type: ignore[attr-defined]
        "export_form": ExportForm(),
        "restrict_form": ReasonForm(),
        "force_form": ReasonForm(),
        **extra,
    }
    return render(request, "privacy/patient.html", context, status=status)


@require_GET
@practice_view(roles=CLINICAL)
def patient_privacy(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    audit.record(request, "privacy.view", patient=patient)
    return _page(request, patient)


@require_POST
@practice_view(roles=CLINICAL)
def export_start(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, patient, status=422, export_form=form)
    job, password = export.request_export(
        request=request, patient=patient, withheld=form.cleaned_data["withheld"],
        withheld_reason=form.cleaned_data["withheld_reason"].strip(),
    )
    # The password is shown exactly once, in this response; it is never stored in plaintext.
    return render(request, "privacy/export_started.html", {"patient": patient, "job": job, "password": password})


@require_GET
@practice_view(roles=CLINICAL)
def export_status(request: HttpRequest, job_code: Any) -> HttpResponse:
    job = get_export_for_user(request, job_code)
    job.refresh_from_db()
    return render(request, "privacy/export_started.html#status", {"job": job})


@require_GET
@practice_view(roles=CLINICAL)
def export_download(request: HttpRequest, job_code: Any) -> HttpResponse:
    job = get_export_for_user(request, job_code)
    content = export.take_download(job)
    if content is None:
        raise Http404("Der Download-Link wurde bereits verwendet oder ist abgelaufen.")
    audit.record(request, "privacy.export_downloaded", obj=job)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="datenauskunft.zip"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@practice_view(roles=CLINICAL)
def restrict(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _page(request, patient, status=422, restrict_form=form)
    erasure.restrict(request=request, patient=patient, reason=form.cleaned_data["reason"])
    messages.success(request, "Die Verarbeitung ist eingeschränkt; die Löschung ist zum Ende der Aufbewahrungsfrist geplant.")
    return redirect("privacy:patient", code=patient.code)


@require_POST
@practice_view(roles=CLINICAL)
def erase(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    force_reason = ""
    if request.POST.get("force"):
        if request.membership.role != Role.OWNER:  # type: ignore[attr-defined]
            raise PermissionDenied("Nur die Praxisinhaberin / der Praxisinhaber kann eine Löschung erzwingen.")
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return _page(request, patient, status=422, force_form=form)
        force_reason = form.cleaned_data["reason"]
    try:
        cert = erasure.erase(request=request, patient=patient, force_reason=force_reason)
    except erasure.ErasureRefused as exc:
        audit.record(request, "privacy.erasure_refused", patient=patient)
        return _page(request, patient, status=422, refused=str(exc))
    messages.success(request, "Die Daten wurden gelöscht.")
    return redirect("privacy:certificate", cert_code=cert.code)


@require_GET
@practice_view(roles=CLINICAL)
def certificate(request: HttpRequest, cert_code: Any) -> HttpResponse:
    cert = get_certificate_for_user(request, cert_code)
    audit.record(request, "privacy.certificate_view", obj=cert)
    response = render(request, "privacy/certificate.html", {"cert": cert})
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="loeschbestaetigung-{cert.patient_pseudonym}.html"'
    return response


@require_GET
@practice_view(roles=[Role.OWNER.value])
def retention_overview(request: HttpRequest) -> HttpResponse:
    practice = request.membership.practice  # type: ignore[attr-defined]
    notices = retention.notices_for(practice)
    for patient, _ in notices:
        patient.practice = practice
    audit.record(request, "privacy.retention_view")
    return render(request, "privacy/retention.html", {"notices": notices})
