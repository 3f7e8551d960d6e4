"""Writing results: JSON with undefined values as null, and Markdown tables of estimates with
their 95 % confidence intervals."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dsaviewer.core.bootstrap import ConfidenceInterval
from dsaviewer.io.writers import replace_atomically


def json_ready(value: Any) -> Any:
    """``value`` with nan/inf as None, tuples as lists and intervals as dicts, recursively
    (strict JSON has no nan, and a reader must not mistake an undefined rate for a number)."""
    if isinstance(value, ConfidenceInterval):
        return {"estimate": json_ready(value.estimate), "low": json_ready(value.low),
                "high": json_ready(value.high)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return json_ready(value.item())
    return value


def write_json(path: str | Path, document: Any) -> Path:
    with replace_atomically(path) as temporary:
        temporary.write_text(json.dumps(json_ready(document), indent=2, allow_nan=False) + "\n",
                             encoding="utf-8")
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    with replace_atomically(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


def format_value(value: float | None, percent: bool = False, digits: int = 3) -> str:
    """A number for a table; "n/a" when undefined."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{100.0 * value:.1f} %" if percent else f"{value:.{digits}f}"


def format_interval(ci: ConfidenceInterval, percent: bool = False, digits: int = 3) -> str:
    """``0.752 (0.731–0.778)`` or ``97.1 % (96.8–97.5)``; the interval left out when undefined."""
    estimate = format_value(ci.estimate, percent, digits)
    if not (math.isfinite(ci.low) and math.isfinite(ci.high)):
        return estimate
    scale = 100.0 if percent else 1.0
    decimals = 1 if percent else digits
    return f"{estimate} ({scale * ci.low:.{decimals}f}–{scale * ci.high:.{decimals}f})"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
