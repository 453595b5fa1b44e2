"""Document pages. Every view: practice_view gate first, then the access helper."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import definitions, pdf, queries, services
from documents.access import get_document_for_user, get_version, require_owner
from documents.forms import (
    AddendumForm,
    AttainmentForm,
    GoalForm,
    LetterheadForm,
    NewDocumentForm,
    SectionForm,
    SignForm,
    VariantForm,
)
from documents.models import Document, PracticeLetterhead, Provenance
from duktus import audit
from duktus.llm import gateway
from duktus.models import CLINICAL_ROLES, PracticeAISettings, Role
from duktus.tenancy import MemberRequest, practice_view
from memory import queries as memory_queries
from memory import services as memory_services
from memory.models import SourceKind
from patients.access import get_patient_for_user

CLINICAL = [r.value for r in CLINICAL_ROLES]


def ai_refusal(patient: Any) -> str:
    """Why AI drafting is unavailable for this patient ("" when it is available)."""
    if not gateway.is_configured():
        return gateway.NOT_CONFIGURED + " – alle Abschnitte lassen sich von Hand schreiben."
    if not PracticeAISettings.objects.filter(practice_id=patient.practice_id, enabled=True).exists():
        return gateway.PRACTICE_OFF
    if not patient.has_ai_consent():
        return gateway.NO_CONSENT
    return ""


def _section_row(document: Document, section: definitions.Section, form: SectionForm | None = None) -> dict[str, Any]:
    text = (document.sections or {}).get(section.key, "")
    provenance = (document.provenance or {}).get(section.key, Provenance.MANUAL)
    sources = []
    for ref in (document.sources or {}).get(section.key, []):
        url = queries.source_url(document.patient, ref) or reverse(
            "documents:source", args=[document.code, ref["kind"], ref["code"]])
        sources.append({**ref, "url": url})
    status = (document.ai_status or {}).get(section.key) or {}
    # Hints stay while the flagged token is still in the text (the therapist may have fixed it).
    unverified = [t for t in (document.unverified or {}).get(section.key, []) if t in text]
    goals = []
    if section.goals_editor:
        goals = [{"goal": g, "line": queries.goal_line(g), "form": AttainmentForm(prefix=str(g.code), initial={
            "scale": g.attainment_scale or "percent", "value": g.attainment})} for g in queries.goals(document.patient)]
    return {
        "goals": goals, "unverified": unverified, "goal_form": GoalForm() if section.goals_editor else None,
        "section": section, "key": section.key, "text": text, "form": form,
        "provenance": provenance, "provenance_label": Provenance(provenance).label,
        "sources": sources, "feed_titles": [definitions.FEEDS[f] for f in section.feeds], "ai_state": status.get("state", ""), "ai_message": status.get("message", ""),
        "ai_warning": bool(status.get("warning")),
        "words": len(text.split()), "has_markers": "[fehlt:" in text,
        "too_long": bool(section.max_words and len(text.split()) > section.max_words),
    }


def _page(request: HttpRequest, document: Document, *, status: int = 200, **extra: Any) -> HttpResponse:
    template = services.template_of(document)
    user = request.user
    context = {
        "document": document, "template": template, "variant": template.variant(document.variant),
        "patient": document.patient,
        "rows": [_section_row(document, s) for s in template.sections(document.variant)],
        "ai_refusal": ai_refusal(document.patient),
        "name_hits": services.name_check(document),
        "sign_form": SignForm(user=user, declaration=template.authorship_declaration),
        "addendum_form": AddendumForm(user=user),
        "addenda": services.addenda(document) if document.is_locked else [],
        **extra,
    }
    return render(request, "documents/detail.html", context, status=status)


@require_POST
@practice_view(roles=CLINICAL)
def document_create(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = NewDocumentForm(request.POST)
    if not form.is_valid():
        return render(request, "documents/new.html", {"patient": patient, "form": form,
                                                      "templates": definitions.all_templates().values()}, status=422)
    document = services.create_document(patient=patient, template_key=form.cleaned_data["template"],
                                        variant=form.cleaned_data.get("variant", ""), user=request.user, request=request)
    return redirect(document)


@require_GET
@practice_view(roles=CLINICAL)
def document_new(request: MemberRequest, code: Any) -> HttpResponse:
    patient = get_patient_for_user(request, code, clinical=True)
    form = NewDocumentForm(initial={"template": request.GET.get("template", "")})
    return render(request, "documents/new.html", {"patient": patient, "form": form,
                                                  "templates": definitions.all_templates().values()})


@require_GET
@practice_view(roles=CLINICAL)
def document_detail(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    audit.record(request, "document.view", patient=document.patient, obj=document)
    return _page(request, document)


@require_POST
@practice_view(roles=CLINICAL)
def section_update(request: MemberRequest, code: Any, key: str) -> HttpResponse:
    """Autosave (HTMX, every pause in typing) or a plain form post of one section."""
    document = get_document_for_user(request, code)
    template = services.template_of(document)
    section = template.section(document.variant, key)
    if section is None:
        return HttpResponse("Abschnitt nicht gefunden.", status=404)
    form = SectionForm(request.POST)
    if document.is_locked:
        return render(request, "documents/detail.html#save-status",
                      {"row": _section_row(document, section), "error": str(services.DocumentLocked())}, status=422)
    if not form.is_valid():
        row = _section_row(document, section, form)
        if request.htmx:
            return render(request, "documents/detail.html#save-status", {"row": row, "error": form.errors["text"][0]}, status=422)
        return _page(request, document, status=422)
    document = services.update_section(document=document, key=key, text=form.cleaned_data["text"], user=request.user,
                                       request=request, autosave=bool(request.htmx))
    if request.htmx:
        return render(request, "documents/detail.html#save-status", {"row": _section_row(document, section), "saved": True})
    messages.success(request, "Abschnitt gespeichert.")
    return redirect(document)


@require_POST
@practice_view(roles=CLINICAL)
def version_save(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    if document.is_locked:
        return _page(request, document, status=422, error=str(services.DocumentLocked()))
    version = services.save_version(document=document, user=request.user, request=request)
    messages.success(request, f"Version {version.number} gespeichert.")
    return redirect(document)


@require_POST
@practice_view(roles=CLINICAL)
def variant_set(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    form = VariantForm(request.POST)
    template = services.template_of(document)
    if document.is_locked or not form.is_valid() or template.variant(form.cleaned_data["variant"]) is None:
        return _page(request, document, status=422, error="Diese Variante kann hier nicht gewählt werden.")
    services.set_variant(document=document, variant=form.cleaned_data["variant"], user=request.user, request=request)
    return redirect(document)


@require_POST
@practice_view(roles=CLINICAL)
def draft_request(request: MemberRequest, code: Any) -> HttpResponse:
    """AI draft of one section (`section`) or of all sections; runs as Celery tasks."""
    document = get_document_for_user(request, code)
    template = services.template_of(document)
    keys = [s.key for s in template.sections(document.variant)]
    wanted = request.POST.get("section", "")
    if wanted:
        if wanted not in keys:
            return _page(request, document, status=422, error="Unbekannter Abschnitt.")
        keys = [wanted]
    refusal = ai_refusal(document.patient)
    if document.is_locked or refusal:
        message = refusal or str(services.DocumentLocked())
        if request.htmx and wanted:
            section = template.section(document.variant, wanted)
            assert section is not None  # wanted is one of the variant's keys (checked above)
            return render(request, "documents/detail.html#section", {
                "row": _section_row(document, section), "document": document, "ai_refusal": refusal,
                "section_error": message}, status=422)
        return _page(request, document, status=422, error=message)
    services.request_drafts(document=document, keys=keys, user=request.user, request=request,
                            override_warnings=request.POST.get("override") == "1")
    document = get_document_for_user(request, code)
    if request.htmx and wanted:
        section = template.section(document.variant, wanted)
        assert section is not None  # wanted is one of the variant's keys (checked above)
        return render(request, "documents/detail.html#section", {"row": _section_row(document, section), "document": document,
                                                                  "ai_refusal": ""})
    return redirect(document)


@require_GET
@practice_view(roles=CLINICAL)
def section_status(request: MemberRequest, code: Any, key: str) -> HttpResponse:
    """Polled while an AI draft is pending; returns the section region."""
    document = get_document_for_user(request, code)
    section = services.template_of(document).section(document.variant, key)
    if section is None:
        return HttpResponse("Abschnitt nicht gefunden.", status=404)
    return render(request, "documents/detail.html#section", {"row": _section_row(document, section), "document": document,
                                                              "ai_refusal": ai_refusal(document.patient)})


@require_GET
@practice_view(roles=CLINICAL)
def page_count(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    template = services.template_of(document)
    pages = pdf.page_count(document)
    return render(request, "documents/detail.html#pages", {"pages": pages, "template": template})


@require_POST
@practice_view(roles=CLINICAL)
def sign(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    template = services.template_of(document)
    form = SignForm(request.POST, user=request.user, declaration=template.authorship_declaration)
    if document.is_locked:
        return _page(request, document, status=422, error=str(services.DocumentLocked()))
    if not form.is_valid():
        audit.record(request, "document.sign_failed", patient=document.patient, obj=document)
        return _page(request, document, status=422, sign_form=form)
    services.sign_document(document=document, user=request.user, request=request)
    messages.success(request, "Das Dokument ist abgeschlossen und signiert.")
    return redirect(document)


@require_POST
@practice_view(roles=CLINICAL)
def addendum(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    form = AddendumForm(request.POST, user=request.user)
    if not document.is_locked:
        return _page(request, document, status=422, error="Nachträge gibt es nur für signierte Dokumente; Entwürfe bitte direkt bearbeiten.")
    if not form.is_valid():
        return _page(request, document, status=422, addendum_form=form)
    services.add_addendum(document=document, text=form.cleaned_data["text"], user=request.user, request=request)
    messages.success(request, "Der Nachtrag wurde gespeichert; das Original bleibt unverändert sichtbar.")
    return redirect(document)


@require_GET
@practice_view(roles=CLINICAL)
def versions(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    rows = queries.versions(document)
    diff = None
    old = new = None
    if request.GET.get("a") and request.GET.get("b"):
        old, new = get_version(document, request.GET["a"]), get_version(document, request.GET["b"])
        diff = queries.diff(document, old, new)
    audit.record(request, "document.versions", patient=document.patient, obj=document)
    return render(request, "documents/versions.html", {"document": document, "template": services.template_of(document),
                                                       "versions": rows, "diff": diff, "old": old, "new": new})


@require_GET
@practice_view(roles=CLINICAL)
def version_detail(request: MemberRequest, code: Any, number: int) -> HttpResponse:
    document = get_document_for_user(request, code)
    version = get_version(document, number)
    template = services.template_of(document)
    sections = [(s.title, (version.sections or {}).get(s.key, ""),
                 Provenance((version.provenance or {}).get(s.key, Provenance.MANUAL)).label)
                for s in template.sections(document.variant)]
    audit.record(request, "document.version_view", patient=document.patient, obj=document, detail=f"Version {version.number}")
    return render(request, "documents/version.html", {"document": document, "template": template, "version": version,
                                                      "sections": sections})


@require_GET
@practice_view(roles=CLINICAL)
def pdf_download(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    try:
        content = services.export_pdf(document=document, user=request.user, request=request,
                                      confirmed_warnings=request.GET.get("bestaetigt") == "1")
    except services.ExportBlocked as exc:
        audit.record(request, "document.export_blocked", patient=document.patient, obj=document)
        return _page(request, document, status=422, export_error=str(exc),
                     export_confirmable=not any(h.blocking for h in services.name_check(document)))
    response = HttpResponse(content, content_type="application/pdf")
    name = f"{document.template_key}-{document.patient.pseudonym}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@practice_view(roles=CLINICAL)
def source(request: MemberRequest, code: Any, kind: str, source_code: str) -> HttpResponse:
    document = get_document_for_user(request, code)
    found = queries.source_detail(document.patient, kind, str(source_code))
    if found is None:
        return render(request, "404.html", status=404)
    title, lines = found
    audit.record(request, "document.source_view", patient=document.patient, obj=document, detail=kind)
    return render(request, "documents/source.html", {"document": document, "title": title, "lines": lines})


@require_http_methods(["GET", "POST"])
@practice_view(roles=[Role.OWNER.value, Role.THERAPIST.value])
def letterhead(request: MemberRequest) -> HttpResponse:
    require_owner(request)
    practice = request.membership.practice
    head = PracticeLetterhead.objects.filter(practice=practice).first()
    if request.method == "POST":
        form = LetterheadForm(request.POST, request.FILES)
        if form.is_valid():
            services.save_letterhead(practice=practice, name=form.cleaned_data["name"], address=form.cleaned_data["address"],
                                     contact=form.cleaned_data["contact"], logo=form.cleaned_data["logo"],
                                     remove_logo=form.cleaned_data["remove_logo"], user=request.user, request=request)
            messages.success(request, "Briefkopf gespeichert.")
            return redirect("documents:letterhead")
        return render(request, "documents/letterhead.html", {"form": form, "head": head}, status=422)
    initial = ({"name": head.name, "address": head.address, "contact": head.contact} if head else
               {"name": practice.name, "address": "\n".join(v for v in (practice.street, f"{practice.postal_code} {practice.city}".strip()) if v),
                "contact": practice.phone})
    return render(request, "documents/letterhead.html", {"form": LetterheadForm(initial=initial), "head": head})


@require_GET
@practice_view(roles=[Role.OWNER.value, Role.THERAPIST.value])
def letterhead_logo(request: MemberRequest) -> HttpResponse:
    practice = request.membership.practice
    head = PracticeLetterhead.objects.filter(practice=practice).first()
    if head is None or not head.logo:
        return HttpResponse(status=404)
    return HttpResponse(bytes(head.logo), content_type=head.logo_mime or "image/png")


# --- therapy goals (memory entries of type therapeutic_goal) ----------------------------------------


def _goals_section(document: Document) -> definitions.Section | None:
    template = services.template_of(document)
    return next((s for s in template.sections(document.variant) if s.goals_editor), None)


def _goal_change(request: HttpRequest, document: Document, section: definitions.Section, done: str,
                 change: Any) -> HttpResponse:
    """Run a memory goal service; its German refusal becomes a 422 page, success a redirect."""
    try:
        change()
    except memory_services.ChangeRefused as exc:
        return _page(request, document, status=422, error=str(exc))
    messages.success(request, done)
    return redirect(f"{document.get_absolute_url()}#section-{section.key}")


@require_POST
@practice_view(roles=CLINICAL)
def goal_add(request: MemberRequest, code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    section = _goals_section(document)
    if section is None or document.is_locked:
        return _page(request, document, status=422, error="In diesem Dokument werden keine Therapieziele bearbeitet.")
    form = GoalForm(request.POST)
    if not form.is_valid():
        return _page(request, document, status=422, error="Bitte die Angaben zum Ziel prüfen: " + str(next(iter(form.errors.values()))[0]))
    d = form.cleaned_data
    return _goal_change(request, document, section, "Therapieziel gespeichert.", lambda: memory_services.create_goal(
        patient=document.patient, text=d["text"], measure=d["measure"], baseline=d["baseline"], target=d["target"],
        relevance=d["relevance"], due=d["due"], source_kind=SourceKind.DOCUMENT, source_id=document.code,
        user=request.user, request=request))


@require_POST
@practice_view(roles=CLINICAL)
def goal_update(request: MemberRequest, code: Any, goal_code: Any) -> HttpResponse:
    document = get_document_for_user(request, code)
    section = _goals_section(document)
    goal = memory_queries.entry_for_patient(document.patient, goal_code)
    if goal is None or not goal.is_goal:
        return render(request, "404.html", status=404)
    if section is None or document.is_locked:
        return _page(request, document, status=422, error="In diesem Dokument werden keine Therapieziele bearbeitet.")
    form = AttainmentForm(request.POST, prefix=str(goal.code))
    if not form.is_valid():
        return _page(request, document, status=422, error=next(iter(form.errors.values()))[0])
    return _goal_change(request, document, section, "Zielerreichung gespeichert.", lambda: memory_services.update_goal(
        goal=goal, attainment_scale=form.cleaned_data["scale"], attainment=form.cleaned_data["value"],
        user=request.user, request=request))


@require_POST
@practice_view(roles=CLINICAL)
def goals_apply(request: MemberRequest, code: Any, key: str) -> HttpResponse:
    """Write the current goals (from memory) into the goals section as its text."""
    document = get_document_for_user(request, code)
    section = services.template_of(document).section(document.variant, key)
    if section is None or document.is_locked or "goals" not in section.feeds:
        return _page(request, document, status=422, error="Dieser Abschnitt kann keine Ziele übernehmen.")
    text, _ = queries.prefill(document.patient, section, since=queries.since_for(document))
    services.update_section(document=document, key=key, text=text, user=request.user, request=request, autosave=False)
    messages.success(request, "Die aktuellen Therapieziele wurden in den Abschnitt übernommen.")
    return redirect(f"{document.get_absolute_url()}#section-{key}")
