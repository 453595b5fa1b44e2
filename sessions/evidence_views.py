"""The "Leitlinie durchsuchen" page: guideline evidence, no patient data, works without a model."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from duktus import audit
from duktus.models import CLINICAL_ROLES
from duktus.tenancy import MemberRequest, practice_view
from sessions.evidence import search_with_info
from sessions.evidence.forms import MIN_QUERY, EvidenceSearchForm

CLINICAL = [r.value for r in CLINICAL_ROLES]
RESULTS = 5


@require_http_methods(["GET", "POST"])
@practice_view(roles=CLINICAL)
def evidence_search(request: MemberRequest) -> HttpResponse:
    # The search is a POST, like the patient search: a question may name a patient, and a query
    # string ends up in access logs, browser history and Referer headers. GET shows the empty form
    # (it never reads ?q=); a search changes nothing, so the POST renders instead of redirecting.
    form = EvidenceSearchForm(request.POST if request.method == "POST" else {})
    template = "sessions/evidence/search.html#results" if request.htmx else "sessions/evidence/search.html"
    if not form.is_valid():
        return render(request, template, {"form": form, "query": "", "result": None}, status=422)
    query = form.cleaned_data["q"]
    too_short = bool(query) and len(query.replace(" ", "")) < MIN_QUERY
    result = None
    if query and not too_short:
        result = search_with_info(query, RESULTS, practice=request.membership.practice, user=request.user)
        # Not patient data; the query itself is never logged (a therapist may type a name).
        audit.record(request, "evidence.search", detail=result.backend)
    context = {"form": form, "query": query, "too_short": too_short, "min_query": MIN_QUERY, "result": result}
    return render(request, template, context)
