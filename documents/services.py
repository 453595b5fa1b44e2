"""Document state changes: create (pre-filled), autosave, versions, AI drafts per section,
signing, addenda, the pre-export name check and the letterhead.

Every write appends one audit entry (pseudonym, document code, no content). § 630f BGB:
versions are append-only; a signed document is locked and only takes addenda.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from documents import definitions, queries
from documents.models import (
    AuthorKind,
    Document,
    DocumentStatus,
    DocumentVersion,
    PracticeLetterhead,
    Provenance,
    VersionKind,
)
from duktus import audit
from memory import services as memory_services

AUTOSAVE_VERSION_MINUTES = 10  # autosave appends a version at most this often per author
MAX_SECTION_CHARS = 20_000
MISSING = "[fehlt: {}]"


class DocumentLocked(Exception):
    """The document is signed: changes only as an addendum."""

    def __init__(self) -> None:
        super().__init__("Das Dokument ist abgeschlossen und signiert. Korrekturen bitte als Nachtrag erfassen.")


class ExportBlocked(Exception):
    """The pre-export check found identifying data in a pseudonymised document."""


def template_of(document: Document) -> definitions.Template:
    template = definitions.get(document.template_key)
    if template is None:
        raise ValueError("unknown template")
    return template


def _next_number(document: Document) -> int:
    last = DocumentVersion.objects.filter(document=document).order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def _append_version(document: Document, *, kind: str, user: Any, author_kind: str = AuthorKind.HUMAN,
                    addendum: str = "", sha256: str = "") -> DocumentVersion:
    version = DocumentVersion(document=document, number=_next_number(document), kind=kind, author=user,
                              author_kind=author_kind, provenance=dict(document.provenance or {}), content_sha256=sha256)
    version.sections = dict(document.sections or {})
    version.addendum = addendum
    version.save()
    return version


# --- create, edit, versions ---------------------------------------------------------------------


def create_document(*, patient: Any, template_key: str, variant: str = "", user: Any, request: Any = None) -> Document:
    """New draft with every section pre-filled from the structured record (diagnoses, scores,
    session numbers, dates) so it can be written by hand without any model."""
    template = definitions.get(template_key)
    if template is None:
        raise ValueError("unknown template")
    if template.variants and template.variant(variant) is None:
        variant = template.default_variant
    if not template.variants:
        variant = ""
    with transaction.atomic():
        document = Document(patient=patient, template_key=template_key, variant=variant, created_by=user)
        document.sections, document.sources = {}, {}
        document.save()
        since = queries.since_for(document)
        sections: dict[str, str] = {}
        sources: dict[str, list[dict[str, str]]] = {}
        for section in template.sections(variant):
            text, refs = queries.prefill(patient, section, since=since)
            sections[section.key] = text
            sources[section.key] = [r.to_dict() for r in refs]
        document.sections, document.sources = sections, sources
        document.provenance = {key: Provenance.MANUAL for key in sections}
        document.save(update_fields=["sections_ct", "sources_ct", "provenance"])
        _append_version(document, kind=VersionKind.SAVE, user=user)
        audit.record(request, "document.create", patient=patient, obj=document, actor=user, detail=template_key)
    return document


def _edited_provenance(old: str | None, ai_text: str | None, new_text: str) -> str:
    """Provenance after a human edit: AI stays AI (edited once the text differs from the AI
    draft); a section that never was AI is manual. It never goes back from AI to manual."""
    if old in (Provenance.AI, Provenance.AI_EDITED):
        return Provenance.AI if ai_text is not None and new_text == ai_text else Provenance.AI_EDITED
    return Provenance.MANUAL


def _last_ai_text(document: Document, key: str) -> str | None:
    version = DocumentVersion.objects.filter(document=document, kind=VersionKind.AI_DRAFT).order_by("-number").first()
    if version is None:
        return None
    version.document = document
    return (version.sections or {}).get(key)


def update_section(*, document: Document, key: str, text: str, user: Any, request: Any = None, autosave: bool = True) -> Document:
    """Write one section of the working copy. Autosave appends a version only when the last
    version is older than AUTOSAVE_VERSION_MINUTES or by someone/something else."""
    if document.is_locked:
        raise DocumentLocked()
    template = template_of(document)
    if template.section(document.variant, key) is None:
        raise ValueError("unknown section")
    text = text.replace("\r\n", "\n")[:MAX_SECTION_CHARS]
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.patient = document.patient
        sections = dict(locked.sections or {})
        if sections.get(key) == text:
            return locked
        sections[key] = text
        locked.sections = sections
        provenance = dict(locked.provenance or {})
        old = provenance.get(key)
        ai_text = _last_ai_text(locked, key) if old in (Provenance.AI, Provenance.AI_EDITED) else None
        provenance[key] = _edited_provenance(old, ai_text, text)
        locked.provenance = provenance
        locked.save(update_fields=["sections_ct", "provenance", "updated_at"])
        if autosave:
            last = DocumentVersion.objects.filter(document=locked).order_by("-number").first()
            if (last is None or last.created_at < timezone.now() - dt.timedelta(minutes=AUTOSAVE_VERSION_MINUTES)
                    or last.author_id != getattr(user, "pk", None) or last.author_kind != AuthorKind.HUMAN):
                _append_version(locked, kind=VersionKind.AUTOSAVE, user=user)
        else:
            _append_version(locked, kind=VersionKind.SAVE, user=user)
        audit.record(request, "document.autosave" if autosave else "document.update", patient=locked.patient,
                     obj=locked, actor=user, detail=key[:60])
    return locked


def save_version(*, document: Document, user: Any, request: Any = None) -> DocumentVersion:
    if document.is_locked:
        raise DocumentLocked()
    with transaction.atomic():
        # The row lock serializes version numbers with autosaves and AI drafts of this document.
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.patient = document.patient
        version = _append_version(locked, kind=VersionKind.SAVE, user=user)
        audit.record(request, "document.version", patient=document.patient, obj=document, actor=user,
                     detail=f"Version {version.number}")
    return version


def set_variant(*, document: Document, variant: str, user: Any, request: Any = None) -> Document:
    """Switch e.g. VT ↔ TP: sections that exist in both keep their text; new ones are pre-filled."""
    if document.is_locked:
        raise DocumentLocked()
    template = template_of(document)
    if template.variant(variant) is None or variant == document.variant:
        return document
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.patient = document.patient
        document = locked
        since = queries.since_for(document)
        sections, sources, provenance = dict(document.sections or {}), dict(document.sources or {}), dict(document.provenance or {})
        for section in template.sections(variant):
            if section.key not in sections:
                text, refs = queries.prefill(document.patient, section, since=since)
                sections[section.key], sources[section.key] = text, [r.to_dict() for r in refs]
                provenance.setdefault(section.key, Provenance.MANUAL)
        document.variant = variant
        document.sections, document.sources, document.provenance = sections, sources, provenance
        document.save(update_fields=["variant", "sections_ct", "sources_ct", "provenance", "updated_at"])
        _append_version(document, kind=VersionKind.SAVE, user=user)
        audit.record(request, "document.variant", patient=document.patient, obj=document, actor=user, detail=variant)
    return document


# --- AI drafts ------------------------------------------------------------------------------------

SYSTEM_PROMPT = """Du bist eine Schreibassistenz für approbierte Psychotherapeutinnen und Psychotherapeuten in Deutschland.
Du entwirfst genau einen Abschnitt eines klinischen Dokuments. Der Entwurf ist Material, das die Therapeutin / der Therapeut prüft, ändert und sich zu eigen macht.

