"""Memory writes: entries and their review, therapy goals, vectors, the patient summary and the
extraction of entries from a source (session, document, assessment).

memory imports no feature app. Features hand their material over through
`register_source(kind, loader)` (read by the extraction task) and add entries through
`propose_entry(...)` / `create_goal(...)`. Texts are clinical content: stored encrypted, never
logged, never put into exceptions; audit entries carry codes and counts only.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from duktus import audit
from duktus.llm import gateway
from duktus.llm.embeddings import HashingEmbedder
from duktus.models import PracticeAISettings
from duktus.privacy.erasure import is_restricted
from memory.models import (
    ATTAINMENT_RANGE,
    AttainmentScale,
    EntryStatus,
    EntryType,
    ExtractionRun,
    MemoryEntry,
    MemoryVector,
    PatientSummary,
    SourceKind,
    share_patient,
)

log = logging.getLogger(__name__)

MAX_TEXT = 2000
MAX_EXCERPT = 1000
STALE_RUN = dt.timedelta(minutes=15)  # a RUNNING claim older than this belongs to a dead worker
SUMMARY_DELAY_SECONDS = 60


class ChangeRefused(ValueError):
    """A refused change; the message is German, for the user, and holds no patient content."""


# --- source registry ------------------------------------------------------------------------------
# loader(source_id: str) -> (patient, text, user) or (patient, text, user, date), or None when the
# source no longer exists. Registered by the feature app (e.g. in AppConfig.ready()).
Loader = Callable[[str], Any]
_sources: dict[str, Loader] = {}


def register_source(kind: str, loader: Loader) -> None:
    if kind not in SourceKind.values or kind == SourceKind.MANUAL:
        raise ValueError(f"unknown memory source kind {kind!r}")
    _sources[kind] = loader


def registered_sources() -> dict[str, Loader]:
    return dict(_sources)


# --- helpers -------------------------------------------------------------------------------------
def _user(request: Any, user: Any) -> Any:
    u = user or (getattr(request, "user", None) if request is not None else None)
    return u if u is not None and getattr(u, "is_authenticated", False) else None


def _clean_text(value: Any, limit: int) -> str:
    return re.sub(r"[ \t]+", " ", str(value or "")).strip()[:limit]


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def ai_allowed(patient: Any) -> bool:
    """The gateway's own preconditions, checked up front so background jobs choose the offline
    path instead of producing refused-call records. The gateway still enforces them."""
    return (gateway.is_configured() and not is_restricted(patient) and patient.has_ai_consent()
            and PracticeAISettings.objects.filter(practice_id=patient.practice_id, enabled=True).exists())


# --- embeddings ------------------------------------------------------------------------------------
_offline = HashingEmbedder()


def anonymize_for_embedding(patient: Any, texts: list[str]) -> list[str]:
    """The patient's known identifiers and detected names/places become placeholders. Even the
    offline vector is made from this text: a lexical hash of "Henrike" could be tested for."""
    from anonymizer import Mapping

    # The seeding rule the gateway uses for its own calls (full names only); a fresh mapping per
    # text, so placeholder numbers do not depend on what else is embedded in the same batch.
    seed, _flat = gateway.known_seed(patient)
    anon = gateway.anonymizer()
    return [anon.anonymize(text, gateway.seed_mapping(Mapping(), seed)).text for text in texts]


# The offline backend compares character n-grams, so function words and the phrasing of a
# question ("Was wissen wir über …?") would dominate short texts: both sides drop them first.
_STOPWORDS = frozenset("""
aber alle allem allen aller alles als also am an ans auch auf aus bei beim bin bis bist da dabei damit dann
das dass dem den denn der des dessen die dies diese diesem diesen dieser dieses doch dort du durch ein eine
einem einen einer eines er es etwas euch für gab gegen gibt habe haben hat hatte hätte ich ihm ihn ihnen ihr
ihre ihrem ihren ihrer im in ins ist ja jede jedem jeden jeder jedes jetzt kann kein keine können könnte man
mehr mein meine mich mir mit muss nach nicht noch nun nur ob oder ohne sehr sein seine seinem seinen seiner
sich sie sind so soll sollte sondern über um und uns unter viel vom von vor war waren was weil welche welchem
welchen welcher welches wenn wer werden wie wieder will wir wird wo wurde wurden zu zum zur zwar zwischen
bekannt berichtet erzählt frau herr hinweise patient patientin weiß wissen
""".split())
_TOKEN = re.compile(r"\[[A-Z_]+\d*\]|\w+(?:-\w+)*", re.UNICODE)
OFFLINE_BACKEND = f"{HashingEmbedder.backend}+stop-de-v1"


def offline_text(text: str) -> str:
    # Placeholders ([PERSON_1]) carry no meaning for a search within one patient: dropped too.
    words = [w for w in _TOKEN.findall(text) if w.casefold() not in _STOPWORDS and not w.startswith("[")]
    return " ".join(words) or text


@dataclass(frozen=True)
class Embedded:
    vectors: list[list[float]]
    backend: str


def embed_texts(patient: Any, texts: list[str], *, user: Any = None) -> Embedded:
    """Vectors of the anonymized texts: the provider's `embed` model when AI is allowed for the
    patient, else the offline default. Raises GatewayRefused for a patient whose processing is
    restricted (Art. 18 DSGVO, like the gateway) and GatewayError when the provider fails."""
    if is_restricted(patient):
        raise gateway.GatewayRefused("Die Verarbeitung ist für diese Patientin / diesen Patienten eingeschränkt (Art. 18 DSGVO).")
    anon = anonymize_for_embedding(patient, texts)
    if ai_allowed(patient):
        res = gateway.embed(anon, patient=patient, user=user)
        return Embedded(res.vectors, res.backend)
    return Embedded(_offline.embed([offline_text(t) for t in anon]), OFFLINE_BACKEND)


def current_backend(patient: Any) -> str:
    if ai_allowed(patient):
        from django.conf import settings

        return f"provider:{settings.LLM_MODEL_EMBED}"
    return OFFLINE_BACKEND


def embed_entries(entries: list[MemoryEntry], *, user: Any = None) -> int:
    """(Re)make the vectors of the given entries of one patient; rejected ones get none.
    Returns how many were written; a provider failure leaves them without a vector (the search
    page lists them and `reembed_memory` catches up)."""
    todo = [e for e in entries if e.status != EntryStatus.REJECTED]
    if not todo:
        return 0
    patient = todo[0].patient
    try:
        res = embed_texts(patient, [e.text or "" for e in todo], user=user)
    except gateway.GatewayError as exc:
        log.warning("memory embedding failed: %s", type(exc).__name__)
        return 0
    with transaction.atomic():
        for entry, vec in zip(todo, res.vectors, strict=True):
            MemoryVector.objects.update_or_create(
                entry=entry, defaults={"practice_id": entry.practice_id, "patient_id": entry.patient_id,
                                       "backend": res.backend, "status": entry.status, "embedding": vec})
    return len(todo)


def remove_vector(entry: MemoryEntry) -> int:
    return MemoryVector.objects.filter(entry=entry).delete()[0]


def reembed(*, patients: Iterable[Any], stale_only: bool = False, batch: int = 64) -> int:
    """Re-embed every non-rejected entry of the given patients (or only those whose vector is
    missing or from another backend than the current one). Returns the number of vectors made."""
    made = 0
    for patient in patients:
        qs = MemoryEntry.objects.filter(practice_id=patient.practice_id, patient=patient).exclude(status=EntryStatus.REJECTED)
        if stale_only:
            qs = qs.exclude(vector__backend=current_backend(patient))
        entries = list(qs.order_by("id"))
        for e in entries:
            e.patient = patient
        for i in range(0, len(entries), batch):
            made += embed_entries(entries[i:i + batch])
    return made


# --- entries ---------------------------------------------------------------------------------------
def _changed_confirmed(patient: Any) -> None:
    """Confirmed entries changed: rebuild the summary after commit (the task skips if nothing
    changed or a therapist's own version is current)."""
    from memory.tasks import rebuild_summary

    # The countdown gathers a review round (ten confirmations in a minute) into one rebuild:
    # the later tasks find the fingerprint unchanged and skip. Eager mode runs at once.
    transaction.on_commit(functools.partial(rebuild_summary.apply_async, (patient.pk,), countdown=SUMMARY_DELAY_SECONDS))


def propose_entry(patient: Any, type: str, text: str, source_kind: str, source_id: Any, excerpt: str = "", *,
                  date: dt.date | None = None, user: Any = None, request: Any = None) -> MemoryEntry:
    """The one way for other apps to add a memory entry: it arrives as a proposal the therapist
    reviews. `source_id` is the public id (UUID) of the session/document/administration."""
    entry = _new_entry(patient=patient, type=type, text=text, source_kind=source_kind, source_id=source_id,
                       excerpt=excerpt, date=date, user=_user(request, user))
    with transaction.atomic():
        entry.save()
        audit.record(request, "memory.propose", patient=patient, obj=entry, actor=entry.created_by,
                     detail=f"{type} aus {source_kind}")
    embed_entries([entry], user=entry.created_by)
    return entry


def add_entry(*, patient: Any, type: str, text: str, date: dt.date | None = None, user: Any = None,
              request: Any = None) -> MemoryEntry:
    """A therapist writes an entry by hand: confirmed at once."""
    u = _user(request, user)
    entry = _new_entry(patient=patient, type=type, text=text, source_kind=SourceKind.MANUAL, source_id=None,
                       excerpt="", date=date, user=u)
    entry.status = EntryStatus.CONFIRMED
    entry.confirmed_by, entry.confirmed_at = u, timezone.now()
    with transaction.atomic():
        entry.save()
        audit.record(request, "memory.add", patient=patient, obj=entry, actor=u, detail=type)
        _changed_confirmed(patient)
    embed_entries([entry], user=u)
    return entry


def _new_entry(*, patient: Any, type: str, text: str, source_kind: str, source_id: Any, excerpt: str,
               date: dt.date | None, user: Any) -> MemoryEntry:
    if type not in EntryType.values:
        raise ChangeRefused("Unbekannter Eintragstyp.")
    if source_kind not in SourceKind.values:
        raise ChangeRefused("Unbekannte Quelle.")
    text = _clean_text(text, MAX_TEXT)
    if len(text) < 3:
        raise ChangeRefused("Der Eintrag ist leer oder zu kurz.")
    entry = MemoryEntry(practice_id=patient.practice_id, patient=patient, type=type, source_kind=source_kind,
                        source_id=_uuid_or_none(source_id), date=date or timezone.localdate(), created_by=user)
    entry.text = text
    entry.excerpt = _clean_text(excerpt, MAX_EXCERPT)
    return entry


def change_status(*, entry: MemoryEntry, status: str, user: Any = None, request: Any = None) -> MemoryEntry:
    """Review transition (models.TRANSITIONS). Rejecting drops the vector; only confirmed
    entries feed AI context. Refuses invalid transitions, also against a concurrent change."""
    if status not in EntryStatus.values or not entry.can_become(status):
        raise ChangeRefused("Dieser Statuswechsel ist nicht möglich.")
    u = _user(request, user)
    was_confirmed = entry.status == EntryStatus.CONFIRMED
    now = timezone.now()
    with transaction.atomic():
        fields: dict[str, Any] = {"status": status, "reviewed_by": u, "reviewed_at": now, "updated_at": now}
        if status == EntryStatus.CONFIRMED:
            fields.update(confirmed_by=u, confirmed_at=now)
        if MemoryEntry.objects.filter(pk=entry.pk, status=entry.status).update(**fields) != 1:
            raise ChangeRefused("Der Eintrag wurde inzwischen geändert. Bitte die Seite neu laden.")
        for k, v in fields.items():
            setattr(entry, k, v)
        if status == EntryStatus.REJECTED:
            remove_vector(entry)
        else:
            MemoryVector.objects.filter(entry=entry).update(status=status)
        audit.record(request, f"memory.{status}", patient=entry.patient, obj=entry, actor=u, detail=entry.type)
        if was_confirmed or status == EntryStatus.CONFIRMED:
            _changed_confirmed(entry.patient)
    if status == EntryStatus.PROPOSED:  # reopened after rejection: searchable again
        embed_entries([entry], user=u)
    return entry


def confirm_entry(*, entry: MemoryEntry, user: Any = None, request: Any = None) -> MemoryEntry:
    return change_status(entry=entry, status=EntryStatus.CONFIRMED, user=user, request=request)


def reject_entry(*, entry: MemoryEntry, user: Any = None, request: Any = None) -> MemoryEntry:
    return change_status(entry=entry, status=EntryStatus.REJECTED, user=user, request=request)


def mark_outdated(*, entry: MemoryEntry, user: Any = None, request: Any = None) -> MemoryEntry:
    return change_status(entry=entry, status=EntryStatus.OUTDATED, user=user, request=request)


GOAL_TEXT_FIELDS = ("goal_measure", "goal_baseline", "goal_target", "goal_relevance")


def edit_entry(*, entry: MemoryEntry, data: dict[str, Any], user: Any = None, request: Any = None) -> MemoryEntry:
    """Change type, text, date (and for goals the SMART fields and attainment). The status stays;
    a confirmed entry's change reaches the summary and its vector is remade."""
    u = _user(request, user)
    if "type" in data and data["type"] not in EntryType.values:
        raise ChangeRefused("Unbekannter Eintragstyp.")
    text = _clean_text(data.get("text", entry.text), MAX_TEXT)
    if len(text) < 3:
        raise ChangeRefused("Der Eintrag ist leer oder zu kurz.")
    text_changed = text != entry.text
    entry.type = data.get("type", entry.type)
    entry.text = text
    if data.get("date"):
        entry.date = data["date"]
    if entry.is_goal:
        _apply_goal(entry, data)
    with transaction.atomic():
        entry.save()
        audit.record(request, "memory.edit", patient=entry.patient, obj=entry, actor=u, detail=entry.type)
        if entry.status == EntryStatus.CONFIRMED:
            _changed_confirmed(entry.patient)
    if text_changed:
        embed_entries([entry], user=u)
    return entry


def delete_entry(*, entry: MemoryEntry, user: Any = None, request: Any = None) -> None:
    """Remove an entry and its vector for good (e.g. a feature withdraws what it proposed)."""
    u = _user(request, user)
    was_confirmed = entry.status == EntryStatus.CONFIRMED
    with transaction.atomic():
        remove_vector(entry)
        audit.record(request, "memory.delete", patient=entry.patient, obj=entry, actor=u, detail=entry.type)
        entry.delete()
        if was_confirmed:
            _changed_confirmed(entry.patient)


# --- therapy goals ---------------------------------------------------------------------------------
def _apply_goal(entry: MemoryEntry, data: dict[str, Any]) -> None:
    for f in GOAL_TEXT_FIELDS:
        if f in data:
            setattr(entry, f, _clean_text(data[f], MAX_TEXT))
    if "goal_due" in data:
        entry.goal_due = data["goal_due"] or None
    scale = data.get("attainment_scale", entry.attainment_scale) or ""
    if "attainment" in data and data["attainment"] is not None:
        value = int(data["attainment"])
        if scale not in AttainmentScale.values:
            raise ChangeRefused("Bitte eine Skala für die Zielerreichung wählen.")
        low, high = ATTAINMENT_RANGE[AttainmentScale(scale)]
        if not low <= value <= high:
            raise ChangeRefused(f"Die Zielerreichung muss zwischen {low} und {high} liegen.")
        on = data.get("attainment_on") or timezone.localdate()
        if (value, scale) != (entry.attainment, entry.attainment_scale) or on != entry.attainment_on:
            history = list(entry.attainment_history or [])
            history.append({"on": on.isoformat(), "scale": scale, "value": value})
            entry.attainment_history = history
        entry.attainment, entry.attainment_on = value, on
    entry.attainment_scale = scale


def create_goal(*, patient: Any, text: str, measure: str = "", baseline: str = "", target: str = "",
                relevance: str = "", due: dt.date | None = None, attainment_scale: str = "",
                attainment: int | None = None, source_kind: str = SourceKind.MANUAL, source_id: Any = None,
                excerpt: str = "", confirmed: bool = True, date: dt.date | None = None, user: Any = None,
                request: Any = None) -> MemoryEntry:
    """A therapy goal (type therapeutic_goal) with optional SMART fields and attainment
    (percent 0–100 or GAS −2…+2). The Therapieplan writes goals the therapist has agreed to, so
    `confirmed=True` by default; pass False for suggestions (they arrive as proposals)."""
    u = _user(request, user)
    entry = _new_entry(patient=patient, type=EntryType.THERAPEUTIC_GOAL, text=text, source_kind=source_kind,
                       source_id=source_id, excerpt=excerpt, date=date, user=u)
    _apply_goal(entry, {"goal_measure": measure, "goal_baseline": baseline, "goal_target": target,
                        "goal_relevance": relevance, "goal_due": due, "attainment_scale": attainment_scale,
                        "attainment": attainment})
    if confirmed:
        entry.status = EntryStatus.CONFIRMED
        entry.confirmed_by, entry.confirmed_at = u, timezone.now()
    with transaction.atomic():
        entry.save()
        audit.record(request, "memory.goal_create", patient=patient, obj=entry, actor=u, detail=source_kind)
        if confirmed:
            _changed_confirmed(patient)
    embed_entries([entry], user=u)
    return entry


def update_goal(*, goal: MemoryEntry, user: Any = None, request: Any = None, **changes: Any) -> MemoryEntry:
    """Change a goal: text=, measure=, baseline=, target=, relevance=, due=, attainment_scale=,
    attainment= (appended to the history with attainment_on=, default today)."""
    if not goal.is_goal:
        raise ChangeRefused("Dieser Eintrag ist kein Therapieziel.")
    names = {"measure": "goal_measure", "baseline": "goal_baseline", "target": "goal_target",
             "relevance": "goal_relevance", "due": "goal_due"}
    unknown = set(changes) - set(names) - {"text", "attainment_scale", "attainment", "attainment_on", "date"}
    if unknown:
        raise TypeError(f"unknown goal fields: {sorted(unknown)}")
    data = {names.get(k, k): v for k, v in changes.items()}
    return edit_entry(entry=goal, data=data, user=user, request=request)


# --- patient summary ---------------------------------------------------------------------------------
def entries_fingerprint(entries: list[MemoryEntry]) -> str:
    raw = "|".join(f"{e.code}:{e.updated_at.isoformat()}" for e in sorted(entries, key=lambda e: str(e.code)))
    return hashlib.sha256(raw.encode()).hexdigest()


def _next_version(patient: Any) -> int:
    return (PatientSummary.objects.filter(patient=patient).aggregate(v=Max("version"))["v"] or 0) + 1


def _save_summary(*, patient: Any, text: str, author: str, user: Any, fingerprint: str, count: int,
                  call: Any = None) -> PatientSummary:
    for _ in range(3):  # two writers racing for the same version number: the loser retries
        summary = PatientSummary(practice_id=patient.practice_id, patient=patient, version=_next_version(patient),
                                 author=author, created_by=user, entries_fingerprint=fingerprint,
                                 entry_count=count, llm_call=call)
        summary.text = text
        try:
            with transaction.atomic():
                summary.save()
            return summary
        except IntegrityError:
            continue
    raise ChangeRefused("Die Zusammenfassung konnte nicht gespeichert werden. Bitte erneut versuchen.")


def save_summary(*, patient: Any, text: str, user: Any = None, request: Any = None) -> PatientSummary:
    """The therapist's own version. It stays current until they ask for a rebuild."""
    from memory import queries

    u = _user(request, user)
    text = (text or "").strip()[:8000]
    if not text:
        raise ChangeRefused("Die Zusammenfassung darf nicht leer sein.")
    confirmed = queries.confirmed_entries(patient)
    summary = _save_summary(patient=patient, text=text, author=PatientSummary.Author.HUMAN, user=u,
                            fingerprint=entries_fingerprint(confirmed), count=len(confirmed))
    audit.record(request, "memory.summary_edit", patient=patient, obj=summary, actor=u, detail=f"v{summary.version}")
    return summary


SUMMARY_SYSTEM = (
    "Du schreibst für die Akte einer psychotherapeutischen Praxis eine kurze Fallzusammenfassung "
    "(Fallkonzeption in Kurzform, höchstens 180 Wörter, sachlicher Fließtext auf Deutsch). Verwende "
    "ausschließlich die bestätigten Einträge und – falls vorhanden – die bisherige, von der Therapeutin / "
    "dem Therapeuten bearbeitete Fassung. Nichts hinzuerfinden, keine Diagnosen ergänzen. Gliederung: "
    "Anlass und Symptomatik; Lebenskontext und Ressourcen; Therapieziele und bisheriger Verlauf; Warnhinweise."
)


def list_summary(entries: list[MemoryEntry]) -> str:
    """Without a model: the confirmed entries, grouped by type in a fixed order, newest first."""
    lines: list[str] = []
    for t in EntryType:
        group = [e for e in entries if e.type == t]
        if not group:
            continue
        lines.append(f"{t.label}:")
        for e in sorted(group, key=lambda e: (e.date, e.id), reverse=True):
            extra = f" (Zielerreichung {e.attainment_display})" if e.is_goal and e.attainment is not None else ""
            lines.append(f"• {e.text}{extra} [{e.date:%d.%m.%Y}]")
        lines.append("")
    return "\n".join(lines).strip()


def rebuild_summary(*, patient: Any, user: Any = None, force: bool = False, request: Any = None) -> PatientSummary | None:
    """New version from the confirmed entries when they changed since the current version.

    A current version written by the therapist is left alone unless `force` (the page shows it
    as out of date with a button). With AI allowed for the patient the gateway writes a short
    case picture (role "documentation"); otherwise — or when the model fails — the entries are
    compiled as a grouped list (author "list"). Returns None when nothing was done.
    """
    from memory import queries

    entries = queries.confirmed_entries(patient)
    fp = entries_fingerprint(entries)
    latest = queries.current_summary(patient)
    if latest is not None and not force and (latest.entries_fingerprint == fp or latest.author == PatientSummary.Author.HUMAN):
        return None
    if latest is None and not entries:
        return None
    u = _user(request, user)
    text, author, call = list_summary(entries), PatientSummary.Author.LIST, None
    if entries and ai_allowed(patient):
        listing = "\n".join(f"- [{e.get_type_display()}, {e.date:%d.%m.%Y}] {e.text}" for e in entries)
        user_msg = f"Bestätigte Einträge:\n{listing}"
        if latest is not None and latest.author == PatientSummary.Author.HUMAN:
            user_msg += f"\n\nBisherige Fassung (von der Therapeutin / dem Therapeuten bearbeitet):\n{latest.text}"
        try:
            res = gateway.complete(patient=patient, role="documentation", user=u, messages=[
                {"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": user_msg}])
            text, author, call = res.text.strip(), PatientSummary.Author.AI, res.call
        except gateway.GatewayError as exc:
            log.warning("memory summary via model failed, list instead: %s", type(exc).__name__)
    if not entries:
        text = "Keine bestätigten Einträge."
    summary = _save_summary(patient=patient, text=text, author=author, user=u, fingerprint=fp, count=len(entries), call=call)
    audit.record(request, "memory.summary_rebuild", patient=patient, obj=summary, actor=u,
                 detail=f"v{summary.version} {author}")
    return summary


def request_summary_rebuild(*, patient: Any, user: Any = None) -> None:
    from memory.tasks import rebuild_summary as task

    uid = getattr(user, "pk", None)
    transaction.on_commit(lambda: task.delay(patient.pk, True, uid))


# --- extraction ---------------------------------------------------------------------------------------
EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["type", "text", "excerpt"],
                "properties": {
                    "type": {"enum": list(EntryType.values)},
                    "text": {"type": "string", "minLength": 3, "maxLength": MAX_TEXT},
                    "excerpt": {"type": "string", "maxLength": MAX_EXCERPT},
                },
            },
        },
    },
}

