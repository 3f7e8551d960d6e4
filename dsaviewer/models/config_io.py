"""Reading a flat model-configuration dataclass back from the plain dict stored beside weights.

A weights file is user input: a config read from it is checked field by field and a problem
raises :class:`~dsaviewer.errors.InputError` naming the field, never a bare TypeError.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from dsaviewer.errors import InputError

ConfigT = TypeVar("ConfigT")


def config_to_dict(config: Any) -> dict[str, Any]:
    """The config as a JSON-serialisable dict of its fields."""
    return dataclasses.asdict(config)


def config_from_dict(
    cls: type[ConfigT], data: Mapping[str, Any], source: str | Path | None = None
) -> ConfigT:
    """Build ``cls`` from ``data``; fields absent from ``data`` take their defaults.

    Raises InputError for unknown keys, missing required fields, values of the wrong type,
    and values the config's own validation rejects.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"model config must be a mapping, got {type(data).__name__}", source)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InputError(
            f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(fields)}", source
        )
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in data]
    if missing:
        raise InputError(f"{cls.__name__} lacks required field(s) {missing}", source)
    values = {}
    for name, value in data.items():
        expected = _field_type(cls, fields[name])
        if not _has_type(value, expected):
            raise InputError(
                f"{cls.__name__}.{name} must be {expected.__name__}, got {value!r}", source
            )
        values[name] = expected(value)
    try:
        return cls(**values)
    except ValueError as error:
        raise InputError(f"invalid {cls.__name__}: {error}", source) from error


def _field_type(cls: type, field: dataclasses.Field) -> type:
    # Annotations are strings under `from __future__ import annotations`; the configs use only
    # these plain types, so the default's type is the declared one.
    if field.default is dataclasses.MISSING:
        return {"int": int, "float": float, "bool": bool, "str": str}[str(field.type)]
    return type(field.default)


def _has_type(value: Any, expected: type) -> bool:
    # bool is a subclass of int, and JSON has one number type: accept 3 for a float field,
    # refuse True for an int field.
    if expected is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if expected is float:
        return isinstance(value, int | float)
    return isinstance(value, expected)