Regeln:
1. Verwende ausschließlich die Angaben aus der Akte, die unten stehen. Erfinde keine Befunde, Symptome, Testwerte, Diagnosen, Daten, Zitate, Interventionen oder biographischen Angaben.
2. Fehlt eine Information, die der Abschnitt laut Leitfaden braucht, schreibe an dieser Stelle sichtbar „[fehlt: <was fehlt>]“ – niemals eine Vermutung, Verallgemeinerung oder Ersatzformulierung.
3. Schreibe sachlich, fachlich, in ganzen Sätzen, auf Deutsch. Keine Überschrift, keine Einleitung, keine Schlussbemerkung – nur den Abschnittstext.
4. Platzhalter wie [PERSON_1] bleiben unverändert stehen."""

ANONYMOUS_RULE = ("5. Das Dokument wird pseudonymisiert versandt: Nenne keine Namen, Orte, Arbeitgeber oder Daten, "
                  "die eine Person erkennbar machen; schreibe „die Patientin“ bzw. „der Patient“.")


@dataclass
class DraftRequest:
    messages: list[dict[str, str]]
    sources: list[dict[str, str]]
    missing: list[str]
    has_material: bool
    material_text: str = ""


def build_draft_request(document: Document, section: definitions.Section) -> DraftRequest:
    template = template_of(document)
    mats = queries.material(document.patient, section.feeds, since=queries.since_for(document))
    present = [m for m in mats if not m.empty]
    missing = [m.title for m in mats if m.empty]
    blocks = []
    for m in present:
        blocks.append(f"### {m.title}\n" + "\n".join(f"- {line}" for line in m.lines))
    system = SYSTEM_PROMPT + ("\n" + ANONYMOUS_RULE if template.anonymous else "")
    variant = template.variant(document.variant)
    user_parts = [
        f"Dokument: {template.title}" + (f" ({variant.label})" if variant else ""),
        f"Abschnitt: {section.title}",
        f"Leitfaden für den Abschnitt: {section.guidance}",
    ]
    if section.length_hint:
        user_parts.append(f"Länge: {section.length_hint}.")
    user_parts.append("Angaben aus der Akte:\n\n" + ("\n\n".join(blocks) if blocks else "(keine)"))
    if missing:
        user_parts.append("In der Akte liegen keine Angaben vor zu: " + "; ".join(missing)
                          + ". Markiere, was davon für den Abschnitt nötig ist, mit [fehlt: …].")
    sources = [r.to_dict() for m in present for r in m.sources]
    return DraftRequest(
        messages=[{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(user_parts)}],
        sources=sources, missing=missing, has_material=bool(present),
        material_text="\n".join(user_parts),
    )


def missing_markers(section: definitions.Section, missing: list[str]) -> str:
    """The draft of a section the record has nothing for: markers only, never prose."""
    if not section.feeds:
        return MISSING.format("Angaben der Therapeutin / des Therapeuten – die Akte enthält hierzu keine Daten")
    return "\n".join(MISSING.format(title) for title in missing)


_FACT = re.compile(r"\b[A-Z]\d{2}(?:\.\d{1,2})?\b|\b\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})\b|\b\d+(?:[.,]\d+)?\b")
_MARKER = re.compile(r"\[fehlt:[^\]]*\]")


def unverified_facts(answer: str, material_text: str) -> list[str]:
    """Codes, dates and numbers in a draft that the material does not contain (outside the
    [fehlt: …] markers): a cheap check against invented findings, for the therapist to review."""
    known = set(_FACT.findall(material_text))
    found: list[str] = []
    for token in _FACT.findall(_MARKER.sub(" ", answer)):
        if token not in known and token.replace(",", ".") not in known and token not in found:
            found.append(token)
    return found


def _clean_answer(text: str, section: definitions.Section) -> str:
    lines = text.strip().splitlines()
    # Models like to repeat the heading although told not to.
    if lines and lines[0].strip().strip("#*: ").casefold() == section.title.casefold():
        lines = lines[1:]
    return "\n".join(lines).strip()[:MAX_SECTION_CHARS]


def mark_pending(*, document: Document, keys: list[str]) -> None:
    status = dict(document.ai_status or {})
    for key in keys:
        status[key] = {"state": "pending", "message": ""}
    Document.objects.filter(pk=document.pk).update(ai_status=status)
    document.ai_status = status


def _set_status(document: Document, key: str, state: str, message: str = "", *, warning: bool = False) -> None:
    with transaction.atomic():
        locked = Document.objects.select_for_update().only("ai_status").get(pk=document.pk)
        status = dict(locked.ai_status or {})
        status[key] = {"state": state, "message": message, "warning": warning}
        Document.objects.filter(pk=document.pk).update(ai_status=status)
    document.ai_status = status


def draft_section(*, document: Document, key: str, user: Any, override_warnings: bool = False) -> str:
    """Draft one section through the gateway's documentation role (anonymized, guarded, stored
    there). Sections the record has nothing for get "[fehlt: …]" markers without a model call.
    Returns the new text; gateway errors are stored as the section's AI status and re-raised.
    `override_warnings`: the therapist checked the gateway's "possibly identifying" warning."""
    from duktus.llm import gateway
    from duktus.models import LLMConversation

    if document.is_locked:
        _set_status(document, key, "failed", str(DocumentLocked()))
        raise DocumentLocked()
    template = template_of(document)
    section = template.section(document.variant, key)
    if section is None:
        raise ValueError("unknown section")
    req = build_draft_request(document, section)
    unverified: list[str] = []
    if not req.has_material:
        text = missing_markers(section, req.missing)
    else:
        conversation = None
        if document.llm_conversation_code:
            conversation = LLMConversation.objects.filter(code=document.llm_conversation_code, patient=document.patient).first()
        try:
            result = gateway.complete(patient=document.patient, role="documentation", messages=req.messages,
                                      conversation=conversation, user=user, override_warnings=override_warnings)
        except gateway.GatewayError as exc:
            _set_status(document, key, "failed", exc.user_message, warning=isinstance(exc, gateway.GatewayWarning))
            raise
        text = _clean_answer(result.text, section)
        unverified = unverified_facts(text, req.material_text)
        if document.llm_conversation_code != result.conversation.code:
            Document.objects.filter(pk=document.pk).update(llm_conversation_code=result.conversation.code)
            document.llm_conversation_code = result.conversation.code
    if Document.objects.filter(pk=document.pk, status=DocumentStatus.SIGNED).exists():  # signed meanwhile
        _set_status(document, key, "failed", str(DocumentLocked()))
        raise DocumentLocked()
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.patient = document.patient
        if locked.is_locked:
            raise DocumentLocked()
        sections, sources = dict(locked.sections or {}), dict(locked.sources or {})
        sections[key], sources[key] = text, req.sources
        locked.sections, locked.sources = sections, sources
        locked.provenance = {**(locked.provenance or {}), key: Provenance.AI}
        locked.unverified = {**(locked.unverified or {}), key: unverified}
        status = dict(locked.ai_status or {})
        status[key] = {"state": "done", "message": ""}
        locked.ai_status = status
        locked.save(update_fields=["sections_ct", "sources_ct", "provenance", "unverified_ct", "ai_status", "updated_at"])
        _append_version(locked, kind=VersionKind.AI_DRAFT, user=user, author_kind=AuthorKind.AI)
        audit.record(None, "document.ai_draft", practice=locked.patient.practice, patient=locked.patient, obj=locked,
                     actor=user, detail=key[:60] + ("" if req.has_material else " (keine Daten: Markierungen)"))
    document.sections, document.sources, document.provenance, document.ai_status = (
        locked.sections, locked.sources, locked.provenance, locked.ai_status)
    return text


