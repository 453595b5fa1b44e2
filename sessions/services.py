"""Session services: create/start/close sessions, autosave notes, corrections (§ 630f BGB),
the AI panel (ask → task → answer with cited evidence → accept/edit/reject) and the crisis cue.

Every write appends one audit entry (pseudonym and object code only, never content). Nothing
here logs decrypted values; gateway errors carry German user messages without content.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from duktus import audit
from duktus.llm import gateway
from duktus.models import LLMCall, LLMConversation
from patients import crisis
from patients.models import Approval
from sessions import crisis_cue, evidence
from sessions.models import AI_BEGIN, AI_END, AIRequest, NoteVersion, Status, TherapySession

log = logging.getLogger(__name__)

# A running request older than this is taken over by a redelivered task (worker died mid-call).
STALE_RUNNING = dt.timedelta(minutes=6)
PARTIAL_SAVE_SECONDS = 0.25
RECENT_SESSIONS = 3
EVIDENCE_K = 5
GENERIC_FAILURE = "Die KI-Anfrage ist fehlgeschlagen. Bitte erneut versuchen."

SYSTEM_PROMPT = (
    "Du unterstützt eine approbierte Psychotherapeutin bzw. einen approbierten Psychotherapeuten "
    "während einer Sitzung. Deine Antworten sind Material für die eigene fachliche Entscheidung der "
    "Therapeutin / des Therapeuten – keine Diagnose und keine Anweisung. Antworte auf Deutsch, knapp "
    "und sachlich. Stütze Aussagen zu Leitlinien ausschließlich auf die unten aufgeführten "
    "Evidenz-Einträge und zitiere sie mit ihrer Kennung in eckigen Klammern, z. B. [E1]. Erfinde keine "
    "Empfehlungsnummern und keine Quellen. Wenn die Einträge die Frage nicht abdecken, sage das. "
    "Platzhalter in eckigen Klammern stehen für Namen, Orte und Kontaktdaten; übernimm sie unverändert."
)


class SessionError(ValueError):
    """A refused state change; `str(exc)` is a German message for the user."""


class Cancelled(gateway.GatewayError):
    """Raised inside the streaming callback when the therapist cancelled: the gateway stops
    reading the stream and records the call as failed ("Cancelled")."""

    default_message = "Die Anfrage wurde abgebrochen. Frage und Notiz sind erhalten."


# --- sessions --------------------------------------------------------------------------------------
def next_number(approval: Approval) -> int:
    """The next number within the Bewilligung: after the highest session number, or after the
    sessions counted by hand before duktus knew of them."""
    highest = TherapySession.objects.filter(approval=approval).aggregate(m=Max("number"))["m"] or 0
    return max(highest, approval.sessions_used) + 1


def create_session(*, patient: Any, date: dt.date, duration_minutes: int, setting: str, approval: Approval | None,
                   user: Any, request: Any = None) -> TherapySession:
    with transaction.atomic():
        if approval is not None:
            approval = Approval.objects.select_for_update().get(pk=approval.pk)
        session = TherapySession(patient=patient, therapist=patient.therapist or user, date=date,
                                 duration_minutes=duration_minutes, setting=setting, approval=approval,
                                 number=next_number(approval) if approval is not None else None,
                                 created_by=user)
        session.note = ""
        session.process_notes = ""
        session.save()
        audit.record(request, "session.create", patient=patient, obj=session, actor=user)
    return session


def start_session(*, session: TherapySession, request: Any = None) -> None:
    updated = TherapySession.objects.filter(pk=session.pk, status=Status.PLANNED).update(
        status=Status.RUNNING, started_at=timezone.now())
    if updated != 1:
        raise SessionError("Die Sitzung wurde bereits begonnen.")
    session.refresh_from_db(fields=["status", "started_at"])
    audit.record(request, "session.start", patient=session.patient, obj=session)


@dataclass
class SaveResult:
    revision: int
    saved_at: dt.datetime
    crisis: bool  # a crisis event is open for this session's note (banner must show)


def normalize_newlines(text: str) -> str:
    """Browsers send textarea line breaks as CRLF; store LF only."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def save_note(*, session: TherapySession, text: str, revision: int, field: str = "note", request: Any = None) -> SaveResult:
    """Autosave. The note is editable only while the session runs (afterwards: corrections);
    process notes always. A stale `revision` (another window saved in between) is refused."""
    if field not in ("note", "process_notes"):
        raise SessionError("Unbekanntes Feld.")
    text = normalize_newlines(text)
    if field == "note" and session.status == Status.DONE:
        raise SessionError("Die Sitzung ist abgeschlossen – Änderungen bitte als Korrektur erfassen.")
    if field == "note" and session.status != Status.RUNNING:
        raise SessionError("Die Sitzungsnotiz wird während der laufenden Sitzung geschrieben – bitte die Sitzung zuerst beginnen.")
    if field == "note":
        _check_ai_marking(session, text)
    now = timezone.now()
    with transaction.atomic():
        locked = TherapySession.objects.select_for_update().get(pk=session.pk)
        if field == "note" and locked.note_revision != revision:
            raise SessionError("Die Notiz wurde inzwischen in einem anderen Fenster geändert. Bitte die Seite neu laden.")
        locked.patient = session.patient
        setattr(locked, field, text)
        fields = [f"{field}_ct"]
        if field == "note":
            locked.note_revision = revision + 1
            locked.note_saved_at = now
            fields += ["note_revision", "note_saved_at"]
        locked.save(update_fields=fields)
        audit.record(request, "session.note.save", patient=session.patient, obj=session, detail=field)
    session.note_revision, session.note_saved_at = locked.note_revision, locked.note_saved_at
    setattr(session, field, text)
    raised = check_crisis(session=session, text=text, source_id=session.code, request=request)
    return SaveResult(revision=locked.note_revision, saved_at=now, crisis=raised)


