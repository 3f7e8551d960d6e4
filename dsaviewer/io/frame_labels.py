"""The Labelme files of single frames: ``labels/NNNN.json`` + ``labels/NNNN.png`` (DESIGN.md).

Reading keeps what the viewer does not edit: shapes with another label (``vessel``) or without
area (a ``point``) are returned as they were written, so saving a corrected frame writes them
back unchanged instead of dropping a radiologist's work.

Model output carries the flag ``model_prediction``: masks nobody has checked yet. The viewer
drops the flag when a person saves the frame, and a dataset export lists the frames still
flagged, so unchecked predictions never pass for training labels unnoticed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import LABELS_FOLDER_NAME
from dsaviewer.io.case_state import locate_case_state
from dsaviewer.io.label_update import save_labelme_changes
from dsaviewer.io.labelme import (
    KEY_FRAME_FLAG,
    LABELS,
    LabelmeAnnotation,
    read_labelme,
    read_labelme_json,
)
from dsaviewer.io.writers import FRAME_FILE_DIGITS, replace_atomically

PREDICTION_FLAG = "model_prediction"
_LABEL_FILE = re.compile(r"^(\d{4,})\.json$")
# The shape types read_labelme turns into pixels; a shape of another type is kept as written.
_AREA_SHAPE_TYPES = ("polygon", "rectangle", "circle", "mask")


@dataclass(frozen=True)
class FrameLabels:
    """One frame's Labelme file as read: the masks and flags, and ``kept_shapes``, the shape
    dicts the masks do not hold (other labels, shapes without area), to be written back."""

    frame_index: int
    path: Path
    annotation: LabelmeAnnotation
    kept_shapes: tuple[dict, ...]

    @property
    def is_prediction(self) -> bool:
        return bool(self.annotation.flags.get(PREDICTION_FLAG, False))


def label_json_path(labels_dir: str | Path, frame_index: int) -> Path:
    """``labels_dir/NNNN.json`` for a 0-based frame index."""
    if isinstance(frame_index, bool) or not isinstance(frame_index, int | np.integer):
        raise ValueError(f"a frame index must be an integer, not {frame_index!r}")
    if frame_index < 0:
        raise ValueError(f"a frame index must be >= 0, not {frame_index}")
    return Path(labels_dir) / f"{int(frame_index):0{FRAME_FILE_DIGITS}d}.json"


def labels_folder_for(opened: str | Path) -> Path:
    """Where the Labelme files of what the user opened go: ``<case>/labels`` for a case
    folder (or its video), else ``labels/`` in the video's per-user folder
    (:func:`dsaviewer.io.case_state.locate_case_state`)."""
    location = locate_case_state(opened)
    if location.case_id is not None:
        return location.state_folder.parent / LABELS_FOLDER_NAME
    return location.state_folder / LABELS_FOLDER_NAME


def frame_label_files(labels_dir: str | Path) -> dict[int, Path]:
    """Frame index -> ``NNNN.json`` in ``labels_dir``, sorted; empty when there is none."""
    folder = Path(labels_dir)
    if not folder.is_dir():
        return {}
    files = {}
    for path in folder.iterdir():
        match = _LABEL_FILE.match(path.name)
        if match and path.is_file():
            files[int(match.group(1))] = path
    return dict(sorted(files.items()))


def read_frame_labels(path: str | Path) -> FrameLabels:
    """Read ``NNNN.json``; InputError for a misnamed or unreadable file."""
    path = Path(path)
    match = _LABEL_FILE.match(path.name)
    if match is None:
        raise InputError("a frame's Labelme file is named NNNN.json (the frame index)", path)
    annotation = read_labelme(path)
    # read_labelme has checked the document's structure; only the raw shapes are wanted here.
    document = read_labelme_json(path)
    kept = tuple(shape for shape in document["shapes"] if not _is_mask_shape(shape))
    return FrameLabels(int(match.group(1)), path, annotation, kept)


def write_frame_labels(
    labels_dir: str | Path,
    frame_index: int,
    image: np.ndarray,
    masks: Mapping[str, np.ndarray],
    flags: Mapping[str, bool] | None = None,
    kept_shapes: Sequence[dict] = (),
) -> Path:
    """Bring frame ``frame_index``'s ``labels_dir/NNNN.json`` (+ ``NNNN.png``) to ``masks``
    and ``flags``, with ``kept_shapes`` after the masks' shapes, changing only what differs
    from the file already there (:func:`dsaviewer.io.label_update.save_labelme_changes`:
    untouched shapes and an existing image are kept as written; changed outlines keep
    IoU >= 0.99 with the fewest corners). Returns the JSON path. OSError when the folder
    cannot be written.
    """
    path = label_json_path(labels_dir, frame_index)
    save_labelme_changes(path, image, masks, dict(flags or {}), kept_shapes)
    return path


def update_label_flags(path: str | Path, flags: Mapping[str, bool]) -> None:
    """Replace the image flags of an existing Labelme file, leaving its shapes as written
    (the key frame moved: re-tracing the masks would needlessly alter hand-drawn polygons)."""
    path = Path(path)
    for name, value in flags.items():
        if not isinstance(name, str) or not isinstance(value, bool):
            raise ValueError(f"flags must map names to True/False, not {name!r}: {value!r}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"not a readable Labelme file: {error}", path) from error
    if not isinstance(document, dict):
        raise InputError("a Labelme file holds a JSON object at the top level", path)
    document["flags"] = dict(flags)
    with replace_atomically(path) as temporary:
        temporary.write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


def write_prediction_labels(
    case_dir: str | Path,
    frame_index: int,
    image: np.ndarray,
    tumor_mask: np.ndarray,
    liver_mask: np.ndarray,
    key_frame: bool = True,
) -> Path:
    """Write a model's masks of one frame as ``case_dir/labels/NNNN.json`` (+ ``NNNN.png``),
    flagged ``model_prediction`` (and ``key_frame`` when it is one), ready to be corrected in
    the viewer or in Labelme. ``case_dir`` is an output folder, never a source case: model
    output must not become training labels unchecked. Returns the JSON path."""
    masks = {"tumor": np.asarray(tumor_mask, bool), "liver": np.asarray(liver_mask, bool)}
    flags = {KEY_FRAME_FLAG: bool(key_frame), PREDICTION_FLAG: True}
    return write_frame_labels(Path(case_dir) / LABELS_FOLDER_NAME, frame_index, image, masks, flags)


def _is_mask_shape(shape: dict) -> bool:
    label = shape.get("label")
    shape_type = shape.get("shape_type") or "polygon"
    return (
        isinstance(label, str)
        and label.strip().lower() in LABELS
        and shape_type in _AREA_SHAPE_TYPES
    )
