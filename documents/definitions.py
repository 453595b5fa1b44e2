"""Document templates as data: one YAML file per template in documents/templates_data/.

Adding a template is adding a file. Each file names its sections with guidance, the record data
that feeds each section ("feeds"), length hints and, for forms like PTV 3, variants whose tags
select and override sections (VT vs. tiefenpsychologisch in points 4/5, Umwandlung adds point 7).
The loader validates every file strictly, so a typo fails at start-up and in the tests, not in
front of a therapist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "templates_data"

# Record data a section can be fed from (documents/queries.py gathers each one).
FEEDS = {
    "patient": "Soziodemographische Eckdaten (Alter, Geschlecht, Versicherung)",
    "diagnoses": "Diagnosen (ICD-10-GM)",
    "assessments": "Fragebogenergebnisse (letzte Werte)",
    "trends": "Fragebogenverläufe mit reliabler Veränderung",
    "approvals": "Bewilligungen und Sitzungszahlen",
    "crisis": "Krisenereignisse und Krisenplan",
    "sessions": "Sitzungen und Sitzungsnotizen",
    "goals": "Therapieziele (SMART, Zielerreichung)",
    "memory": "Gedächtniseinträge zur Patientin / zum Patienten",
}


class DefinitionError(ValueError):
    pass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    guidance: str
    feeds: tuple[str, ...] = ()
    min_words: int = 0
    max_words: int = 0
    charts: bool = False
    goals_editor: bool = False

    @property
    def length_hint(self) -> str:
        if self.min_words and self.max_words:
            return f"etwa {self.min_words}–{self.max_words} Wörter"
        if self.max_words:
            return f"höchstens etwa {self.max_words} Wörter"
        return ""


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    tags: tuple[str, ...]
    notice: str = ""
    title: str = ""  # the heading of the printed document, when it differs from the template's


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    anonymous: bool  # KBV Chiffre in the header, no name in the body (checked before export)
    max_pages: int | None
    authorship_declaration: bool
    notice: str
    variants: tuple[Variant, ...]
    raw_sections: tuple[dict[str, Any], ...] = field(repr=False)

    def variant(self, key: str) -> Variant | None:
        return next((v for v in self.variants if v.key == key), None)

    @property
    def default_variant(self) -> str:
        return self.variants[0].key if self.variants else ""

    def sections(self, variant: str = "") -> list[Section]:
        """The sections of one variant: `only` selects by tag, `overrides` (by tag) replace title,
        guidance, feeds or length for that variant."""
        chosen = self.variant(variant)
        tags = set(chosen.tags) if chosen else set()
        out = []
        for raw in self.raw_sections:
            only = raw.get("only") or []
            if only and not (set(only) & tags):
                continue
            merged = dict(raw)
            for tag, override in (raw.get("overrides") or {}).items():
                if tag in tags:
                    merged.update(override)
            length = merged.get("length") or {}
            out.append(Section(
                key=merged["key"], title=merged["title"], guidance=merged["guidance"].strip(),
                feeds=tuple(merged.get("feeds") or ()), min_words=int(length.get("min_words", 0)),
                max_words=int(length.get("max_words", 0)), charts=bool(merged.get("charts", False)),
                goals_editor=bool(merged.get("goals_editor", False)),
            ))
        return out

    def section(self, variant: str, key: str) -> Section | None:
        return next((s for s in self.sections(variant) if s.key == key), None)


_TEMPLATE_KEYS = {"key", "title", "description", "anonymous", "max_pages", "authorship_declaration",
                  "notice", "variants", "sections"}
_SECTION_KEYS = {"key", "title", "guidance", "feeds", "length", "only", "overrides", "charts", "goals_editor"}


def _check_section(path: Path, raw: dict[str, Any], tags: set[str]) -> None:
    where = f"{path.name}: Abschnitt {raw.get('key', '?')}"
    unknown = set(raw) - _SECTION_KEYS
    if unknown:
        raise DefinitionError(f"{where}: unbekannte Felder {sorted(unknown)}")
    for name in ("key", "title", "guidance"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise DefinitionError(f"{where}: '{name}' fehlt")
    for feed in raw.get("feeds") or []:
        if feed not in FEEDS:
            raise DefinitionError(f"{where}: unbekannte Datenquelle {feed!r}")
    for tag in list(raw.get("only") or []) + list((raw.get("overrides") or {}).keys()):
        if tag not in tags:
            raise DefinitionError(f"{where}: unbekannter Varianten-Tag {tag!r}")
    for override in (raw.get("overrides") or {}).values():
        if set(override) - (_SECTION_KEYS - {"key", "only", "overrides"}):
            raise DefinitionError(f"{where}: Override mit unbekannten Feldern")
        for feed in override.get("feeds") or []:
            if feed not in FEEDS:
                raise DefinitionError(f"{where}: unbekannte Datenquelle {feed!r}")


def load_file(path: Path) -> Template:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise DefinitionError(f"{path.name}: kein YAML-Objekt")
    unknown = set(data) - _TEMPLATE_KEYS
    if unknown:
        raise DefinitionError(f"{path.name}: unbekannte Felder {sorted(unknown)}")
    if data.get("key") != path.stem:
        raise DefinitionError(f"{path.name}: key muss dem Dateinamen entsprechen")
    variants = tuple(Variant(key=v["key"], label=v["label"], tags=tuple(v.get("tags") or [v["key"]]),
                             notice=(v.get("notice") or "").strip(), title=(v.get("title") or "").strip())
                     for v in data.get("variants") or [])
    tags = {t for v in variants for t in v.tags}
    sections = data.get("sections") or []
    if not sections:
        raise DefinitionError(f"{path.name}: keine Abschnitte")
    for raw in sections:
        _check_section(path, raw, tags)
    template = Template(
        key=data["key"], title=data["title"], description=(data.get("description") or "").strip(),
        anonymous=bool(data.get("anonymous", False)), max_pages=data.get("max_pages"),
        authorship_declaration=bool(data.get("authorship_declaration", False)),
        notice=(data.get("notice") or "").strip(), variants=variants, raw_sections=tuple(sections),
    )
    for variant in [v.key for v in variants] or [""]:
        keys = [s.key for s in template.sections(variant)]
        if len(keys) != len(set(keys)):
            raise DefinitionError(f"{path.name}: doppelte Abschnitte in Variante {variant!r}")
        if not keys:
            raise DefinitionError(f"{path.name}: Variante {variant!r} ohne Abschnitte")
    return template


@functools.cache
def all_templates() -> dict[str, Template]:
    return {t.key: t for t in (load_file(p) for p in sorted(DATA_DIR.glob("*.yaml")))}


def get(key: str) -> Template | None:
    return all_templates().get(key)