def _check_ai_marking(session: TherapySession, text: str) -> None:
    """Accepted AI text may be edited or deleted, but not left in the note without its marking
    (EU AI Act Art. 50)."""
    accepted = AIRequest.objects.filter(session=session, decision__in=[AIRequest.Decision.ACCEPTED, AIRequest.Decision.EDITED])
    if not accepted.exists():
        return
    plain = "".join(t for is_ai, _h, t in split_ai_segments(text) if not is_ai)
    for item in accepted:
        item.session = session
        body = (item.decided_text or "").strip()
        if body and body in plain:
            raise SessionError("Übernommener KI-Text muss als „KI-generiert“ gekennzeichnet bleiben: bitte die "
                               "Markierung ⟦KI-generiert …⟧ … ⟦Ende KI-Text⟧ wiederherstellen oder den Text löschen.")


def close_session(*, session: TherapySession, request: Any = None) -> NoteVersion:
    """Freeze the note as version 1 (the original), count the session in its Bewilligung and
    hand the note to memory extraction when the memory app offers it."""
    user = getattr(request, "user", None)
    with transaction.atomic():
        updated = TherapySession.objects.filter(pk=session.pk, status=Status.RUNNING).update(
            status=Status.DONE, closed_at=timezone.now(), closed_by=user)
        if updated != 1:
            raise SessionError("Nur eine laufende Sitzung kann abgeschlossen werden.")
        locked = TherapySession.objects.get(pk=session.pk)
        locked.patient = session.patient
        version = NoteVersion(session=locked, number=1, kind=NoteVersion.Kind.ORIGINAL, author=user)
        version.text = locked.note
        version.reason = ""
        version.save()
        if locked.approval_id and locked.number:
            Approval.objects.filter(pk=locked.approval_id, sessions_used__lt=locked.number).update(sessions_used=locked.number)
        audit.record(request, "session.close", patient=session.patient, obj=session)
        _enqueue_memory_extraction(locked)
    session.status, session.closed_at = locked.status, locked.closed_at
    return version


def _enqueue_memory_extraction(session: TherapySession) -> None:
    """memory extracts proposals from the closed note (on commit, ids only)."""
    from memory import services as memory_services

    memory_services.request_extraction(source_kind="session", source_id=session.code)


