"""Access helpers for privacy objects: 404 for another practice (or none)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from duktus.models import ErasureCertificate, ExportJob, Role
from duktus.tenancy import MemberRequest


def get_export_for_user(request: MemberRequest, code: Any) -> ExportJob:
    """Same practice (else 404); only the requesting clinician or the owner (else 403)."""
    membership = request.membership
    try:
        job = ExportJob.objects.select_related("practice").get(code=code, practice=membership.practice)
    except ExportJob.DoesNotExist:
        raise Http404("Export nicht gefunden.") from None
    if job.requested_by_id != membership.user_id and membership.role != Role.OWNER:
        raise PermissionDenied("Diese Datenauskunft wurde von einer anderen Person angefordert.")
    return job


def get_certificate_for_user(request: MemberRequest, code: Any) -> ErasureCertificate:
    practice = request.membership.practice
    try:
        return ErasureCertificate.objects.get(code=code, practice=practice)
    except ErasureCertificate.DoesNotExist:
        raise Http404("Löschbestätigung nicht gefunden.") from None