EXTRACTION_SYSTEM = (
    "Du liest die Dokumentation einer psychotherapeutischen Sitzung (oder ein Dokument) und schlägst "
    "Einträge für das klinische Gedächtnis der Akte vor. Typen: clinical_fact (Symptome, Befunde, "
    "Diagnosen, Medikation), therapeutic_goal (vereinbarte Therapieziele), intervention (angewandte "
    "Methoden, Hausaufgaben), preference (was der Person hilft oder nicht, Wünsche zur Behandlung), "
    "context (Lebensumstände, Arbeit, Beziehungen), warning (Risiken wie Suizidalität, Gewalt, "
    "Unverträglichkeiten), progress (Veränderungen, Fortschritte, Rückschritte), resource (Stärken, "
    "Unterstützung). Jeder Eintrag ist ein kurzer sachlicher Satz und enthält nur, was im Text steht; "
    "'excerpt' ist das wörtliche Zitat aus dem Text, auf dem er beruht. Nichts erfinden. Höchstens 12 "
    "Einträge. Antworte ausschließlich mit einem JSON-Objekt nach diesem JSON-Schema, ohne weiteren Text; "
    "wenn nichts Relevantes enthalten ist: {\"entries\": []}.\nSchema: " + json.dumps(EXTRACTION_SCHEMA, ensure_ascii=False)
)


