"""One registry of what each app holds about a patient (like admin autodiscover).

Every app with patient data has `<app>/privacy.py` calling `register(...)` for each model. A
registration names an exporter (human-readable rows + JSON part) and an eraser. The
completeness test (tests/privacy/test_registry.py) fails when a model that reaches Patient via
a foreign-key chain has no registration.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps

Exporter = Callable[[Any], list[dict[str, Any]]]  # patient -> JSON-able rows
Eraser = Callable[[Any], int]  # patient -> number of rows deleted


@dataclass(frozen=True)
class Part:
    model: Any
    key: str  # JSON key, e.g. "diagnoses"
    title: str  # German heading in the readable record
    exporter: Exporter
    eraser: Eraser
    # "process_notes" / "third_party": listed separately, may be withheld with a reason.
    category: str = "record"


_parts: dict[str, Part] = {}
_discovered = False


def register(model: Any, *, key: str, title: str, exporter: Exporter, eraser: Eraser, category: str = "record") -> None:
    _parts[key] = Part(model=model, key=key, title=title, exporter=exporter, eraser=eraser, category=category)


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
    from patients.models import Patient

    if model is Patient:
        return True
    for field in model._meta.get_fields():
        if field.is_relation and field.many_to_one or (field.is_relation and field.one_to_one and field.concrete):
            target = field.related_model
            if target is None or target in seen:
                continue
            if _reaches_patient(target, seen | {model}):
                return True
    return False


def patient_models() -> list[Any]:
    """Every model holding patient data: Patient itself and models with a FK chain to it, plus
    the patient's DataKey (reached from Patient) and the audit log (pseudonym column)."""
    return [m for m in apps.get_models() if _reaches_patient(m)]


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

    register(model, key=key, title=title, exporter=exporter, eraser=eraser, category=category)
