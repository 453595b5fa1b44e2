"""`build_context`: what the model gets to know about a patient for one AI answer.

Plaintext in, plaintext out: the gateway (duktus/llm) anonymizes. memory imports no feature app,
so callers pass their own material (recent session notes, evidence hits) as `extra`.

Not yet: the patient summary and memory entries come with the memory issue; until then both
are empty and `query` (which will rank relevant entries) is only recorded.
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
    kind: str = "extra"  # summary | entry | extra

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


def build_context(patient: Any, query: str, extra: Iterable[Any] = (), *, budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> Context:
    """Blocks in priority order (summary, relevant entries, then `extra` as given) until the
    token budget (characters ÷ 3.5) is used; later blocks that do not fit are dropped and listed.

    `extra` items: Block, (title, text) or {"title", "text", "kind"}. No queries yet (summary
    and entries are empty until the memory issue lands).
    """
    candidates: list[Block] = []
    candidates += _summary_blocks(patient)
    candidates += _entry_blocks(patient, query)
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


def _summary_blocks(patient: Any) -> list[Block]:
    return []  # patient summary: memory issue


def _entry_blocks(patient: Any, query: str) -> list[Block]:
    return []  # relevant memory entries (vector query): memory issue
