"""What the documents app holds about a patient (duktus/privacy/registry.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from documents import definitions, pdf
from documents.models import Document, DocumentVersion
from duktus.privacy.registry import register


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def _titles(document: Document) -> dict[str, str]:
    template = definitions.get(document.template_key)
    return {s.key: s.title for s in template.sections(document.variant)} if template else {}


def export_documents(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for d in Document.objects.filter(patient=patient).order_by("created_at", "id"):
        d.patient = patient
        titles = _titles(d)
        rows.append({
            "document": d.title, "variant": d.variant, "status": d.get_status_display(),
            "created_at": _iso(d.created_at), "signed_at": _iso(d.signed_at),
            "signed_by": d.signed_by.email if d.signed_by else None, "content_sha256": d.content_sha256 or None,
            "sections": {titles.get(k, k): v for k, v in (d.sections or {}).items()},
            "provenance": d.provenance, "sources": d.sources,
        })
    return rows


def export_versions(patient: Any) -> list[dict[str, Any]]:
    rows = []
    for v in DocumentVersion.objects.filter(document__patient=patient).select_related("document", "author").order_by("document_id", "number"):
        v.document.patient = patient
        rows.append({
            "document": v.document.title, "number": v.number, "kind": v.get_kind_display(),
            "author": v.author_label, "author_kind": v.get_author_kind_display(), "created_at": _iso(v.created_at),
            "sections": v.sections, "addendum": v.addendum or None, "provenance": v.provenance,
            "content_sha256": v.content_sha256 or None,
        })
    return rows


def erase_versions(patient: Any) -> int:
    # DocumentVersion.delete() refuses single deletes (append-only, § 630f BGB); erasure of the whole
    # patient is the one legal exception, so delete through the queryset.
    return DocumentVersion.objects.filter(document__patient=patient).delete()[0]


def erase_documents(patient: Any) -> int:
    return Document.objects.filter(patient=patient).delete()[0]


def _pdf_bytes(html: str) -> bytes:
    return pdf._write(html)[0]


def document_pdfs(patient: Any) -> list[tuple[str, Callable[[], bytes]]]:
    """Every document as the PDF the practice prints (the patient's own copy: no name check);
    the content is a callable (registry.FileExporter) that lays out the PDF."""
    out: list[tuple[str, Callable[[], bytes]]] = []
    for d in Document.objects.filter(patient=patient).select_related("signed_by").order_by("created_at", "id"):
        d.patient = patient
        day = (d.signed_at or d.created_at).date().isoformat()
        # The HTML (database reads) now, the PDF layout later in the export's thread pool.
        html = pdf.render_html(d)
        out.append((f"{day}-{d.template_key}-{'signiert' if d.is_locked else 'entwurf'}-{str(d.code)[:8]}.pdf",
                    functools.partial(_pdf_bytes, html)))
    return out


DOCUMENT_LABELS = {
    "document": "Dokument", "variant": "Variante", "status": "Status", "created_at": "angelegt",
    "signed_at": "signiert am", "signed_by": "signiert von", "content_sha256": "SHA-256", "sections": "Abschnitte",
    "provenance": "Herkunft je Abschnitt", "sources": "Quellen je Abschnitt",
}
VERSION_LABELS = {
    "document": "Dokument", "number": "Version", "kind": "Art", "author": "Verfasser/in", "author_kind": "Mensch/KI",
    "created_at": "Zeitpunkt", "sections": "Abschnitte", "addendum": "Nachtrag", "provenance": "Herkunft je Abschnitt",
    "content_sha256": "SHA-256",
}

# Versions point at documents: registered (and so erased) first.
register(DocumentVersion, key="document_versions", title="Dokumentversionen", exporter=export_versions,
         eraser=erase_versions, labels=VERSION_LABELS)
register(Document, key="documents", title="Dokumente", exporter=export_documents, eraser=erase_documents,
         files=document_pdfs, labels=DOCUMENT_LABELS)