def memory_source(source_id: str) -> tuple[Any, str, Any, dt.date] | None:
    """memory's loader for kind "session": the closed note (never the process notes)."""
    session = (TherapySession.objects.select_related("patient__data_key", "patient__practice", "closed_by", "therapist")
               .filter(code=source_id, status=Status.DONE).first())
    if session is None:
        return None
    return session.patient, session.note, session.closed_by or session.therapist, session.date


def correct_note(*, session: TherapySession, text: str, reason: str, request: Any = None) -> NoteVersion:
    """A visible correction of a closed note: a new version with author, date and reason; the
    original and every earlier version stay readable."""
    if session.status != Status.DONE:
        raise SessionError("Korrekturen gibt es erst nach Abschluss der Sitzung.")
    text = normalize_newlines(text)
    user = getattr(request, "user", None)
    with transaction.atomic():
        locked = TherapySession.objects.select_for_update().get(pk=session.pk)
        locked.patient = session.patient
        if text == locked.note:
            raise SessionError("Der Text ist unverändert.")
        last = NoteVersion.objects.filter(session=locked).aggregate(m=Max("number"))["m"] or 0
        version = NoteVersion(session=locked, number=last + 1, kind=NoteVersion.Kind.CORRECTION, author=user)
        version.text = text
        version.reason = reason
        version.save()
        locked.note = text
        locked.note_revision += 1
        locked.note_saved_at = timezone.now()
        locked.save(update_fields=["note_ct", "note_revision", "note_saved_at"])
        audit.record(request, "session.note.correct", patient=session.patient, obj=session, detail=f"v{version.number}")
    session.note, session.note_revision = text, locked.note_revision
    return version


# --- crisis cue ---------------------------------------------------------------------------------------
def check_crisis(*, session: TherapySession, text: str, source_id: Any, request: Any = None) -> bool:
    """Raise the one crisis event (source: session note) when the text shows signs of acute
    suicidality. Support only: nothing is sent or triggered. True when an event is open for it."""
    cues = [c for c in crisis_cue.detect(text) if c.severity == crisis_cue.ACUTE]
    if cues:
        phrase = cues[0].phrase
        crisis.raise_crisis(patient=session.patient, source=crisis.CrisisSource.SESSION_NOTE, source_id=source_id,
                            summary=f"Sitzung {session.date:%d.%m.%Y}: Hinweis auf akute Suizidalität („{phrase}“)",
                            request=request, actor=getattr(request, "user", None))
    return crisis.CrisisEvent.objects.filter(patient=session.patient, source=crisis.CrisisSource.SESSION_NOTE,
                                             source_id=str(source_id), status=crisis.CrisisStatus.OPEN).exists()


# --- AI panel --------------------------------------------------------------------------------------------
def ask(*, session: TherapySession, question: str, request: Any = None) -> AIRequest:
    """Store the question and enqueue the answer task on commit (ids only)."""
    user = getattr(request, "user", None)
    with transaction.atomic():
        item = AIRequest(session=session, created_by=user)
        item.question = question
        item.answer = ""
        item.sources = []
        item.decided_text = ""
        item.save()
        audit.record(request, "session.ai.ask", patient=session.patient, obj=item)
        _enqueue(item)
    # Same source as the note: one crisis event per session, however often the cue appears.
    check_crisis(session=session, text=question, source_id=session.code, request=request)
    return item


def retry(*, item: AIRequest, override_warnings: bool = False, request: Any = None) -> None:
    """Queue a failed request again (same question). With override_warnings the therapist
    confirmed a leak-guard warning (audited)."""
    if override_warnings and not item.can_override:
        raise SessionError("Hier gibt es keine Warnung zu übergehen.")
    with transaction.atomic():
        updated = AIRequest.objects.filter(pk=item.pk, state=AIRequest.State.FAILED).update(
            state=AIRequest.State.QUEUED, error_message="", error_kind="", warning_labels=[], cancel_requested=False,
            override_warnings=override_warnings or F("override_warnings"))
        if updated != 1:
            raise SessionError("Diese Anfrage läuft bereits oder ist fertig.")
        action = "session.ai.override" if override_warnings else "session.ai.retry"
        audit.record(request, action, patient=item.session.patient, obj=item,
                     detail=",".join(item.warning_labels) if override_warnings else "")
        _enqueue(item)
    item.refresh_from_db(fields=["state", "error_message", "error_kind", "warning_labels", "override_warnings"])


