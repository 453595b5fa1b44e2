"""One registry of what each app holds about a patient (like admin autodiscover).

Every app with patient data has `<app>/privacy.py` calling `register(...)` for each model. A
registration names an exporter (rows for the JSON part and the readable record, with German
`labels`), an eraser (rows, vectors, files), a `category` (record / process_notes /
third_party: the last two are listed separately and can be withheld, § 630g BGB) and optional
`files` (attachments such as documents as PDF). `exempt(model, reason)` documents a model that
names a patient without holding data about them. The completeness test
(tests/privacy/test_registry.py) fails for every model that reaches Patient through a relation
chain, an M2M table, a plain `patient_*` column or a generic FK and is neither registered nor
exempt.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

Exporter = Callable[[Any], list[dict[str, Any]]]  # patient -> JSON-able rows
Eraser = Callable[[Any], int]  # patient -> number of rows deleted (and their files, vectors …)
# patient -> [(file name, content)], e.g. documents as PDF; written to dokumente/<key>/ in the ZIP.
# content is bytes, or a callable returning bytes that the export runs in a small thread pool
# (PRIVACY_EXPORT_THREADS): it must not touch the database (load everything first, e.g. render
# the HTML, and leave only the CPU work such as the PDF layout to the callable).
FileExporter = Callable[[Any], list[tuple[str, Any]]]

CATEGORIES = ("record", "process_notes", "third_party")


@dataclass(frozen=True)
class Part:
    model: Any
    key: str  # JSON key, e.g. "diagnoses"
    title: str  # German heading in the readable record
    exporter: Exporter
    eraser: Eraser
    # "process_notes" / "third_party": listed separately, may be withheld with a reason.
    category: str = "record"
    files: FileExporter | None = None
    labels: dict[str, str] = field(default_factory=dict)  # row key -> German label (readable record)


_parts: dict[str, Part] = {}
_exempt: dict[str, str] = {}
_discovered = False


def register(model: Any, *, key: str, title: str, exporter: Exporter, eraser: Eraser, category: str = "record",
             files: FileExporter | None = None, labels: dict[str, str] | None = None) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"unknown privacy category {category!r}")
    _parts[key] = Part(model=model, key=key, title=title, exporter=exporter, eraser=eraser, category=category,
                       files=files, labels=dict(labels or {}))


def exempt(model: Any, reason: str) -> None:
    """A model that names a patient without holding patient data about them (e.g. the erasure
    certificate, which must outlive the patient). The reason is shown by the completeness test."""
    _exempt[model._meta.label] = reason


def exempt_labels() -> dict[str, str]:
    autodiscover()
    return dict(_exempt)


def autodiscover() -> None:
    """Import `<app>.privacy` for every installed app that has one."""
    global _discovered
    if _discovered:
        return
    for config in apps.get_app_configs():
        # duktus.privacy is this package; the duktus app's own parts live in duktus_parts.
        name = "duktus.privacy.duktus_parts" if config.name == "duktus" else f"{config.name}.privacy"
        if importlib.util.find_spec(config.name) and importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    _discovered = True


def parts() -> list[Part]:
    autodiscover()
    return list(_parts.values())


def registered_labels() -> set[str]:
    autodiscover()
    return {p.model._meta.label for p in _parts.values()}


def _reaches_patient(model: Any, seen: frozenset[Any] = frozenset()) -> bool:
    """True when a chain of forward FK / one-to-one / many-to-many fields leads to Patient
    (directly, or through a session, document, entry … that does)."""
    from patients.models import Patient

    if model is Patient:
        return True
    for f in model._meta.get_fields():
        if not f.is_relation or not f.concrete and not f.many_to_many:
            continue
        if f.many_to_one or f.one_to_one or f.many_to_many:
            if f.auto_created and not f.concrete:
                continue  # reverse side
            target = f.related_model
            if target is None or target in seen or isinstance(target, str):
                continue
            if _reaches_patient(target, seen | {model}):
                return True
    return False


# Non-relational columns that name a patient by id/code/pseudonym (no FK on purpose).
_PATIENT_COLUMN = re.compile(r"(^|_)patient(_|$)")


def _names_patient(model: Any) -> bool:
    from django.contrib.contenttypes.fields import GenericForeignKey

    if model._meta.app_label in {"contenttypes", "auth", "admin", "sessions", "account", "mfa", "socialaccount",
                                 "usersessions", "django_celery_results", "django_celery_beat"}:
        return False
    for f in model._meta.get_fields():
        if isinstance(f, GenericForeignKey):
            return True  # may point at anything, a patient included: must be decided explicitly
        if getattr(f, "concrete", False) and not f.is_relation and _PATIENT_COLUMN.search(f.name):
            return True
    return False


def patient_models() -> list[Any]:
    """Every model holding data about a patient: Patient itself, models with a relation chain
    to it (auto-created M2M tables included) and models naming a patient in a plain column
    (patient_ref, patient_pseudonym …) or through a generic foreign key."""
    return [m for m in apps.get_models(include_auto_created=True) if _reaches_patient(m) or _names_patient(m)]


def uncovered_models() -> list[str]:
    """Labels of patient models with neither a registration nor a documented exemption. An
    auto-created M2M table is covered by the registration of the model that declares it."""
    covered = registered_labels() | set(exempt_labels())
    missing = []
    for m in patient_models():
        label = m._meta.label
        if m._meta.auto_created and m._meta.auto_created._meta.label in covered:
            continue
        if label not in covered:
            missing.append(label)
    return missing


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _has_table(model: Any) -> bool:
    """False while an app's migration is not applied yet: no table means no rows to export or
    erase (a model added in development before its migration must not break exports)."""
    from django.db import connection

    return model._meta.db_table in connection.introspection.table_names()


def register_rows(model: Any, *, key: str, title: str, category: str = "record", exclude: tuple[str, ...] = ()) -> None:
    """Register a model with a direct `patient` FK: export every own field (decrypted, no ids,
    no foreign keys, minus `exclude`), erase by deleting the rows."""

    fields = [f for f in model._meta.concrete_fields
              if not f.is_relation and not f.primary_key and f.name not in exclude]
    labels = {f.name: str(f.verbose_name) for f in fields}

    def exporter(patient: Any) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if not _has_table(model):
            return rows
        for obj in model.objects.filter(patient=patient):
            obj.patient = patient  # share the unwrapped data key
            rows.append({f.name: _plain(getattr(obj, f.name)) for f in fields})
        return rows

    def eraser(patient: Any) -> int:
        if not _has_table(model):
            return 0
        return model.objects.filter(patient=patient).delete()[0]

    register(model, key=key, title=title, exporter=exporter, eraser=eraser, category=category, labels=labels)
