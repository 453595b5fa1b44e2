"""PDF export with WeasyPrint: letterhead, page numbers, German dates, typographic quotes, trend
charts, and the machine-readable "KI-unterstützt erstellt" marking in the PDF metadata.

The HTML is rendered from templates/documents/pdf.html with the print stylesheet
static/css/documents_print.css. No network access: images are data URIs, fonts are the
system's (DejaVu via fontconfig), and the URL fetcher refuses everything else.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from assessments import queries as assessment_queries
from documents import queries
from documents.models import Document, Provenance, VersionKind
from duktus.models import Membership

PRINT_CSS = Path(settings.BASE_DIR) / "static" / "css" / "documents_print.css"
AI_MARK = "KI-unterstützt erstellt"
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
          "November", "Dezember")


def german_date(day: dt.date | dt.datetime | None) -> str:
    """"1. Dezember 2026" (dates are shown in the practice's time zone)."""
    if day is None:
        return ""
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date()
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


_DOUBLE = re.compile(r'"([^"\n]*)"')
_SINGLE_OPEN = re.compile(r"(^|[\s(\[–—])'")


def typographic(text: str) -> str:
    """German typography for display: "…" → „…“, ' → ’ (apostrophe) or ‚…‘, -- → –, ... → …"""
    text = _DOUBLE.sub("„\\1“", text)
    text = _SINGLE_OPEN.sub("\\1‚", text)
    text = re.sub(r"‚([^'\n]*)'", "‚\\1‘", text)
    text = text.replace("'", "’").replace(" -- ", " – ").replace("--", "–").replace("...", "…")
    return text


@dataclass
class Block:
    kind: str  # "p" or "ul"
    lines: list[str]


def blocks(text: str) -> list[Block]:
    """Paragraphs split at blank lines; consecutive "- " lines become a list."""
    out: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(Block("p", [" ".join(para)]))
            para.clear()

    for raw in (text or "").splitlines():
        line = typographic(raw.strip())
        if not line:
            flush()
            continue
        if line.startswith(("- ", "• ", "* ")):
            flush()
            if out and out[-1].kind == "ul" and not para:
                out[-1].lines.append(line[2:])
            else:
                out.append(Block("ul", [line[2:]]))
            continue
        para.append(line)
    flush()
    return out


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def charts(patient: Any, since: dt.date | None) -> list[dict[str, str]]:
    by_code: dict[str, list[Any]] = {}
    for a in assessment_queries.administrations(patient):
        if since is not None and a.administered_on < since:
            continue
        by_code.setdefault(a.instrument, []).append(a)
    out = []
    for code, rows in by_code.items():
        if len(rows) < 2:
            continue
        out.append({"title": f"Verlauf {rows[0].info.short_name}", "src": _svg_uri(assessment_queries.chart(code, rows, width=560, height=200))})
    return out


def _person(user: Any, practice: Any) -> str:
    """How a clinician appears on paper: the practice's display name, else the e-mail."""
    if user is None:
        return ""
    name = Membership.objects.filter(user=user, practice=practice).values_list("display_name", flat=True).first()
    return name or user.email


def context(document: Document) -> dict[str, Any]:
    from documents import services

    template = services.template_of(document)
    patient = document.patient
    since = queries.since_for(document)
    chart_list: list[dict[str, str]] | None = None
    sections = []
    for s in template.sections(document.variant):
        item: dict[str, Any] = {"title": s.title, "blocks": blocks((document.sections or {}).get(s.key, "")),
                                "provenance": (document.provenance or {}).get(s.key, Provenance.MANUAL)}
        if s.charts:
            if chart_list is None:
                chart_list = charts(patient, since)
            item["charts"] = chart_list
        sections.append(item)
    ai_sections = [s.title for s in template.sections(document.variant)
                   if (document.provenance or {}).get(s.key) in (Provenance.AI, Provenance.AI_EDITED)]
    head = services.letterhead_for(patient.practice)
    logo = head.pop("logo")
    addenda = [{"number": v.number, "date": german_date(v.created_at), "author": v.author_label,
                "blocks": blocks(v.addendum or ""), "sha": v.content_sha256}
               for v in queries.versions(document) if v.kind == VersionKind.ADDENDUM]
    variant = template.variant(document.variant)
    return {
        "document": document, "template": template, "variant": variant, "sections": sections,
        "letterhead": head, "logo_src": ("data:image/png;base64," + base64.b64encode(logo).decode()) if logo else "",
        "anonymous": template.anonymous, "chiffre": patient.kbv_chiffre,
        "patient_name": "" if template.anonymous else patient.full_name,
        "patient_birth": "" if template.anonymous else (f"{patient.birth_date:%d.%m.%Y}" if patient.birth_date else ""),
        "date": german_date(document.signed_at or timezone.now()),
        "signed_date": german_date(document.signed_at) if document.signed_at else "",
        "signer": _person(document.signed_by, patient.practice),
        "heading": document.heading,
        "ai_assisted": document.ai_assisted, "ai_sections": ai_sections, "ai_mark": AI_MARK,
        "addenda": addenda, "max_pages": template.max_pages,
    }


def render_html(document: Document) -> str:
    return render_to_string("documents/pdf.html", context(document))


def _write(html: str) -> tuple[bytes, int]:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # Only data: URIs (charts, logo): a document never fetches anything from a network or disk.
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    doc = HTML(string=html, url_fetcher=fetcher, base_url=str(settings.BASE_DIR)).render(
        stylesheets=[CSS(filename=str(PRINT_CSS))])
    return doc.write_pdf(custom_metadata=True), len(doc.pages)


def render_document(document: Document) -> bytes:
    return _write(render_html(document))[0]


def page_count(document: Document) -> int:
    return _write(render_html(document))[1]