def cancel(*, item: AIRequest, request: Any = None) -> None:
    """Stop a question: a queued one never starts; a running one stops at its next streamed
    piece (the task checks the flag). The question stays and can be asked again."""
    with transaction.atomic():
        updated = AIRequest.objects.filter(pk=item.pk, state=AIRequest.State.QUEUED).update(
            state=AIRequest.State.FAILED, error_message=Cancelled.default_message, error_kind="Cancelled",
            cancel_requested=True, finished_at=timezone.now())
        if not updated:
            updated = AIRequest.objects.filter(pk=item.pk, state=AIRequest.State.RUNNING).update(cancel_requested=True)
        if not updated:
            raise SessionError("Diese Anfrage läuft nicht mehr.")
        audit.record(request, "session.ai.cancel", patient=item.session.patient, obj=item)
    item.refresh_from_db(fields=["state", "error_message", "error_kind", "cancel_requested"])


def _cancelled(item_id: int) -> bool:
    return AIRequest.objects.filter(pk=item_id, cancel_requested=True).exists()


def _enqueue(item: AIRequest) -> None:
    from sessions.tasks import answer_question

    item_id = item.pk
    transaction.on_commit(lambda: answer_question.delay(item_id))


def _claim(item_id: int) -> bool:
    """Idempotent start: exactly one worker moves the row to running (or takes over a stale run)."""
    now = timezone.now()
    claimable = Q(state=AIRequest.State.QUEUED) | Q(state=AIRequest.State.RUNNING, started_at__lt=now - STALE_RUNNING)
    return AIRequest.objects.filter(claimable, pk=item_id).update(
        state=AIRequest.State.RUNNING, started_at=now, attempts=F("attempts") + 1) == 1


def _session_blocks(session: TherapySession) -> list[dict[str, str]]:
    """Current note and the last few closed sessions' notes. Process notes never."""
    blocks = []
    if (session.note or "").strip():
        blocks.append({"title": f"Aktuelle Sitzung ({session.date:%d.%m.%Y}), Notiz", "text": session.note})
    earlier = (TherapySession.objects.filter(patient=session.patient, status=Status.DONE)
               .exclude(pk=session.pk).order_by("-date", "-id")[:RECENT_SESSIONS])
    for s in earlier:
        s.patient = session.patient
        if (s.note or "").strip():
            blocks.append({"title": f"Sitzung vom {s.date:%d.%m.%Y} ({s.get_setting_display()})", "text": s.note})
    return blocks


def _evidence_text(hits: list[dict[str, Any]]) -> str:
    return "\n".join(f"[E{i}] {h['citation']}: {h['text']}" for i, h in enumerate(hits, 1))


def build_messages(*, session: TherapySession, question: str, hits: list[dict[str, Any]]) -> tuple[list[dict[str, str]], Any]:
    from memory.context import build_context

    extra = []
    if hits:
        extra.append({"title": "Evidenz-Einträge (Leitlinien)", "text": _evidence_text(hits)})
    extra += _session_blocks(session)
    ctx = build_context(session.patient, question, extra)
    user = f"{ctx.text}\n\n## Frage\n{question}" if ctx.blocks else question
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}], ctx


HIT_FIELDS = ("id", "guideline", "guideline_short", "year", "chapter", "recommendation_number", "grade", "source",
              "verified", "text", "score", "backend")