class ExtractionInvalid(Exception):
    """The model's answer is unusable. `kind` is a code, `where` a JSON path — never content."""

    def __init__(self, kind: str, where: str = "") -> None:
        self.kind, self.where = kind, where
        super().__init__(f"{kind} {where}".strip())


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.IGNORECASE)


def parse_extraction(answer: str) -> list[dict[str, str]]:
    """JSON (optionally in a ``` fence) validated against EXTRACTION_SCHEMA; all or nothing."""
    raw = _FENCE.sub("", answer or "").strip()
    if not raw:
        raise ExtractionInvalid("empty")
    try:
        data = json.loads(raw)
    except ValueError:
        start, end = raw.find("{"), raw.rfind("}")
        try:
            data = json.loads(raw[start:end + 1]) if 0 <= start < end else None
        except ValueError:
            data = None
        if data is None:
            raise ExtractionInvalid("malformed_json") from None
    return _validate(data)


def _validate(data: Any) -> list[dict[str, str]]:
    spec = EXTRACTION_SCHEMA["properties"]["entries"]
    item = spec["items"]["properties"]
    if not isinstance(data, dict) or "entries" not in data:
        raise ExtractionInvalid("schema", "$.entries")
    entries = data["entries"]
    if not isinstance(entries, list):
        raise ExtractionInvalid("schema", "$.entries")
    if len(entries) > spec["maxItems"]:
        raise ExtractionInvalid("schema", "$.entries (zu viele)")
    out = []
    for i, e in enumerate(entries):
        where = f"$.entries[{i}]"
        if not isinstance(e, dict):
            raise ExtractionInvalid("schema", where)
        for key in spec["items"]["required"]:
            if not isinstance(e.get(key), str):
                raise ExtractionInvalid("schema", f"{where}.{key}")
        if e["type"] not in item["type"]["enum"]:
            raise ExtractionInvalid("schema", f"{where}.type")
        text = e["text"].strip()
        if not item["text"]["minLength"] <= len(text) <= item["text"]["maxLength"]:
            raise ExtractionInvalid("schema", f"{where}.text")
        if len(e["excerpt"]) > item["excerpt"]["maxLength"]:
            raise ExtractionInvalid("schema", f"{where}.excerpt")
        out.append({"type": e["type"], "text": text, "excerpt": e["excerpt"].strip()})
    return out


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w+", re.UNICODE)


