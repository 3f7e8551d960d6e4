"""What the viewer adds to a case, saved without touching the video.

Where it goes (:func:`locate_case_state`, :func:`save_case_state`):

- the analysis, a cache that can be made again, always goes to the video's per-user folder
  (:func:`dsaviewer.io.user_data.video_data_folder`), never beside the video;
- a case folder (DESIGN.md), opened as the folder or as its one video source: what the user
  changed (a key-frame override, clinical values, a manual calibration) goes to
  ``<case>/viewer/`` once there is such a change, and to the per-user folder as well, which
  keeps it when the case sits on read-only media;
- anything else (a loose video file, a DICOM file or series folder, a frame folder): all of
  it in the per-user folder. Opening or analysing a loose file writes nothing beside it. A
  sidecar ``<name>.viewer/`` written by earlier versions is still used where it exists.

What it holds::

    state.json                 key-frame override, clinical values, manual calibration
                               (absent in older files: none), the analysis' details
    analysis-<id>/             the arrays of the last analysis (io.case_state_arrays)

Training reads the video, ``labels/`` and the dataset's ``clinical.csv`` only; ``viewer/`` is
neither a video source nor a label folder, so a case stays a valid training case. Model
output is deliberately kept out of ``labels/``: predictions must not turn into training
labels unchecked. The dataset's ``clinical.csv`` is an input file and is never written; values
entered in the viewer are saved here and take precedence over the CSV row.

Writes are atomic: a new analysis' arrays go into a fresh folder first, then ``state.json``
is replaced in one rename, then older analysis folders are removed, so a crash at any point
leaves a readable state. What a killed save leaves behind (a ``.analysis-*.part`` folder, a
``.state.*.part.json`` file) is removed at the next save or open once it is older than any
save in progress could be. The frame-difference map and the lesions are not stored: they are
recomputed exactly from the video, the masks and the probabilities.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.calibration import (
    Calibration,
    calibration_document,
    calibration_from_document,
)
from dsaviewer.io.case_folder import is_case_folder, open_case
from dsaviewer.io.case_state_arrays import (
    MASKS,
    PROBABILITIES,
    read_analysis_arrays,
    remove_other_analyses,
    write_analysis_arrays,
)
from dsaviewer.io.clinical import ClinicalVariables, parse_clinical
from dsaviewer.io.limits import MAX_IMAGE_SIDE, MAX_STATE_BYTES, read_json
from dsaviewer.io.user_data import video_data_folder
from dsaviewer.io.writers import replace_atomically

STATE_FOLDER_NAME = "viewer"
SIDECAR_SUFFIX = ".viewer"
STATE_FILE_NAME = "state.json"
CLINICAL_CSV_NAME = "clinical.csv"
STATE_FORMAT = "dsaviewer-viewer-state"
STATE_FORMAT_VERSION = 1

# Temporary names of a save: the arrays' staging folder and replace_atomically's state file.
_LEFTOVER = re.compile(r"^\.(analysis-[0-9A-Za-z_-]+\.part|state\.[0-9a-f]+\.part\.json)$")
# A save takes seconds; a temporary file this old belongs to no save in progress.
LEFTOVER_AGE_S = 600.0


@dataclass(frozen=True)
class CaseLocation:
    """Where a case's viewer state lives, and for a case folder its dataset's clinical.csv.
    ``cache_folder`` is the video's per-user folder; for a loose file it is also
    ``state_folder``."""

    state_folder: Path
    case_id: str | None  # the case folder's name: its row in clinical.csv
    clinical_csv: Path | None  # <dataset>/clinical.csv beside the case folder
    cache_folder: Path | None = None


@dataclass(frozen=True)
class VideoIdentity:
    """Enough about the video to notice that saved masks belong to another one."""

    source_name: str
    n_frames: int
    frame_shape: tuple[int, int]


@dataclass(frozen=True)
class SavedAnalysis:
    """An analysis as stored: the (H, W) arrays and the rest as JSON values.

    ``details`` belongs to the layer that made the analysis (key frames, prediction, device,
    timings); it is stored as given. ``stored_as`` names the folder holding the arrays once
    written, so saving the state again does not rewrite them.
    """

    tumor_probability: np.ndarray  # float32 in [0, 1]
    liver_probability: np.ndarray
    tumor_mask: np.ndarray  # bool
    liver_mask: np.ndarray
    details: dict[str, Any]
    stored_as: str | None = None


@dataclass(frozen=True)
class CaseState:
    """Everything the viewer saves for one case. ``clinical`` is None until values are
    entered or loaded in the viewer (the dataset's clinical.csv row is used meanwhile);
    ``calibration`` is None until a person calibrates (the file's own spacing, if any, holds
    meanwhile)."""

    video: VideoIdentity | None = None
    key_frame_override: int | None = None
    clinical: ClinicalVariables | None = None
    analysis: SavedAnalysis | None = None
    calibration: Calibration | None = None


def locate_case_state(opened: str | Path) -> CaseLocation:
    """Where the viewer state of what the user opened lives (see the module docstring)."""
    path = Path(opened).absolute()
    root = _case_root(path)
    if root is None:
        sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
        cache = video_data_folder(path)
        return CaseLocation(sidecar if sidecar.is_dir() else cache, None, None, cache)
    try:
        video = open_case(root).video_path
    except InputError:
        video = root
    csv = root.parent / CLINICAL_CSV_NAME
    return CaseLocation(root / STATE_FOLDER_NAME, root.name, csv, video_data_folder(video))


def load_case_state(location: CaseLocation) -> CaseState:
    """The state saved for ``location``: the user's changes from the case folder where it
    holds them (else from the per-user folder), the analysis from the per-user folder (else
    from the case folder, where earlier versions kept it). InputError as
    :func:`read_case_state`."""
    cached = read_case_state(location.cache_folder) if location.cache_folder else CaseState()
    if location.cache_folder == location.state_folder:
        return cached
    if not (location.state_folder / STATE_FILE_NAME).is_file():
        return cached
    own = read_case_state(location.state_folder)
    return replace(own, analysis=cached.analysis or own.analysis)


def save_case_state(location: CaseLocation, state: CaseState) -> CaseState:
    """Save ``state`` where it belongs (see the module text); return it as stored, as
    :func:`write_case_state` does. OSError when the per-user folder cannot be written; a case
    folder that cannot be written (read-only media) is skipped, the per-user copy holds all."""
    cache = location.cache_folder or location.state_folder
    stored = write_case_state(cache, state)
    if cache == location.state_folder:
        return stored
    changed = (state.key_frame_override is not None or state.clinical is not None
               or state.calibration is not None)
    if changed or (location.state_folder / STATE_FILE_NAME).is_file():
        # On read-only media the per-user copy keeps the change.
        with contextlib.suppress(OSError):
            write_case_state(location.state_folder, replace(state, analysis=None))
    return stored


def read_case_state(folder: str | Path) -> CaseState:
    """The state saved in ``folder``; an empty state when nothing was saved yet.

    Raises InputError naming the file and field when state.json or an array is unreadable.
    """
    folder = Path(folder)
    path = folder / STATE_FILE_NAME
    remove_leftovers(folder)
    if not path.is_file():
        return CaseState()
    with reader_boundary(path, "viewer state"):
        return _read_state(folder, path, read_json(path, MAX_STATE_BYTES))


def remove_leftovers(folder: str | Path, min_age_s: float = LEFTOVER_AGE_S) -> list[Path]:
    """Remove the temporary files and folders that killed saves left in ``folder`` (those at
    least ``min_age_s`` old); return what was removed. A folder that cannot be written is
    left as it is."""
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
        now = time.time()
        for entry in entries:
            if not _LEFTOVER.match(entry.name) or now - entry.lstat().st_mtime < min_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    except OSError:
        pass  # a read-only or vanishing folder: leftovers are harmless, reading goes on
    return removed


def _read_state(folder: Path, path: Path, document: Any) -> CaseState:
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise InputError(f"not a viewer state file (format is not {STATE_FORMAT!r})", path)
    version = document.get("format_version")
    if version != STATE_FORMAT_VERSION:
        raise InputError(
            f"format_version {version!r} is not supported (this viewer reads "
            f"{STATE_FORMAT_VERSION})",
            path,
        )
    return CaseState(
        video=_read_identity(document.get("video"), path),
        key_frame_override=_read_key_frame(document.get("key_frame_override"), path),
        clinical=_read_clinical(document.get("clinical"), path),
        analysis=_read_analysis(document.get("analysis"), folder, path),
        calibration=_read_calibration(document.get("calibration"), path),
    )


def write_case_state(folder: str | Path, state: CaseState) -> CaseState:
    """Save ``state`` in ``folder`` atomically; return it as stored (its analysis now names
    its array folder), which is what to pass to the next call."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder)
    analysis = state.analysis
    if analysis is not None and analysis.stored_as is None:
        arrays = {key: getattr(analysis, key) for key in (*MASKS, *PROBABILITIES)}
        analysis = replace(analysis, stored_as=write_analysis_arrays(folder, arrays))
    stored = replace(state, analysis=analysis)
    document = {
        "format": STATE_FORMAT,
        "format_version": STATE_FORMAT_VERSION,
        "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "video": None if stored.video is None else {
            "source": stored.video.source_name,
            "frames": stored.video.n_frames,
            "height": stored.video.frame_shape[0],
            "width": stored.video.frame_shape[1],
        },
        "key_frame_override": stored.key_frame_override,
        "clinical": None if stored.clinical is None else stored.clinical.as_strings(),
        "calibration": None if stored.calibration is None
        else calibration_document(stored.calibration),
        "analysis": None if analysis is None else {
            "arrays": analysis.stored_as,
            "details": analysis.details,
        },
    }
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    with replace_atomically(folder / STATE_FILE_NAME) as temporary:
        temporary.write_text(text + "\n", encoding="utf-8")
    remove_other_analyses(folder, keep=None if analysis is None else analysis.stored_as)
    return stored


