"""Tenancy: which practice a request acts for, and the one gate every practice view passes.

Access rules (README "Roles"): 404 for an object of another practice (or none), 403 for the
right practice but the wrong role. Owners and therapists must have TOTP before any patient data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject

from duktus.models import CLINICAL_ROLES, Membership, Practice, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

SESSION_PRACTICE_KEY = "duktus_practice"


class PracticeRequest(HttpRequest):
    """What our middleware (and django-htmx's) attaches (for type checkers and readers)."""

    membership: Membership | None
    practice: Practice | None
    htmx: HtmxDetails


class MemberRequest(PracticeRequest):
    """A request inside a practice_view: the gate has checked the login and the membership."""

    user: User
    membership: Membership
    practice: Practice


def member_request(request: HttpRequest) -> MemberRequest:
    """`request` as practice_view passed it on, for helpers that take any request (typing only)."""
    return cast(MemberRequest, request)


def _membership_for(request: HttpRequest) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("practice").filter(user=user).order_by("id")
    chosen = request.session.get(SESSION_PRACTICE_KEY)
    if chosen:
        for m in memberships:
            if str(m.practice.code) == chosen:
                return m
    return memberships.first()


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = SimpleLazyObject(lambda: _membership_for(request))
        request.membership = membership  # type: ignore[attr-defined]
        request.practice = SimpleLazyObject(lambda: membership.practice if membership else None)  # type: ignore[attr-defined]
        return self.get_response(request)


def tenant_context(request: HttpRequest) -> dict[str, Any]:
    m = getattr(request, "membership", None)
    return {"membership": m if m else None}


def has_totp(user: Any) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def practice_view(roles: Iterable[str] | None = None) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorator for every view that shows practice data.

    Login required; a membership required (403 otherwise); owners and therapists without TOTP
    are sent to set it up first; `roles` limits the view (403 for the others).
    """
    allowed = set(roles) if roles else {r.value for r in Role}

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: PracticeRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = request.membership
            if not membership:
                raise PermissionDenied("Kein Zugang zu einer Praxis.")
            if membership.role in CLINICAL_ROLES and not has_totp(request.user):
                return redirect("mfa_activate_totp")
            if membership.role not in allowed:
                raise PermissionDenied("Diese Funktion ist für Ihre Rolle nicht freigegeben.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