def request_drafts(*, document: Document, keys: list[str], user: Any, request: Any = None,
                   override_warnings: bool = False) -> None:
    """Mark the sections pending and enqueue one task per section after commit (ids only)."""
    from documents import tasks

    if document.is_locked:
        raise DocumentLocked()
    mark_pending(document=document, keys=keys)
    audit.record(request, "document.ai_requested", patient=document.patient, obj=document, actor=user,
                 detail=",".join(keys)[:200])
    for key in keys:
        transaction.on_commit(functools.partial(tasks.draft_section.delay, document.pk, key, user.pk, override_warnings))


# --- signing and addenda ----------------------------------------------------------------------------


def content_hash(document: Document, *, signer: Any, at: dt.datetime) -> str:
    """SHA-256 over a canonical JSON of what was signed (template, variant, sections in order)."""
    template = template_of(document)
    payload = {
        "document": str(document.code), "template": document.template_key, "variant": document.variant,
        "sections": [[s.key, s.title, (document.sections or {}).get(s.key, "")] for s in template.sections(document.variant)],
        "provenance": document.provenance, "signed_by": signer.email, "signed_at": at.isoformat(),
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def sign_document(*, document: Document, user: Any, request: Any = None) -> DocumentVersion:
    """Lock the document and write the SHA-256 of its content into the audit chain. The caller
    (the view's form) has re-checked password and TOTP."""
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        locked.patient = document.patient
        if locked.is_locked:
            raise DocumentLocked()
        template = template_of(locked)
        now = timezone.now()
        sha = content_hash(locked, signer=user, at=now)
        locked.status, locked.signed_at, locked.signed_by, locked.content_sha256 = DocumentStatus.SIGNED, now, user, sha
        if template.authorship_declaration:
            locked.authorship_declared_at = now
        locked.save(update_fields=["status", "signed_at", "signed_by", "content_sha256", "authorship_declared_at", "updated_at"])
        version = _append_version(locked, kind=VersionKind.SIGNED, user=user, sha256=sha)
        audit.record(request, "document.signed", patient=locked.patient, obj=locked, actor=user, detail=f"sha256={sha}")
        # memory proposes entries from the signed text (on commit, ids only; the therapist reviews them).
        memory_services.request_extraction(source_kind="document", source_id=locked.code)
    document.status, document.signed_at, document.signed_by, document.content_sha256 = (
        locked.status, locked.signed_at, locked.signed_by, locked.content_sha256)
    document.authorship_declared_at = locked.authorship_declared_at
    return version


def memory_source(source_id: str) -> tuple[Any, str, Any, dt.date] | None:
    """memory's loader for kind "document": the signed sections (markers and empty ones left out)."""
    document = (Document.objects.select_related("patient__data_key", "patient__practice", "signed_by")
                .filter(code=source_id, status=DocumentStatus.SIGNED).first())
    if document is None:
        return None
    parts = []
    for title, text in body_texts(document):
        body = _MARKER.sub("", text).strip()
        if body:
            parts.append(f"{title}:\n{body}")
    return document.patient, "\n\n".join(parts), document.signed_by, timezone.localtime(document.signed_at).date()


def add_addendum(*, document: Document, text: str, user: Any, request: Any = None) -> DocumentVersion:
    """A later correction of a signed document: a new version that carries the original sections
    unchanged plus the addendum text; its hash chains to the signed content."""
    if not document.is_locked:
        raise ValueError("only signed documents take addenda")
    with transaction.atomic():
        Document.objects.select_for_update().only("id").get(pk=document.pk)
        number = _next_number(document)
        now = timezone.now()
        payload = {"document": str(document.code), "signed_sha256": document.content_sha256, "number": number,
                   "addendum": text, "by": user.email, "at": now.isoformat()}
        sha = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        version = _append_version(document, kind=VersionKind.ADDENDUM, user=user, addendum=text, sha256=sha)
        audit.record(request, "document.addendum", patient=document.patient, obj=document, actor=user, detail=f"sha256={sha}")
    return version


def addenda(document: Document) -> list[DocumentVersion]:
    return [v for v in queries.versions(document) if v.kind == VersionKind.ADDENDUM]


# --- pre-export name check --------------------------------------------------------------------------


@dataclass
class NameHit:
    section: str
    label: str
    text: str
    blocking: bool


LABELS_DE = {"PERSON": "Name", "STREET": "Straße", "ZIP": "Postleitzahl", "LOCATION": "Ort", "PHONE": "Telefonnummer",
             "EMAIL": "E-Mail-Adresse", "ID": "Versichertennummer / Kennung", "DATE_BIRTH": "Geburtsdatum"}


def body_texts(document: Document) -> list[tuple[str, str]]:
    template = template_of(document)
    out = [(s.title, (document.sections or {}).get(s.key, "")) for s in template.sections(document.variant)]
    out += [(f"Nachtrag {v.number}", v.addendum or "") for v in addenda(document)]
    return out


def name_check(document: Document) -> list[NameHit]:
    """For pseudonymised templates: the anonymizer's leak check on the body with the patient's
    known identifiers. "block" hits (anything the record knows about the patient, e-mail, phone,
    IDs, birth dates) block the export; name-list hits ("warn") must be confirmed."""
    from duktus.llm.gateway import anonymizer

    if not template_of(document).anonymous:
        return []
    known = document.patient.known_identifiers()
    anon = anonymizer()
    hits = []
    for title, text in body_texts(document):
        for ent in anon.residual_risk(text, known=known):
            hits.append(NameHit(title, LABELS_DE.get(ent.label, ent.label), ent.text, ent.severity == "block"))
    return hits


def check_export(document: Document, *, confirmed_warnings: bool = False) -> list[NameHit]:
    """Raise ExportBlocked with a German message when the body identifies the patient."""
    hits = name_check(document)
    blocking = [h for h in hits if h.blocking]
    if blocking:
        where = "; ".join(f"{h.label} in „{h.section}“" for h in blocking)
        raise ExportBlocked("Export gesperrt: Dieses Dokument wird pseudonymisiert versandt, der Text enthält aber "
                            f"identifizierende Angaben ({where}). Bitte entfernen Sie diese (ggf. als Nachtrag) "
                            "und exportieren Sie erneut.")
    warnings = [h for h in hits if not h.blocking]
    if warnings and not confirmed_warnings:
        where = "; ".join(f"„{h.text}“ in „{h.section}“" for h in warnings)
        raise ExportBlocked(f"Möglicher Name im Text ({where}). Bitte prüfen und den Export bestätigen, "
                            "wenn es sich nicht um einen Namen handelt.")
    return hits


def export_pdf(*, document: Document, user: Any, request: Any = None, confirmed_warnings: bool = False) -> bytes:
    from documents import pdf

    check_export(document, confirmed_warnings=confirmed_warnings)
    content = pdf.render_document(document)
    audit.record(request, "document.export_pdf", patient=document.patient, obj=document, actor=user,
                 detail="signiert" if document.is_locked else "Entwurf")
    return content


# --- letterhead ------------------------------------------------------------------------------------

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 2000


class InvalidLogo(ValueError):
    pass


def validate_logo(data: bytes) -> tuple[bytes, str]:
    """A real PNG or JPEG (decoded by Pillow, not trusted by extension), ≤ 512 KB, ≤ 2000 px;
    re-encoded as PNG so nothing but pixels survives (no metadata, no polyglot payloads)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise InvalidLogo("Das Logo ist zu groß (höchstens 512 KB).")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            if fmt not in ("PNG", "JPEG"):
                raise InvalidLogo("Bitte ein Logo im Format PNG oder JPEG hochladen.")
            if max(img.size) > MAX_LOGO_PIXELS:
                raise InvalidLogo(f"Das Logo ist zu groß (höchstens {MAX_LOGO_PIXELS} Pixel Kantenlänge).")
            img.load()
            out = io.BytesIO()
            img.convert("RGBA").save(out, format="PNG")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, InvalidLogo):
            raise
        raise InvalidLogo("Die Datei ist kein gültiges Bild (PNG oder JPEG).") from None
    return out.getvalue(), "image/png"


def save_letterhead(*, practice: Any, name: str, address: str, contact: str, logo: bytes | None,
                    remove_logo: bool, user: Any, request: Any = None) -> PracticeLetterhead:
    head, _ = PracticeLetterhead.objects.get_or_create(practice=practice, defaults={"name": name})
    head.name, head.address, head.contact, head.updated_by = name, address, contact, user
    if remove_logo:
        head.logo, head.logo_mime = None, ""
    elif logo is not None:
        head.logo, head.logo_mime = validate_logo(logo)
    head.save()
    audit.record(request, "document.letterhead", practice=practice, actor=user)
    return head


def letterhead_for(practice: Any) -> dict[str, Any]:
    """What the PDF shows: the practice's letterhead, else its name and address."""
    head = PracticeLetterhead.objects.filter(practice=practice).first()
    if head is not None:
        return {"name": head.name, "address_lines": [line for line in head.address.splitlines() if line.strip()],
                "contact": head.contact, "logo": bytes(head.logo) if head.logo else None}
    city = " ".join(v for v in (practice.postal_code, practice.city) if v)
    return {"name": practice.name, "address_lines": [v for v in (practice.street, city) if v],
            "contact": practice.phone, "logo": None}
