"""Crash recovery for mask edits: the unsaved masks of each edited frame, a few seconds old.

The editor writes a frame's masks here shortly after every change and removes the file once
the frame is saved to ``labels/`` (or its edits are discarded), so a file here is always work
that is not in ``labels/``. After a crash, reopening the case finds it and offers it back.

Where: ``recovery/`` in the case's viewer-state folder
(:func:`dsaviewer.io.case_state.locate_case_state`), ``<case>/viewer/recovery/`` for a case
folder. One ``NNNN.npz`` per frame: the tumour and liver masks bit-packed, the frame size and
when it was written. Each file is written under a temporary name, flushed to disk and renamed,
so a crash leaves the previous file or the new one, never half of one; leftover temporary
files are ignored and removed by :func:`discard_recovery`.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.io.case_state import locate_case_state
from dsaviewer.io.labelme import LABELS
from dsaviewer.io.writers import FRAME_FILE_DIGITS

RECOVERY_FOLDER_NAME = "recovery"
RECOVERY_FORMAT = "dsaviewer-mask-recovery-1"

_RECOVERY_FILE = re.compile(r"^(\d{4,})\.npz$")
_TEMPORARY_FILE = re.compile(r"^\.\d{4,}\.[0-9a-f]{32}\.part\.npz$")


@dataclass(frozen=True)
class RecoveredFrame:
    """The unsaved masks of one frame as last written before the program ended."""

    frame_index: int
    masks: dict[str, np.ndarray]  # label -> (H, W) bool
    written_at: datetime.datetime  # UTC
    path: Path


@dataclass(frozen=True)
class Recovery:
    """The recoverable frames of a folder, and the files that could not be read."""

    folder: Path
    frames: tuple[RecoveredFrame, ...]
    problems: tuple[str, ...]

    @property
    def latest(self) -> datetime.datetime | None:
        return max((frame.written_at for frame in self.frames), default=None)


def recovery_folder_for(opened: str | Path) -> Path:
    """The recovery folder of what the user opened (a case folder, a video file, ...)."""
    return locate_case_state(opened).state_folder / RECOVERY_FOLDER_NAME


def write_recovery_frame(
    folder: str | Path, frame_index: int, masks: Mapping[str, np.ndarray]
) -> Path:
    """Save the masks (``tumor`` and ``liver``, (H, W) bool) of one frame; return the file.

    Atomic and durable: the data is on disk before the name is. OSError when the folder cannot
    be written (read-only, full); the previous file is then untouched.
    """
    shape = _checked_masks(masks)
    target = _frame_path(folder, frame_index)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.part.npz")
    written_at = datetime.datetime.now(datetime.timezone.utc).isoformat()
    try:
        with temporary.open("wb") as handle:
            np.savez_compressed(
                handle,
                format=np.array(RECOVERY_FORMAT),
                frame_index=np.array(frame_index, np.int64),
                shape=np.array(shape, np.int64),
                written_at=np.array(written_at),
                **{label: np.packbits(masks[label]) for label in LABELS},
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def remove_recovery_frame(folder: str | Path, frame_index: int) -> None:
    """Forget a frame's unsaved masks (it was saved, or its edits were discarded)."""
    _frame_path(folder, frame_index).unlink(missing_ok=True)


def read_recovery(folder: str | Path) -> Recovery | None:
    """The recoverable frames in ``folder``, or None when there are none. Unreadable files are
    reported in ``problems``, never raised: recovery must not stop a case from opening."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    frames: list[RecoveredFrame] = []
    problems: list[str] = []
    for path in sorted(folder.iterdir()):
        match = _RECOVERY_FILE.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            frames.append(_read_frame(path, int(match.group(1))))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            problems.append(f"{path}: cannot be read ({error})")
    if not frames and not problems:
        return None
    return Recovery(folder, tuple(frames), tuple(problems))


def find_recovery(opened: str | Path) -> Recovery | None:
    """The recoverable edits of what the user opened (see :func:`recovery_folder_for`)."""
    return read_recovery(recovery_folder_for(opened))


def discard_recovery(folder: str | Path) -> None:
    """Remove every recovery file in ``folder``, leftover temporary files included, and the
    folder itself once empty."""
    folder = Path(folder)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if _RECOVERY_FILE.match(path.name) or _TEMPORARY_FILE.match(path.name):
            path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # something else lives there: leave the folder
        folder.rmdir()


def _frame_path(folder: str | Path, frame_index: int) -> Path:
    if isinstance(frame_index, bool) or not isinstance(frame_index, int | np.integer):
        raise ValueError(f"a frame index must be an integer, not {frame_index!r}")
    if frame_index < 0:
        raise ValueError(f"a frame index must be >= 0, not {frame_index}")
    return Path(folder) / f"{int(frame_index):0{FRAME_FILE_DIGITS}d}.npz"


def _checked_masks(masks: Mapping[str, np.ndarray]) -> tuple[int, int]:
    shapes = set()
    for label in LABELS:
        mask = masks.get(label)
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.ndim != 2:
            raise ValueError(f"recovery needs a 2-D bool {label!r} mask")
        shapes.add(mask.shape)
    if len(shapes) != 1:
        raise ValueError(f"the masks differ in size: {sorted(shapes)}")
    return shapes.pop()


def _read_frame(path: Path, frame_index: int) -> RecoveredFrame:
    with np.load(path, allow_pickle=False) as data:
        if str(data["format"]) != RECOVERY_FORMAT:
            raise ValueError(f"format {str(data['format'])!r} is not {RECOVERY_FORMAT!r}")
        if int(data["frame_index"]) != frame_index:
            raise ValueError(f"it holds frame {int(data['frame_index'])}, not {frame_index}")
        height, width = (int(v) for v in data["shape"])
        for label in LABELS:
            if data[label].shape != ((height * width + 7) // 8,):
                raise ValueError(f"the {label} mask does not hold {width}x{height} pixels")
        masks = {
            label: np.unpackbits(data[label], count=height * width)
            .reshape(height, width)
            .astype(bool)
            for label in LABELS
        }
        written_at = datetime.datetime.fromisoformat(str(data["written_at"]))
    return RecoveredFrame(frame_index, masks, written_at, path)