def _case_root(path: Path) -> Path | None:
    if is_case_folder(path):
        return path
    parent = path.parent
    if not is_case_folder(parent):
        return None
    try:
        source = open_case(parent).video_path
    except InputError:  # a folder with two video sources is no case; the file stands alone
        return None
    return parent if source.absolute() == path else None


def _read_identity(value: Any, path: Path) -> VideoIdentity | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("source"), str):
        raise InputError("the 'video' entry must hold source, frames, height and width", path)
    numbers = []
    for key, largest in (("frames", 10**7), ("height", MAX_IMAGE_SIDE), ("width", MAX_IMAGE_SIDE)):
        number = value.get(key)
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= largest:
            raise InputError(
                f"the 'video' entry's {key} must be a whole number from 1 to {largest}, "
                f"not {number!r}",
                path,
            )
        numbers.append(number)
    return VideoIdentity(value["source"], numbers[0], (numbers[1], numbers[2]))


def _read_key_frame(value: Any, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**7:
        raise InputError(f"key_frame_override must be a frame index, not {value!r}", path)
    return value


def _read_clinical(value: Any, path: Path) -> ClinicalVariables | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("the 'clinical' entry must map variable names to values", path)
    try:
        return parse_clinical(value)
    except InputError as error:
        raise InputError(f"clinical values: {error}", path) from error


def _read_calibration(value: Any, path: Path) -> Calibration | None:
    # Absent (files written before calibrations were saved) or null: no manual calibration.
    return None if value is None else calibration_from_document(value, path)


def _read_analysis(value: Any, folder: Path, path: Path) -> SavedAnalysis | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("details"), dict):
        raise InputError("the 'analysis' entry must hold 'arrays' and 'details'", path)
    name = value.get("arrays")
    arrays = read_analysis_arrays(folder, name, path)
    return SavedAnalysis(**arrays, details=value["details"], stored_as=name)
