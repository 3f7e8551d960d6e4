"""The arrays of a saved analysis (:mod:`dsaviewer.io.case_state`): one folder
``analysis-<id>/`` per analysis, at the original frame size::

    tumor_mask.png  liver_mask.png                8-bit, 0 or 255
    tumor_probability.png  liver_probability.png  16-bit, probability x 65535

A new analysis goes into a fresh folder, staged as ``.analysis-<id>.part`` and renamed once
complete, so a folder named ``analysis-<id>`` is always whole.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.image_header import check_image_header

ANALYSIS_PREFIX = "analysis-"
MASKS = ("tumor_mask", "liver_mask")
PROBABILITIES = ("tumor_probability", "liver_probability")
_PROBABILITY_SCALE = 65535.0
_ARRAYS_NAME = re.compile(r"^analysis-[0-9A-Za-z_-]{1,64}$")


def write_analysis_arrays(folder: Path, arrays: dict[str, np.ndarray]) -> str:
    """Write ``arrays`` (the masks and probabilities by their names in :data:`MASKS` and
    :data:`PROBABILITIES`) into a new folder in ``folder``; return its name."""
    name = f"{ANALYSIS_PREFIX}{uuid.uuid4().hex[:12]}"
    staging = folder / f".{name}.part"
    staging.mkdir()
    try:
        for key in MASKS:
            mask = np.asarray(arrays[key], dtype=bool)
            _write_png(staging / f"{key}.png", mask.astype(np.uint8) * 255)
        for key in PROBABILITIES:
            probability = np.clip(np.asarray(arrays[key], dtype=np.float64), 0, 1)
            _write_png(
                staging / f"{key}.png",
                np.round(probability * _PROBABILITY_SCALE).astype(np.uint16),
            )
        staging.rename(folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return name


def read_analysis_arrays(folder: Path, name: object, path: Path) -> dict[str, np.ndarray]:
    """The arrays in ``folder/name``: masks as bool, probabilities as float32 in [0, 1].
    InputError naming ``path`` (the state file) for a bad folder name, and the array file for
    an unreadable or mismatched array."""
    if not isinstance(name, str) or not _ARRAYS_NAME.match(name):
        shown = repr(name) if len(repr(name)) < 80 else repr(name)[:77] + "..."
        raise InputError(f"the analysis arrays folder {shown} is not valid", path)
    stored = {key: _read_png(folder / name / f"{key}.png") for key in (*MASKS, *PROBABILITIES)}
    for key, array in stored.items():
        wanted = np.uint8 if key in MASKS else np.uint16
        if array.dtype != wanted:
            raise InputError(
                f"a saved analysis array is {array.dtype}, not {np.dtype(wanted)}",
                folder / name / f"{key}.png",
            )
    shapes = {array.shape for array in stored.values()}
    if len(shapes) != 1:
        raise InputError(f"the analysis arrays differ in size: {sorted(shapes)}", folder / name)
    arrays = {key: stored[key] > 0 for key in MASKS}
    for key in PROBABILITIES:
        arrays[key] = (stored[key] / _PROBABILITY_SCALE).astype(np.float32)
    return arrays


def remove_other_analyses(folder: Path, keep: str | None) -> None:
    """Remove every analysis folder in ``folder`` but ``keep``."""
    for entry in folder.iterdir():
        stale = entry.name.startswith(ANALYSIS_PREFIX) and entry.name != keep
        if stale and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"OpenCV could not encode {path.name}")
    path.write_bytes(encoded.tobytes())


def _read_png(path: Path) -> np.ndarray:
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise InputError(f"cannot read a saved analysis array: {error.strerror}", path) from error
    check_image_header(data, path)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except cv2.error:
        image = None
    if image is None or image.ndim != 2:
        raise InputError("a saved analysis array is not a readable grey PNG", path)
    return image
