"""The one way to a document: 404 across practices (and for unknown codes), 403 for the wrong
role or a patient not assigned to the therapist. Documents are clinical: assistants get 403."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from documents.models import Document, DocumentVersion
from duktus.models import Role
from duktus.tenancy import MemberRequest
from patients.access import can_see_patient


def get_document_for_user(request: MemberRequest, code: Any) -> Document:
    membership = request.membership
    practice = membership.practice
    try:
        document = Document.objects.select_related("patient__data_key", "signed_by").get(code=code, patient__practice=practice)
    except Document.DoesNotExist:
        raise Http404("Dokument nicht gefunden.") from None
    document.patient.practice = practice  # share one practice instance (and its unwrapped key)
    if membership.role == Role.ASSISTANT:
        raise PermissionDenied("Klinische Dokumente sind für die Praxisassistenz nicht freigegeben.")
    if not can_see_patient(membership, document.patient):
        raise PermissionDenied("Diese Patientin / dieser Patient ist Ihnen nicht zugewiesen.")
    return document


def get_version(document: Document, number: Any) -> DocumentVersion:
    try:
        version = DocumentVersion.objects.select_related("author").get(document=document, number=int(number))
    except (DocumentVersion.DoesNotExist, TypeError, ValueError):
        raise Http404("Version nicht gefunden.") from None
    version.document = document
    return version


def require_owner(request: MemberRequest) -> None:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied("Nur die Praxisinhaberin / der Praxisinhaber kann den Briefkopf ändern.")