def locate_excerpt(source: str, excerpt: str, text: str) -> str:
    """The excerpt as a real quote of the source: the model's excerpt when the source contains
    it, otherwise the source sentence sharing the most words with excerpt and entry text."""
    def norm(s: str) -> str:
        return " ".join(s.split()).casefold()

    if excerpt and norm(excerpt) in norm(source):
        return excerpt
    want = set(_WORD.findall((excerpt + " " + text).casefold()))
    best, score = "", 0
    for sentence in _SENTENCE.split(source):
        s = sentence.strip()
        overlap = len(want & set(_WORD.findall(s.casefold())))
        if s and overlap > score:
            best, score = s, overlap
    return best[:MAX_EXCERPT]


def request_extraction(*, source_kind: str, source_id: Any) -> None:
    """For features: after the source is committed (e.g. a session closed), extract proposals."""
    from memory.tasks import extract_entries

    if source_kind not in _sources:
        raise ValueError(f"no memory source registered for {source_kind!r}")
    sid = str(_uuid_or_none(source_id))
    transaction.on_commit(lambda: extract_entries.delay(source_kind, sid))


def _claim(run: ExtractionRun) -> bool:
    now = timezone.now()
    claimable = Q(status__in=[ExtractionRun.Status.PENDING, ExtractionRun.Status.FAILED]) | Q(
        status=ExtractionRun.Status.RUNNING, started_at__lt=now - STALE_RUN)
    n = ExtractionRun.objects.filter(claimable, pk=run.pk).update(
        status=ExtractionRun.Status.RUNNING, started_at=now, finished_at=None, attempts=0, error_kind="")
    return n == 1


