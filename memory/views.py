"""Memory on the patient page: review of proposals (HTMX), entries by hand, goals, the search
box and the patient summary. Clinical roles only: assistants 403, other practices 404.

HTMX requests get the memory section (`#memory`) back; plain POSTs redirect to the patient page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import retarget

from duktus import audit
from duktus.llm.errors import GatewayError
from duktus.models import CLINICAL_ROLES
from duktus.tenancy import practice_view
from memory import queries, services
from memory.access import get_entry_for_user, get_patient, get_run_for_user
from memory.forms import REVIEW_ACTIONS, EntryForm, ReviewForm, SearchForm, SummaryForm
from memory.models import EntryStatus, EntryType

CLINICAL = [r.value for r in CLINICAL_ROLES]
SECTION = "memory/_section.html"


def section_context(patient: Any, **overrides: Any) -> dict[str, Any]:
    ctx = {"patient": patient, "add_form": EntryForm(initial={"type": EntryType.CLINICAL_FACT}),
           "search_form": SearchForm(), **queries.section(patient)}
    ctx.update(overrides)
    return ctx


def _section(request: HttpRequest, patient: Any, status: int = 200, **overrides: Any) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, SECTION, section_context(patient, **overrides), status=status)
    if status >= 400:
        messages.error(request, overrides.get("memory_error") or "Bitte die Eingaben prüfen.")
    return redirect(reverse("patients:detail", kwargs={"code": patient.code}) + "#memory")


@require_GET
@practice_view(roles=CLINICAL)
def section(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient(request, code)
    audit.record(request, "memory.view", patient=patient)
    return render(request, SECTION, section_context(patient))


@require_GET
@practice_view(roles=CLINICAL)
def entries(request: HttpRequest, code: Any) -> HttpResponse:
    """All entries of one type (?type=…) or the archive (?status=archiv), beyond the section's
    newest ten. Plain forms: an action returns to the patient page."""
    patient = get_patient(request, code)
    type_ = request.GET.get("type", "")
    archive = request.GET.get("status") == "archiv"
    if type_ and type_ not in EntryType.values:
        return render(request, "memory/entries.html", {"patient": patient, "error": "Unbekannte Art von Eintrag."}, status=422)
    statuses = (EntryStatus.OUTDATED, EntryStatus.REJECTED) if archive else (EntryStatus.CONFIRMED,)
    rows = queries.entry_list(patient, type=type_, statuses=statuses)
    audit.record(request, "memory.list", patient=patient, detail=type_ or ("archiv" if archive else "alle"))
    title = "Veraltet und verworfen" if archive else (EntryType(type_).label if type_ else "Bestätigte Einträge")
    return render(request, "memory/entries.html", {"patient": patient, "rows": rows, "title": title, "plain": True})


@require_POST
@practice_view(roles=CLINICAL)
def review(request: HttpRequest, code: Any, entry_code: Any) -> HttpResponse:
    patient, entry = get_entry_for_user(request, code, entry_code)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _section(request, patient, 422, memory_error="Unbekannte Aktion.")
    try:
        services.change_status(entry=entry, status=REVIEW_ACTIONS[form.cleaned_data["action"]], request=request)
    except services.ChangeRefused as exc:
        return _section(request, patient, 422, memory_error=str(exc))
    return _section(request, patient)


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def entry_edit(request: HttpRequest, code: Any, entry_code: Any) -> HttpResponse:
    patient, entry = get_entry_for_user(request, code, entry_code)
    if request.method == "GET":
        audit.record(request, "memory.view", patient=patient, obj=entry)
        ctx = {"patient": patient, "entry": entry, "form": EntryForm.for_entry(entry)}
        template = f"{SECTION}#entry_form" if request.htmx else "memory/entry_edit.html"  # type: ignore[attr-defined]
        return render(request, template, ctx)
    form = EntryForm(request.POST)
    if form.is_valid():
        try:
            services.edit_entry(entry=entry, data=form.cleaned_data, request=request)
            return _section(request, patient)
        except services.ChangeRefused as exc:
            form.add_error(None, str(exc))
    ctx = {"patient": patient, "entry": entry, "form": form}
    if request.htmx:  # type: ignore[attr-defined]
        return retarget(render(request, f"{SECTION}#entry_form", ctx, status=422), f"#entry-{entry.code}")
    return render(request, "memory/entry_edit.html", ctx, status=422)


@require_POST
@practice_view(roles=CLINICAL)
def entry_add(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient(request, code)
    form = EntryForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["type"] == EntryType.THERAPEUTIC_GOAL:
                services.create_goal(patient=patient, text=data["text"], date=data.get("date"), request=request,
                                     measure=data.get("goal_measure", ""), baseline=data.get("goal_baseline", ""),
                                     target=data.get("goal_target", ""), relevance=data.get("goal_relevance", ""),
                                     due=data.get("goal_due"), attainment_scale=data.get("attainment_scale", ""),
                                     attainment=data.get("attainment"))
            else:
                services.add_entry(patient=patient, type=data["type"], text=data["text"], date=data.get("date"), request=request)
            return _section(request, patient)
        except services.ChangeRefused as exc:
            form.add_error(None, str(exc))
    return _section(request, patient, 422, add_form=form, add_open=True, memory_error="Der Eintrag wurde nicht gespeichert.")


@require_POST
@practice_view(roles=CLINICAL)
def search(request: HttpRequest, code: Any) -> HttpResponse:
    """POST although it only reads: the question is about the patient ("Missbrauch?") and
    must not end up in URLs, browser history or access logs. Renders, does not redirect."""
    patient = get_patient(request, code)
    form = SearchForm(request.POST)
    ctx: dict[str, Any] = {"patient": patient, "search_form": form, "searched": True}
    status = 200
    if not form.is_valid():
        status = 422
    else:
        try:
            result = services.search_memory(patient=patient, query=form.cleaned_data["q"], user=request.user)
            ctx.update(hits=result.hits, unsearchable=result.unsearchable, lexical=result.backend.startswith("offline"))
        except GatewayError as exc:
            # 200, not 503: htmx swaps only 2xx/422 here, and the message is the answer to show.
            ctx["search_error"] = exc.user_message
        audit.record(request, "memory.search", patient=patient, detail=f"{len(ctx.get('hits', []))} Treffer")
    template = f"{SECTION}#search" if request.htmx else "memory/search.html"  # type: ignore[attr-defined]
    return render(request, template, ctx, status=status)


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def summary_edit(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient(request, code)
    current = queries.current_summary(patient)
    if request.method == "POST":
        form = SummaryForm(request.POST)
        if form.is_valid():
            services.save_summary(patient=patient, text=form.cleaned_data["text"], request=request)
            messages.success(request, "Die Fallzusammenfassung wurde als neue Version gespeichert.")
            return redirect(reverse("patients:detail", kwargs={"code": patient.code}) + "#memory")
        status = 422
    else:
        form = SummaryForm(initial={"text": current.text if current else ""})
        status = 200
        audit.record(request, "memory.summary_view", patient=patient, obj=current)
    return render(request, "memory/summary.html", {"patient": patient, "form": form, "current": current,
                                                   "versions": queries.summary_versions(patient)}, status=status)


@require_POST
@practice_view(roles=CLINICAL)
def summary_rebuild(request: HttpRequest, code: Any) -> HttpResponse:
    patient = get_patient(request, code)
    audit.record(request, "memory.summary_rebuild_requested", patient=patient)
    services.request_summary_rebuild(patient=patient, user=request.user)
    messages.info(request, "Die Fallzusammenfassung wird aus den bestätigten Einträgen neu erstellt.")
    return _section(request, patient)


@require_POST
@practice_view(roles=CLINICAL)
def run_retry(request: HttpRequest, code: Any, run_code: Any) -> HttpResponse:
    patient, run = get_run_for_user(request, code, run_code)
    try:
        services.retry_extraction(run=run, override_warnings=request.POST.get("override") == "1", request=request)
    except services.ChangeRefused as exc:
        return _section(request, patient, 422, memory_error=str(exc))
    return _section(request, patient)
