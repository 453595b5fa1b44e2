"""Access helpers for questionnaire objects: 404 across practices (or for someone else's
notification), 403 for the wrong role. Patients come from patients.access."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from assessments.instruments import INSTRUMENTS
from assessments.models import InstrumentLicence, Notification
from duktus.models import Role
from duktus.tenancy import MemberRequest


def get_instrument_or_404(code: str) -> str:
    if code not in INSTRUMENTS:
        raise Http404("Unbekannter Fragebogen.")
    return code


def require_owner(request: MemberRequest) -> None:
    if request.membership.role != Role.OWNER:
        raise PermissionDenied("Lizenzen erfasst die Praxisinhaberin bzw. der Praxisinhaber.")


def get_notification_for_user(request: MemberRequest, code: Any) -> Notification:
    membership = request.membership
    try:
        return Notification.objects.get(code=code, recipient=request.user, practice=membership.practice)
    except Notification.DoesNotExist:
        raise Http404("Benachrichtigung nicht gefunden.") from None


def get_licence_for_user(request: MemberRequest, code: Any) -> InstrumentLicence:
    practice = request.membership.practice
    try:
        licence = InstrumentLicence.objects.get(code=code, practice=practice)
    except InstrumentLicence.DoesNotExist:
        raise Http404("Lizenz nicht gefunden.") from None
    require_owner(request)
    licence.practice = practice
    return licence
