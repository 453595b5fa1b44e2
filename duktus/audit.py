"""Hash-chained audit trail. One entry per logical read or write (a page view, an action),
never per query. Entries hold no clinical content: the patient appears only by pseudonym."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from duktus.models import AuditEntry

GENESIS = "0" * 64
_LOCK_ID = 7_230_001  # pg_advisory_xact_lock id that serializes appends to the chain


def _entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _fields(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "actor": e.actor_id,
        "actor_label": e.actor_label,
        "practice": e.practice_id,
        "patient": e.patient_pseudonym,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "ip": e.ip,
        "detail": e.detail,
    }


def record(
    request: HttpRequest | None,
    action: str,
    *,
    practice: Any = None,
    patient: Any = None,
    obj: Any = None,
    detail: str = "",
    actor: Any = None,
) -> AuditEntry:
    """Append one entry. `patient` contributes only its pseudonym; `obj` its type and public code."""
    user = actor or (getattr(request, "user", None) if request is not None else None)
    if user is not None and not user.is_authenticated:
        user = None
    if practice is None and request is not None:
        m = getattr(request, "membership", None)
        practice = m.practice if m else None
    if practice is None and patient is not None:
        practice = patient.practice
    entry = AuditEntry(
        at=timezone.now(),
        actor=user,
        actor_label=(user.email if user else "system")[:254],
        practice=practice,
        patient_pseudonym=patient.pseudonym if patient is not None else "",
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=str(getattr(obj, "code", "") or "") if obj is not None else "",
        ip=(request.META.get("REMOTE_ADDR") or None) if request is not None else None,
        detail=detail[:200],
    )
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_ID])
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        entry.prev_hash = last or GENESIS
        entry.hash = _entry_hash(entry.prev_hash, _fields(entry))
        entry.save()
    return entry


@dataclass
class ChainReport:
    checked: int
    broken_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_id is None


def verify_chain() -> ChainReport:
    """Walk the chain in id order. The first remaining entry anchors the chain (older ones may
    have been deleted by the retention job); every later entry must link to its predecessor."""
    prev: str | None = None
    checked = 0
    for e in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        if prev is not None and e.prev_hash != prev:
            return ChainReport(checked, e.id, "Verkettung unterbrochen (prev_hash passt nicht)")
        if _entry_hash(e.prev_hash, _fields(e)) != e.hash:
            return ChainReport(checked, e.id, "Eintrag verändert (Hash passt nicht)")
        prev = e.hash
        checked += 1
    return ChainReport(checked, None)
