"""Patients' rights: export (Art. 15/20), restriction (Art. 18), erasure (Art. 17).
Every view: practice_view gate first, then the access helper. Clinical roles only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from duktus import audit
from duktus.models import CLINICAL_ROLES, ErasureCertificate, Role
from duktus.privacy import erasure, export, retention
from duktus.privacy import settings as privacy_settings
from duktus.privacy.access import get_certificate_for_user, get_export_for_user
from duktus.tenancy import MemberRequest, practice_view
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
    reason = forms.CharField(label="Begründung", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "Bitte geben Sie eine Begründung an."})


class ForceForm(ReasonForm):
    reason = forms.CharField(
        label="Rechtliche Begründung (ohne klinische Angaben)", max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="z. B. Aktenzeichen einer Anordnung oder der Rechtsgrund; erscheint in der Löschbestätigung.",
        error_messages={"required": "Bitte dokumentieren Sie den Rechtsgrund für die erzwungene Löschung."})


class PrivacySettingsForm(forms.Form):
    record_retention_years = forms.IntegerField(
        label="Aufbewahrung der Akten (Jahre nach Behandlungsende)", min_value=privacy_settings.MIN_RECORD_YEARS,
        max_value=privacy_settings.MAX_RECORD_YEARS,
        error_messages={"min_value": "Die gesetzliche Mindestfrist beträgt 10 Jahre (§ 630f Abs. 3 BGB).",
                        "max_value": "Höchstens 30 Jahre.", "required": "Bitte angeben.", "invalid": "Bitte eine ganze Zahl angeben."})
    audit_retention_years = forms.IntegerField(
        label="Aufbewahrung des Zugriffsprotokolls (Jahre)", min_value=privacy_settings.MIN_AUDIT_YEARS,
        max_value=privacy_settings.MAX_AUDIT_YEARS,
        error_messages={"min_value": "Mindestens 1 Jahr.", "max_value": "Höchstens 30 Jahre.", "required": "Bitte angeben.",
                        "invalid": "Bitte eine ganze Zahl angeben."})
    backup_window_days = forms.IntegerField(
        label="Backup-Fenster (Tage, wie lange Backups aufbewahrt werden)", min_value=privacy_settings.MIN_BACKUP_DAYS,
        max_value=privacy_settings.MAX_BACKUP_DAYS,
        error_messages={"min_value": "Mindestens 1 Tag.", "max_value": "Höchstens 365 Tage.", "required": "Bitte angeben.",
                        "invalid": "Bitte eine ganze Zahl angeben."})
    backup_note = forms.CharField(label="Backup-Konzept (Dokumentation)", max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


def _page(request: MemberRequest, patient: Any, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "patient": patient,
        "check": erasure.check_erasure(patient),
        "restricted": erasure.is_restricted(patient),
        "is_owner": request.membership.role == Role.OWNER,
        "export_form": ExportForm(),
        "restrict_form": ReasonForm(),
        "force_form": ForceForm(),
        "separate": export.separate_summary(patient),
        **extra,
    }
    return render(request, "privacy/patient.html", context, status=status)


@require_GET
@practice_view(roles=CLINICAL)
def patient_privacy(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    audit.record(request, "privacy.view", patient=patient)
    return _page(request, patient)


@require_POST
@practice_view(roles=CLINICAL)
def export_start(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _page(request, patient, status=422, export_form=form)
    job, password = export.request_export(
        request=request, patient=patient, withheld=form.cleaned_data["withheld"],
        withheld_reason=form.cleaned_data["withheld_reason"].strip(),
    )
    # The password is shown exactly once, in this response; it is never stored in plaintext.
    response = render(request, "privacy/export_started.html", {"patient": patient, "job": job, "password": password})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@practice_view(roles=CLINICAL)
def export_status(request: MemberRequest, job_code: Any) -> HttpResponse:
    job = get_export_for_user(request, job_code)
    job.refresh_from_db()
    return render(request, "privacy/export_started.html#status", {"job": job})


@require_GET
@practice_view(roles=CLINICAL)
def export_download(request: MemberRequest, job_code: Any) -> HttpResponse:
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
def restrict(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _page(request, patient, status=422, restrict_form=form)
    erasure.restrict(request=request, patient=patient, reason=form.cleaned_data["reason"])
    messages.success(request, "Die Verarbeitung ist eingeschränkt; die Löschung ist zum Ende der Aufbewahrungsfrist geplant.")
    return redirect("privacy:patient", code=patient.code)


@require_POST
@practice_view(roles=CLINICAL)
def lift_restriction(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    erasure.lift_restriction(request=request, patient=patient)
    messages.success(request, "Die Einschränkung der Verarbeitung ist aufgehoben.")
    return redirect("privacy:patient", code=patient.code)


@require_POST
@practice_view(roles=CLINICAL)
def erase(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    force_reason = ""
    if request.POST.get("force"):
        if request.membership.role != Role.OWNER:
            raise PermissionDenied("Nur die Praxisinhaberin / der Praxisinhaber kann eine Löschung erzwingen.")
        form = ForceForm(request.POST)
        if not form.is_valid():
            return _page(request, patient, status=422, force_form=form)
        force_reason = form.cleaned_data["reason"]
    elif erasure.check_erasure(patient).allowed and request.POST.get("confirm") != "on":
        # Erasure cannot be undone: one stray click must not do it.
        return _page(request, patient, status=422, confirm_error="Bitte bestätigen Sie, dass alle Daten endgültig gelöscht werden sollen.")
    try:
        cert = erasure.erase(request=request, patient=patient, force_reason=force_reason)
    except erasure.ErasureRefused as exc:
        audit.record(request, "privacy.erasure_refused", patient=patient)
        return _page(request, patient, status=422, refused=str(exc))
    messages.success(request, "Die Daten wurden gelöscht.")
    return redirect("privacy:certificate", cert_code=cert.code)


@require_GET
@practice_view(roles=CLINICAL)
def certificate(request: MemberRequest, cert_code: Any) -> HttpResponse:
    cert = get_certificate_for_user(request, cert_code)
    audit.record(request, "privacy.certificate_view", obj=cert)
    context = {"cert": cert, "deleted": erasure.deleted_rows(cert)}
    if request.GET.get("download"):
        # A standalone document (no navigation), to file with the practice's records.
        response = render(request, "privacy/certificate_file.html", context)
        response["Content-Disposition"] = f'attachment; filename="loeschbestaetigung-{cert.patient_pseudonym}.html"'
        return response
    return render(request, "privacy/certificate.html", context)


@require_GET
@practice_view(roles=[Role.OWNER.value])
def retention_overview(request: MemberRequest) -> HttpResponse:
    practice = request.membership.practice
    notices = retention.notices_for(practice)
    restricted = retention.restricted_for(practice)
    for patient, _ in [*notices, *restricted]:
        patient.practice = practice
    audit.record(request, "privacy.retention_view")
    return render(request, "privacy/retention.html", {
        "notices": notices, "restricted": restricted, "settings": privacy_settings.for_practice(practice),
        "certificates": ErasureCertificate.objects.filter(practice=practice).order_by("-erased_at")[:50],
    })


@require_http_methods(["GET", "POST"])
@practice_view(roles=[Role.OWNER.value])
def privacy_settings_edit(request: MemberRequest) -> HttpResponse:
    practice = request.membership.practice
    current = privacy_settings.for_practice(practice)
    if request.method == "POST":
        form = PrivacySettingsForm(request.POST)
        if form.is_valid():
            privacy_settings.update(practice=practice, user=request.user, **form.cleaned_data)
            audit.record(request, "privacy.settings_changed", detail=(
                f"Akten {form.cleaned_data['record_retention_years']} J., Protokoll {form.cleaned_data['audit_retention_years']} J., "
                f"Backup {form.cleaned_data['backup_window_days']} T."))
            messages.success(request, "Die Aufbewahrungseinstellungen sind gespeichert.")
            return redirect("privacy:retention")
        return render(request, "privacy/settings.html", {"form": form}, status=422)
    form = PrivacySettingsForm(initial={
        "record_retention_years": current.record_retention_years, "audit_retention_years": current.audit_retention_years,
        "backup_window_days": current.backup_window_days, "backup_note": current.backup_note})
    return render(request, "privacy/settings.html", {"form": form})