def _finish(run: ExtractionRun, status: str, error_kind: str = "", attempts: int = 0, created: int = 0) -> ExtractionRun:
    run.status, run.error_kind, run.attempts, run.entries_created = status, error_kind[:40], attempts, created
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error_kind", "attempts", "entries_created", "finished_at"])
    return run


def extract_from_source(*, source_kind: str, source_id: Any, override_warnings: bool = False) -> ExtractionRun | None:
    """Idempotent: one run per source; a finished or running run is returned untouched, a failed
    one may be claimed again. The model's answer must validate completely or nothing is stored;
    an unusable answer (malformed JSON, schema violation, empty) is asked for once more, then
    the run fails with its error kind. Gateway outages re-raise for the task's retry; any other
    error fails the run ("error", the page offers a retry) and re-raises."""
    loader = _sources.get(source_kind)
    if loader is None:
        raise ValueError(f"no memory source registered for {source_kind!r}")
    sid = _uuid_or_none(source_id)
    if sid is None:
        return None  # not one of our ids: no such source
    loaded = loader(str(sid))
    if loaded is None:
        return None  # the source is gone
    patient, source_text, user = loaded[0], loaded[1] or "", loaded[2]
    source_date = loaded[3] if len(loaded) > 3 else None
    run, _ = ExtractionRun.objects.get_or_create(source_kind=source_kind, source_id=sid, defaults={
        "patient": patient, "practice_id": patient.practice_id})
    if run.patient_id != patient.pk:
        raise ValueError("extraction run belongs to another patient")
    if not _claim(run):
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    try:
        return _extract_claimed(run, patient=patient, source_text=source_text, user=user, source_date=source_date,
                                override_warnings=override_warnings)
    except Exception:
        # Not left claimed: a "running" run would ignore redeliveries for STALE_RUN, offer no
        # retry and show as running. A run already finished (e.g. "unavailable") keeps its status.
        ExtractionRun.objects.filter(pk=run.pk, status=ExtractionRun.Status.RUNNING).update(
            status=ExtractionRun.Status.FAILED, error_kind="error", finished_at=timezone.now())
        raise