def evidence_hits(query: str, *, patient: Any = None, practice: Any = None, user: Any = None, k: int = EVIDENCE_K) -> list[dict[str, Any]]:
    """Evidence entries for the query as plain dicts (stored with the answer as its sources)."""
    hits = evidence.search(query, k, patient=patient, practice=practice, user=user)
    return [{f: getattr(h, f) for f in HIT_FIELDS}
            | {"score": round(float(h.score), 4), "citation": h.citation, "number_label": h.number_label, "grade_label": h.grade_label}
            for h in hits]


_CITE = re.compile(r"\[E(\d{1,2})\]")


def answer_question(*, item_id: int) -> None:
    """The task's body: claim, retrieve evidence, assemble context, call the gateway (streaming
    partial text into the row), store answer + sources, or a German failure message."""
    if not _claim(item_id):
        return
    item = AIRequest.objects.select_related("session__patient__data_key", "session__patient__practice", "created_by").get(pk=item_id)
    session = item.session
    patient = session.patient
    user = item.created_by
    started = timezone.now()
    try:
        question = item.question
        hits = evidence_hits(question, patient=patient, user=user)
        item.sources = [{**h, "cited": False} for h in hits]
        item.answer = ""
        item.save(update_fields=["sources_ct", "answer_ct"])
        messages, ctx = build_messages(session=session, question=question, hits=hits)
        item.memory_refs = list(ctx.used_entries)
        item.save(update_fields=["memory_refs"])
        conversation = _conversation(session)
        if _cancelled(item.pk):
            raise Cancelled()
        last = [0.0]

        def on_delta(text: str) -> None:
            now = time.monotonic()
            if now - last[0] >= PARTIAL_SAVE_SECONDS:
                last[0] = now
                if _cancelled(item.pk):
                    raise Cancelled()
                item.answer = text
                item.save(update_fields=["answer_ct"])

        result = gateway.complete(patient=patient, role="dialog", messages=messages, conversation=conversation,
                                  user=user, override_warnings=item.override_warnings, on_delta=on_delta)
    except gateway.GatewayError as exc:
        _fail(item, exc, started)
        return
    except Exception as exc:  # noqa: BLE001 — never a 500, never content in the log
        log.warning("AI answer failed: %s", type(exc).__name__)
        _fail(item, None, started)
        return
    cited = {int(n) for n in _CITE.findall(result.text)}
    item.sources = [{**h, "cited": i in cited} for i, h in enumerate(hits, 1)]
    item.answer = result.text
    item.llm_call = result.call
    item.state = AIRequest.State.DONE
    item.warning_labels = result.warnings
    item.finished_at = timezone.now()
    item.save(update_fields=["sources_ct", "answer_ct", "llm_call", "state", "warning_labels", "finished_at"])
    audit.record(None, "session.ai.answer", patient=patient, obj=item, actor=user, detail="ok")


def _conversation(session: TherapySession) -> LLMConversation:
    """The session's conversation (one mapping for every question of the session)."""
    with transaction.atomic():
        locked = TherapySession.objects.select_for_update().get(pk=session.pk)
        if locked.conversation_id is None:
            conv = LLMConversation(patient=session.patient)
            conv.mapping = {}
            conv.save()
            TherapySession.objects.filter(pk=session.pk).update(conversation=conv)
            session.conversation = conv
        else:
            session.conversation_id = locked.conversation_id
    assert session.conversation_id is not None  # set by one of the branches above
    conv = LLMConversation.objects.get(pk=session.conversation_id)
    conv.patient = session.patient
    return conv


def _fail(item: AIRequest, exc: gateway.GatewayError | None, started: dt.datetime) -> None:
    item.state = AIRequest.State.FAILED
    item.error_message = (str(exc) if exc is not None else GENERIC_FAILURE)[:300]
    item.error_kind = type(exc).__name__ if exc is not None else "Error"
    item.warning_labels = list(getattr(exc, "labels", []) or [])
    item.finished_at = timezone.now()
    # The failed call's row (what was sent, if anything) for "Was die KI gesehen hat".
    conv_id = item.session.conversation_id
    call = (LLMCall.objects.filter(conversation_id=conv_id, created__gte=started).order_by("-id").first()
            if conv_id else None)
    item.llm_call = call
    item.save(update_fields=["state", "error_message", "error_kind", "warning_labels", "finished_at", "llm_call", "answer_ct"])
    audit.record(None, "session.ai.answer", patient=item.session.patient, obj=item, actor=item.created_by,
                 detail=f"failed {item.error_kind}")


