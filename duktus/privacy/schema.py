"""A tiny validator for the JSON Schema subset export_schema_v1.json uses (type, required,
properties, additionalProperties, items, const, enum). No jsonschema dependency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("export_schema_v1.json")
_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int, "number": (int, float)}


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Error messages (empty when valid)."""
    errors: list[str] = []
    expected = schema.get("type")
    if expected and (not isinstance(value, _TYPES[expected]) or (expected in ("integer", "number") and isinstance(value, bool))):
        return [f"{path}: expected {expected}"]
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not one of {schema['enum']}")
    if isinstance(value, dict):
        errors += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        props = schema.get("properties", {})
        for k, v in value.items():
            sub = props.get(k, schema.get("additionalProperties"))
            if isinstance(sub, dict):
                errors += validate(v, sub, f"{path}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            errors += validate(item, schema["items"], f"{path}[{i}]")
    return errors