def _extract_claimed(run: ExtractionRun, *, patient: Any, source_text: str, user: Any, source_date: dt.date | None,
                     override_warnings: bool) -> ExtractionRun:
    source_kind, sid = run.source_kind, run.source_id
    if not source_text.strip():
        return _finish(run, ExtractionRun.Status.DONE)

    messages = [{"role": "system", "content": EXTRACTION_SYSTEM}, {"role": "user", "content": source_text}]
    conversation, attempts, items = None, 0, None
    last_kind = ""
    for attempt in range(2):
        attempts += 1
        msgs = messages if attempt == 0 else [*messages, {"role": "user", "content": (
            "Die letzte Antwort war nicht verwertbar (" + last_kind + "). Antworte nur mit einem JSON-Objekt "
            "nach dem Schema, ohne weiteren Text.")}]
        try:
            res = gateway.complete(patient=patient, role="diagnostics", messages=msgs, conversation=conversation,
                                   user=user, override_warnings=override_warnings)
            conversation = res.conversation
            items = parse_extraction(res.text)
            break
        except ExtractionInvalid as exc:
            last_kind = exc.kind
        except gateway.GatewayBadResponse:
            last_kind = "empty"  # the gateway refuses blank answers
        except gateway.GatewayUnavailable:
            _finish(run, ExtractionRun.Status.FAILED, "unavailable", attempts)
            raise
        except gateway.GatewayError as exc:  # refused, blocked, warning: asking again changes nothing
            kind = {"GatewayRefused": "refused", "GatewayBlocked": "blocked", "GatewayWarning": "warning"}
            return _finish(run, ExtractionRun.Status.FAILED, kind.get(type(exc).__name__, "gateway"), attempts)
    if items is None:
        _finish(run, ExtractionRun.Status.FAILED, last_kind, attempts)
        audit.record(None, "memory.extract_failed", patient=patient, obj=run, actor=user, detail=f"{source_kind}: {last_kind}")
        return run

    # The same fact stated again (or once rejected) is not proposed again: exact text, ignoring
    # case and spacing. Decrypts the patient's entry texts — a background job, once per source.
    known = {" ".join((e.text or "").split()).casefold()
             for e in share_patient(list(MemoryEntry.objects.filter(practice_id=patient.practice_id, patient=patient)), patient)}
    fresh = []
    for item in items:
        key = " ".join(item["text"].split()).casefold()
        if key not in known:
            known.add(key)
            fresh.append(item)
    skipped, items = len(items) - len(fresh), fresh
    entries = []
    try:
        for item in items:
            entry = _new_entry(patient=patient, type=item["type"], text=item["text"], source_kind=source_kind,
                               source_id=sid, excerpt=locate_excerpt(source_text, item["excerpt"], item["text"]),
                               date=source_date, user=user)
            entry.run = run
            entries.append(entry)
    except ChangeRefused:  # validated above; kept so that a run can never stay claimed
        return _finish(run, ExtractionRun.Status.FAILED, "schema", attempts)
    with transaction.atomic():
        for entry in entries:
            entry.save()
        _finish(run, ExtractionRun.Status.DONE, attempts=attempts, created=len(entries))
        audit.record(None, "memory.extract", patient=patient, obj=run, actor=user,
                     detail=f"{source_kind}: {len(entries)} Vorschläge" + (f", {skipped} bekannt" if skipped else ""))
    for i in range(0, len(entries), 64):
        embed_entries(entries[i:i + 64], user=user)
    return run


