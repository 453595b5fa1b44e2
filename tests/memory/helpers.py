"""Builders and a scripted fake LLM for the memory tests."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from memory import services
from memory.models import EntryStatus, MemoryEntry
from tests.fake_llm import FakeLLM


def make_entry(patient: Any, *, text: str = "Schläft seit Wochen schlecht, wacht um 4 Uhr auf.", type: str = "clinical_fact",
               status: str = EntryStatus.PROPOSED, source_kind: str = "session", source_id: Any = None,
               excerpt: str = "", date: dt.date | None = None, user: Any = None) -> MemoryEntry:
    entry = services.propose_entry(patient, type, text, source_kind, source_id or uuid.uuid4(), excerpt,
                                   date=date or dt.date(2026, 3, 2), user=user)
    if status == EntryStatus.CONFIRMED:
        services.confirm_entry(entry=entry, user=user)
    elif status == EntryStatus.REJECTED:
        services.reject_entry(entry=entry, user=user)
    elif status == EntryStatus.OUTDATED:
        services.confirm_entry(entry=entry, user=user)
        services.mark_outdated(entry=entry, user=user)
    entry.refresh_from_db()
    entry.patient = patient
    return entry


class ScriptedLLM(FakeLLM):
    """FakeLLM that answers chat completions from a script, one answer per request; `None`
    means an empty answer. The last answer repeats."""

    def __init__(self) -> None:
        super().__init__()
        self.script: list[str | None] = []

    def answers(self, *texts: str | None) -> None:
        self.script = list(texts)

    def _handle(self, h: Any, body: dict[str, Any]) -> None:
        if h.path.endswith("/chat/completions") and self.script:
            nxt = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            self.mode = "empty" if nxt is None else "ok"
            self.text = nxt or ""
        return super()._handle(h, body)


def entries_json(*items: tuple[str, str, str]) -> str:
    return json.dumps({"entries": [{"type": t, "text": x, "excerpt": e} for t, x, e in items]}, ensure_ascii=False)


class FakeSource:
    """A registered memory source backed by a dict: source_id -> (patient, text, user)."""

    def __init__(self, kind: str = "session") -> None:
        self.kind = kind
        self.rows: dict[str, tuple[Any, ...]] = {}
        self.calls = 0
        self._previous = services.registered_sources().get(kind)
        services.register_source(kind, self.load)

    def add(self, patient: Any, text: str, user: Any = None, date: dt.date | None = None) -> str:
        sid = str(uuid.uuid4())
        self.rows[sid] = (patient, text, user) + ((date,) if date else ())
        return sid

    def load(self, source_id: str) -> tuple[Any, ...] | None:
        self.calls += 1
        return self.rows.get(source_id)

    def close(self) -> None:
        if self._previous is not None:
            services.register_source(self.kind, self._previous)
        else:
            services._sources.pop(self.kind, None)
