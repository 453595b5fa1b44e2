"""Anonymizer for German clinical text (no Django imports).

    from anonymizer import Anonymizer
    anon = Anonymizer(level="moderate")
    result = anon.anonymize(text)          # result.text, result.mapping
    anon.restore(llm_output, result.mapping)

See anonymizer/README.md.
"""

from __future__ import annotations

from .core import Anonymizer, AnonymizeResult
from .entities import LABELS, LEVELS, PLACEHOLDER, Entity
from .mapping import Mapping, restore

__all__ = ["LABELS", "LEVELS", "PLACEHOLDER", "AnonymizeResult", "Anonymizer", "Entity", "Mapping", "restore"]
