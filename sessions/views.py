"""Session pages: create, the live view (note pad + AI panel), close, corrections.

Every view: the practice gate, then an access helper on the first line. Endpoints the page calls
in the background (autosave, AI panel) answer 401 instead of redirecting when the login expired,
so the page can re-authenticate in a dialog without losing text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from duktus import audit
from duktus.llm import gateway
from duktus.models import CLINICAL_ROLES
from duktus.tenancy import MemberRequest, practice_view
from patients.access import get_patient_for_user
from sessions import queries, services
from sessions.access import get_ai_request_for_user, get_session_for_user
from sessions.forms import CorrectionForm, DecisionForm, NoteForm, QuestionForm, SessionForm
from sessions.models import Status

CLINICAL = [r.value for r in CLINICAL_ROLES]


def background(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """401 (JSON) instead of a login redirect: fetch/htmx callers open the re-login dialog."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse({"error": "Ihre Anmeldung ist abgelaufen.", "login": True}, status=401)
        return view(request, *args, **kwargs)

    return wrapped


def _errors(form: Any) -> str:
    return " ".join(str(e) for errs in form.errors.values() for e in errs)


# --- sessions --------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def session_create(request: MemberRequest, patient_code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, patient_code, clinical=True)
    approvals = list(patient.approvals.all())
    form = SessionForm(request.POST or None, approvals=approvals)
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            session = services.create_session(patient=patient, date=d["date"], duration_minutes=d["duration_minutes"],
                                              setting=d["setting"], approval=d["approval"], user=request.user, request=request)
            if request.POST.get("start"):
                services.start_session(session=session, request=request)
            messages.success(request, "Sitzung wurde angelegt.")
            return redirect("sessions:detail", code=session.code)
        return render(request, "sessions/create.html", {"form": form, "patient": patient}, status=422)
    return render(request, "sessions/create.html", {"form": form, "patient": patient})


def _panel_context(request: HttpRequest, session: Any) -> dict[str, Any]:
    return {
        "ai_items": queries.ai_requests_of(session),
        "ai_notice": gateway.refusal_reason(session.patient),
        "question_form": QuestionForm(),
    }


@require_GET
@practice_view(roles=CLINICAL)
def session_detail(request: MemberRequest, code: Any) -> HttpResponse:
    """Planned: details and "Sitzung beginnen". Running: the live view. Done: the frozen note,
    its versions and the correction form."""
    session = get_session_for_user(request, code)
    audit.record(request, "session.view", patient=session.patient, obj=session)
    context: dict[str, Any] = {"session": session, "patient": session.patient}
    if session.status == Status.RUNNING:
        context.update(_panel_context(request, session))
    if session.status == Status.DONE:
        context.update(versions=queries.versions_of(session), ai_items=queries.ai_requests_of(session),
                       correction_form=CorrectionForm(initial={"text": session.note}))
    return render(request, "sessions/live.html", context)


@require_POST
@practice_view(roles=CLINICAL)
def session_start(request: MemberRequest, code: Any) -> HttpResponse:
    session = get_session_for_user(request, code)
    try:
        services.start_session(session=session, request=request)
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions:detail", code=session.code)


@require_POST
@background
@practice_view(roles=CLINICAL)
def note_save(request: MemberRequest, code: Any) -> HttpResponse:
    """Autosave (JSON for the page's note pad)."""
    session = get_session_for_user(request, code)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": _errors(form) or "Ungültige Eingabe."}, status=422)
    d = form.cleaned_data
    try:
        result = services.save_note(session=session, text=d["text"], revision=d["revision"] or 0, field=d["field"], request=request)
    except services.SessionError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"revision": result.revision, "saved_at": result.saved_at.isoformat(), "crisis": result.crisis})


@require_POST
@practice_view(roles=CLINICAL)
def session_close(request: MemberRequest, code: Any) -> HttpResponse:
    session = get_session_for_user(request, code)
    try:
        services.close_session(session=session, request=request)
        messages.success(request, "Sitzung abgeschlossen. Die Notiz ist als Version 1 festgeschrieben (§ 630f BGB).")
    except services.SessionError as exc:
        messages.error(request, str(exc))
    return redirect("sessions:detail", code=session.code)