def decide(*, item: AIRequest, decision: str, text: str = "", request: Any = None) -> str:
    """Accept (as is or edited) or reject a finished answer. Accepted text is appended to the
    running note inside AI markers; returns the appended block ("" for reject)."""
    if item.state != AIRequest.State.DONE:
        raise SessionError("Nur eine fertige Antwort kann übernommen oder verworfen werden.")
    if decision not in (AIRequest.Decision.ACCEPTED, AIRequest.Decision.EDITED, AIRequest.Decision.REJECTED):
        raise SessionError("Unbekannte Entscheidung.")
    session = item.session
    user = getattr(request, "user", None)
    block = ""
    with transaction.atomic():
        updated = AIRequest.objects.filter(pk=item.pk, decision=AIRequest.Decision.PENDING).update(
            decision=decision, decided_at=timezone.now(), decided_by=user)
        if updated != 1:
            raise SessionError("Über diesen Vorschlag wurde bereits entschieden.")
        if decision != AIRequest.Decision.REJECTED:
            if session.status != Status.RUNNING:
                raise SessionError("Die Sitzung ist abgeschlossen – Vorschläge können nicht mehr übernommen werden.")
            body = normalize_newlines(text if decision == AIRequest.Decision.EDITED else item.answer).strip()
            if not body:
                raise SessionError("Der übernommene Text ist leer.")
            block = ai_block(body, edited=decision == AIRequest.Decision.EDITED, when=timezone.localtime())
            item.decided_text = body
            item.save(update_fields=["decided_text_ct"])
            locked = TherapySession.objects.select_for_update().get(pk=session.pk)
            locked.patient = session.patient
            locked.note = (locked.note.rstrip() + "\n\n" if (locked.note or "").strip() else "") + block
            locked.note_revision += 1
            locked.note_saved_at = timezone.now()
            locked.save(update_fields=["note_ct", "note_revision", "note_saved_at"])
            session.note, session.note_revision = locked.note, locked.note_revision
        audit.record(request, f"session.ai.{decision}", patient=session.patient, obj=item)
    item.decision = decision
    return block


def ai_block(text: str, *, edited: bool, when: dt.datetime) -> str:
    label = "bearbeitet" if edited else "unverändert"
    return f"{AI_BEGIN}, übernommen {when:%d.%m.%Y %H:%M}, {label}⟧\n{text}\n{AI_END}"


def split_ai_segments(note: str) -> list[tuple[bool, str, str]]:
    """The note as (is_ai, header, text) segments, for display with the AI marking."""
    out: list[tuple[bool, str, str]] = []
    rest = note or ""
    while True:
        start = rest.find(AI_BEGIN)
        end = rest.find(AI_END, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            if rest:
                out.append((False, "", rest))
            return out
        if start:
            out.append((False, "", rest[:start]))
        header_end = rest.find("\n", start)
        header_end = header_end if 0 <= header_end < end else start + len(AI_BEGIN)
        out.append((True, rest[start:header_end].strip().strip("⟦⟧").strip(), rest[header_end:end].strip("\r\n")))
        rest = rest[end + len(AI_END):]


def sent_messages(*, item: AIRequest, request: Any = None) -> list[dict[str, str]] | None:
    """Exactly the anonymized messages that left the system for this answer (from LLMCall);
    None when nothing was sent (refused, blocked, not run yet)."""
    audit.record(request, "session.ai.seen", patient=item.session.patient, obj=item)
    call = item.llm_call
    if call is None or call.conversation is None:
        return None
    call.conversation.patient = item.session.patient
    sent = call.request_sent
    if not sent:
        return None
    return list(sent.get("messages") or [])
