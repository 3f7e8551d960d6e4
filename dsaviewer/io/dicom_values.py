"""Numbers and lists from DICOM element values, which may be absent, empty, multi-valued or
damaged text: whatever cannot be read as a finite number is None."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def as_values(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def as_number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def as_positive_number(value: object) -> float | None:
    number = as_number(value)
    return number if number is not None and number > 0 else None