@require_POST
@practice_view(roles=CLINICAL)
def note_correct(request: MemberRequest, code: Any) -> HttpResponse:
    session = get_session_for_user(request, code)
    form = CorrectionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.correct_note(session=session, text=form.cleaned_data["text"], reason=form.cleaned_data["reason"].strip(), request=request)
            messages.success(request, "Korrektur gespeichert. Das Original bleibt sichtbar.")
            return redirect("sessions:detail", code=session.code)
        except services.SessionError as exc:
            error = str(exc)
    context = {"session": session, "patient": session.patient, "versions": queries.versions_of(session),
               "ai_items": queries.ai_requests_of(session), "correction_form": form, "correction_error": error}
    return render(request, "sessions/live.html", context, status=422)


@require_GET
@background
@practice_view(roles=CLINICAL)
def crisis_slot(request: MemberRequest, code: Any) -> HttpResponse:
    """The crisis banner region, reloaded by the page after an autosave raised an event."""
    session = get_session_for_user(request, code)
    return render(request, "sessions/live.html#crisis", {"session": session, "patient": session.patient})


@require_GET
@background
def csrf_token(request: HttpRequest) -> HttpResponse:
    """A fresh CSRF token after re-login in the dialog (login rotates the token)."""
    return JsonResponse({"csrf": get_token(request)})


# --- AI panel ------------------------------------------------------------------------------------------
def _item_response(request: HttpRequest, item: Any, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "sessions/live.html#ai_item", {"item": item, "session": item.session, **extra}, status=status)


@require_POST
@background
@practice_view(roles=CLINICAL)
def ai_ask(request: MemberRequest, code: Any) -> HttpResponse:
    session = get_session_for_user(request, code)
    form = QuestionForm(request.POST)
    if session.status != Status.RUNNING:
        return _ask_error(request, "Fragen an die KI sind nur während einer laufenden Sitzung möglich.")
    if not form.is_valid():
        return _ask_error(request, _errors(form))
    item = services.ask(session=session, question=form.cleaned_data["question"].strip(), request=request)
    item.refresh_from_db()
    item.session = session
    # The page clears the question box and reloads the crisis banner region.
    return trigger_client_event(_item_response(request, item), "duktus:asked")


def _ask_error(request: HttpRequest, error: str) -> HttpResponse:
    """422 into the error slot above the question box; the question stays where it is."""
    response = render(request, "sessions/live.html#ask_error", {"error": error}, status=422)
    return reswap(retarget(response, "#ask-error"), "innerHTML")


@require_GET
@background
@practice_view(roles=CLINICAL)
def ai_item(request: MemberRequest, code: Any, item_code: Any) -> HttpResponse:
    """Polled about every second while the answer is being written."""
    item = get_ai_request_for_user(request, code, item_code)
    if not item.is_pending:
        audit.record(request, "session.ai.view", patient=item.session.patient, obj=item)
    return _item_response(request, item)


@require_POST
@background
@practice_view(roles=CLINICAL)
def ai_retry(request: MemberRequest, code: Any, item_code: Any) -> HttpResponse:
    item = get_ai_request_for_user(request, code, item_code)
    try:
        services.retry(item=item, override_warnings=request.POST.get("override") == "1", request=request)
    except services.SessionError as exc:
        return _item_response(request, item, status=422, item_error=str(exc))
    item.refresh_from_db()
    item.session = get_session_for_user(request, code)
    return _item_response(request, item)


@require_POST
@background
@practice_view(roles=CLINICAL)
def ai_cancel(request: MemberRequest, code: Any, item_code: Any) -> HttpResponse:
    item = get_ai_request_for_user(request, code, item_code)
    try:
        services.cancel(item=item, request=request)
    except services.SessionError as exc:
        return _item_response(request, item, status=422, item_error=str(exc))
    return _item_response(request, item)


@require_POST
@background
@practice_view(roles=CLINICAL)
def ai_decide(request: MemberRequest, code: Any, item_code: Any) -> HttpResponse:
    item = get_ai_request_for_user(request, code, item_code)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _item_response(request, item, status=422, item_error=_errors(form))
    try:
        block = services.decide(item=item, decision=form.cleaned_data["decision"], text=form.cleaned_data["text"], request=request)
    except services.SessionError as exc:
        return _item_response(request, item, status=422, item_error=str(exc))
    item.refresh_from_db()
    item.session.refresh_from_db(fields=["note_revision"])
    return _item_response(request, item, note_append=block, note_revision=item.session.note_revision)


@require_GET
@background
@practice_view(roles=CLINICAL)
def ai_seen(request: MemberRequest, code: Any, item_code: Any) -> HttpResponse:
    """"Was die KI gesehen hat": exactly the anonymized messages that left the system."""
    item = get_ai_request_for_user(request, code, item_code)
    sent = services.sent_messages(item=item, request=request)
    return render(request, "sessions/live.html#seen", {"item": item, "sent": sent})