def retry_extraction(*, run: ExtractionRun, override_warnings: bool = False, request: Any = None) -> None:
    from memory.tasks import extract_entries

    if run.status != ExtractionRun.Status.FAILED:
        raise ChangeRefused("Nur fehlgeschlagene Auswertungen können wiederholt werden.")
    if run.source_kind not in _sources:
        raise ChangeRefused("Diese Quelle kann derzeit nicht ausgewertet werden.")
    audit.record(request, "memory.extract_retry", patient=run.patient, obj=run, detail=run.source_kind)
    kind, sid = run.source_kind, str(run.source_id)
    transaction.on_commit(lambda: extract_entries.delay(kind, sid, override_warnings))


# --- search ------------------------------------------------------------------------------------------
@dataclass
class SearchResult:
    hits: list[Any]
    backend: str
    unsearchable: int  # entries not (yet) embedded with this backend


def search_memory(*, patient: Any, query: str, k: int = 5, statuses: tuple[str, ...] | None = None,
                  user: Any = None) -> SearchResult:
    """Entries of this one patient nearest in meaning to `query`. The query is anonymized before
    it is embedded (and anonymized again by the gateway for a provider). Raises GatewayError when
    the provider fails. Entries without a current vector are re-embedded in the background."""
    from memory import queries
    from memory.tasks import reembed_patient

    emb = embed_texts(patient, [query], user=user)
    hits, missing = queries.search_rows(patient, emb.vectors[0], emb.backend, k=k, statuses=statuses or queries.SEARCHABLE)
    if missing:
        transaction.on_commit(functools.partial(reembed_patient.delay, patient.pk))
    return SearchResult(hits=hits, backend=emb.backend, unsearchable=missing)
