"""The one way to a session: 404 across practices (and for patients a therapist may not see is
403, as for the patient itself), 403 for assistants (session notes are clinical content)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from duktus.models import Role
from duktus.tenancy import MemberRequest
from patients.access import can_see_patient
from sessions.models import AIRequest, TherapySession


def get_session_for_user(request: MemberRequest, code: Any) -> TherapySession:
    membership = request.membership
    practice = membership.practice
    try:
        session = (TherapySession.objects.select_related("patient__data_key", "approval")
                   .get(code=code, patient__practice=practice))
    except TherapySession.DoesNotExist:
        raise Http404("Sitzung nicht gefunden.") from None
    session.patient.practice = practice  # one practice instance (and its unwrapped key)
    if not can_see_patient(membership, session.patient):
        raise PermissionDenied("Diese Patientin / dieser Patient ist Ihnen nicht zugewiesen.")
    if membership.role == Role.ASSISTANT:
        raise PermissionDenied("Sitzungsnotizen sind für die Praxisassistenz nicht freigegeben.")
    return session


def get_ai_request_for_user(request: MemberRequest, session_code: Any, code: Any) -> AIRequest:
    session = get_session_for_user(request, session_code)
    try:
        item = AIRequest.objects.select_related("llm_call").get(code=code, session=session)
    except AIRequest.DoesNotExist:
        raise Http404("Anfrage nicht gefunden.") from None
    item.session = session
    return item
