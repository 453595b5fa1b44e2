"""`build_context`: what the model gets to know about a patient for one AI answer.

Plaintext in, plaintext out: the gateway (duktus/llm) anonymizes. memory imports no feature app,
so callers pass their own material (recent session notes, evidence hits) as `extra`.

Priority order: open crisis events and confirmed warnings (always, they are safety-relevant),
the current patient summary, then the confirmed entries nearest in meaning to `query` (recent
ones when there is no query or the search fails), then the caller's `extra`. Only *confirmed*
entries (and open crisis events) are used; `Context.used_entries` lists the codes of the
entries that made it into the budget so the AI panel can show them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

CHARS_PER_TOKEN = 3.5  # rough estimate for German text with Llama-style tokenizers
DEFAULT_BUDGET_TOKENS = 6000


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Block:
    title: str
    text: str
    kind: str = "extra"  # crisis | summary | entry | extra
    ref: str = ""  # code of the memory entry / summary / crisis event it came from

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.title) + estimate_tokens(self.text) + 2


@dataclass
class Context:
    query: str
    budget_tokens: int
    blocks: list[Block] = field(default_factory=list)  # included, in order
    dropped: list[Block] = field(default_factory=list)  # did not fit

    @property
    def included(self) -> list[str]:
        return [b.title for b in self.blocks]

    @property
    def dropped_titles(self) -> list[str]:
        return [b.title for b in self.dropped]

    @property
    def used_entries(self) -> list[str]:
        """Codes of the memory entries included (for "Verwendete Erinnerungen")."""
        return [b.ref for b in self.blocks if b.kind == "entry" and b.ref]

    @property
    def used_summary(self) -> str:
        return next((b.ref for b in self.blocks if b.kind == "summary"), "")

    @property
    def used_tokens(self) -> int:
        return sum(b.tokens for b in self.blocks)

    @property
    def text(self) -> str:
        return "\n\n".join(f"## {b.title}\n{b.text}" for b in self.blocks)


def _as_block(item: Any) -> Block:
    if isinstance(item, Block):
        return item
    if isinstance(item, dict):
        return Block(title=str(item.get("title", "")), text=str(item.get("text", "")), kind=str(item.get("kind", "extra")))
    title, text = item
    return Block(title=str(title), text=str(text))


def build_context(patient: Any, query: str, extra: Iterable[Any] = (), *, budget_tokens: int = DEFAULT_BUDGET_TOKENS,
                  max_entries: int = 8, user: Any = None) -> Context:
    """Blocks in priority order (crisis/warnings, summary, relevant entries, then `extra` as
    given) until the token budget (characters ÷ 3.5) is used; later blocks that do not fit are
    dropped and listed.

    `extra` items: Block, (title, text) or {"title", "text", "kind"}. Queries: open crisis
    events, confirmed warnings, the summary, and one vector search (embedding `query` through
    the gateway, anonymized) over the patient's confirmed entries.
    """
    candidates: list[Block] = []
    warnings = _warning_blocks(patient)
    candidates += warnings
    candidates += _summary_blocks(patient)
    seen = {b.ref for b in warnings}
    candidates += [b for b in _entry_blocks(patient, query, max_entries, user) if b.ref not in seen]
    candidates += [b for b in (_as_block(i) for i in extra) if b.text.strip()]
    ctx = Context(query=query, budget_tokens=budget_tokens)
    used = 0
    for block in candidates:
        if used + block.tokens <= budget_tokens:
            ctx.blocks.append(block)
            used += block.tokens
        else:
            ctx.dropped.append(block)
    return ctx


def _entry_title(entry: Any) -> str:
    return f"{entry.get_type_display()} ({entry.date:%d.%m.%Y})"


def _warning_blocks(patient: Any) -> list[Block]:
    from memory import queries
    from memory.models import EntryType
    from patients.crisis import open_events

    blocks = [Block(f"Offener Krisenhinweis ({e.raised_at:%d.%m.%Y})", e.summary or e.get_source_display(),
                    kind="crisis", ref=str(e.code)) for e in open_events(patient)]
    blocks += [Block(_entry_title(e), e.text or "", kind="entry", ref=str(e.code))
               for e in queries.confirmed_entries(patient, types=(EntryType.WARNING,))]
    return blocks


def _summary_blocks(patient: Any) -> list[Block]:
    from memory import queries

    summary = queries.current_summary(patient)
    if summary is None or not (summary.text or "").strip():
        return []
    return [Block("Fallzusammenfassung", summary.text, kind="summary", ref=str(summary.code))]


def _entry_blocks(patient: Any, query: str, limit: int, user: Any) -> list[Block]:
    """The confirmed entries nearest to `query`; without a query (or when the embedding
    provider fails) the most recent confirmed entries."""
    from duktus.llm.gateway import GatewayError
    from memory import queries, services

    found: list[Any] = []
    if query.strip():
        try:
            found = [h.entry for h in services.search_memory(patient=patient, query=query, k=limit,
                                                             statuses=("confirmed",), user=user).hits]
        except GatewayError:
            found = []
    if not found:
        found = queries.confirmed_entries(patient, limit=limit)
    return [Block(_entry_title(e), e.text or "", kind="entry", ref=str(e.code)) for e in found]
