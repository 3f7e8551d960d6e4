"""The resource limits every reader applies before trusting what a file declares.

A damaged or hostile file can declare anything: 2³¹ frames, a 60000×60000 image, JSON nested
a million deep. The readers check such declarations against these limits (and against the
file's real size) *before* allocating or decoding, and refuse with an InputError that names
the limit. The limits are far beyond any real angiography run or annotation:

- :data:`MAX_RUN_BYTES` 2 GiB of decoded frames per run (a 2048² 16-bit run of 250 frames);
- :data:`MAX_IMAGE_SIDE` 16384 pixels per frame side (detectors are at most 4k wide);
- :data:`DECODE_TIME_BUDGET_S` 120 s to decode one video file;
- JSON files: :data:`MAX_LABELME_BYTES` / :data:`MAX_STATE_BYTES`, nesting depth
  :data:`MAX_JSON_DEPTH`, integers of at most :data:`MAX_JSON_INT_DIGITS` digits, finite
  numbers only (no NaN, Infinity or 1e999).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from dsaviewer.errors import InputError

MAX_RUN_BYTES = 2 * 1024**3
MAX_IMAGE_SIDE = 16384
DECODE_TIME_BUDGET_S = 120.0

MAX_LABELME_BYTES = 64 * 1024**2  # room for imageData of a 16-bit 4k frame
MAX_STATE_BYTES = 16 * 1024**2
MAX_JSON_DEPTH = 64
MAX_JSON_INT_DIGITS = 30

# A string token or one bracket; strings are skipped so brackets inside them do not count.
_JSON_NESTING_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def check_frame_size(height: int, width: int, source: str | Path) -> None:
    """Refuse a frame size that is no image: not positive, or a side over MAX_IMAGE_SIDE."""
    if not (0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE):
        raise InputError(
            f"declares frames of {width}×{height} pixels; frames must be 1 to "
            f"{MAX_IMAGE_SIDE} pixels a side",
            source,
        )


def check_run_size(
    frames: int, height: int, width: int, bytes_per_pixel: int, source: str | Path
) -> None:
    """Refuse a run whose decoded frames would exceed MAX_RUN_BYTES (checked before allocating)."""
    check_frame_size(height, width, source)
    size = frames * height * width * bytes_per_pixel
    if frames < 0 or size > MAX_RUN_BYTES:
        raise InputError(
            f"declares {frames} frames of {width}×{height} pixels ({size / 1024**3:.1f} GiB "
            f"decoded); runs over {MAX_RUN_BYTES / 1024**3:g} GiB are refused as damaged or "
            "not a single DSA run",
            source,
        )


def check_no_null(text: str, what: str, source: str | Path) -> None:
    """Refuse text holding a null byte: no file name or key has one, and the OS rejects it."""
    if "\0" in text:
        raise InputError(f"{what} holds a null byte", source)


def read_json(path: Path, max_bytes: int) -> Any:
    """Parse a JSON file under the limits above; InputError naming the file otherwise."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"is {size / 1024**2:.1f} MiB; JSON files over {max_bytes / 1024**2:g} MiB are "
                "refused",
                path,
            )
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read the file: {error.strerror or error}", path) from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"is not UTF-8 text (byte {error.start})", path) from error
    depth = _nesting_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InputError(
            f"JSON is nested {depth} levels deep; more than {MAX_JSON_DEPTH} is refused", path
        )
    try:
        return json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_no_constant,
        )
    except json.JSONDecodeError as error:
        raise InputError(
            f"is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})", path
        ) from error
    except _JSONValueError as error:
        raise InputError(f"JSON {error}", path) from error


class _JSONValueError(ValueError):
    pass


def _nesting_depth(data: bytes) -> int:
    depth = deepest = 0
    for match in _JSON_NESTING_TOKEN.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise _JSONValueError(
            f"holds an integer of {len(text)} digits; at most {MAX_JSON_INT_DIGITS} are read"
        )
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JSONValueError(f"holds the number {text[:40]}, which is out of range")
    return value


def _no_constant(name: str) -> float:
    raise _JSONValueError(f"holds {name}, which is not a number")
