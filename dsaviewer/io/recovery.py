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
import math
import os
import re
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.case_state import locate_case_state
from dsaviewer.io.labelme import LABELS
from dsaviewer.io.limits import MAX_IMAGE_SIDE, check_frame_size
from dsaviewer.io.writers import FRAME_FILE_DIGITS

RECOVERY_FOLDER_NAME = "recovery"
RECOVERY_FORMAT = "dsaviewer-mask-recovery-1"

_RECOVERY_FILE = re.compile(r"^(\d{4,})\.npz$")
_ENTRIES = ("format", "frame_index", "shape", "written_at", *LABELS)
# Two bit-packed masks of the largest frame, and room for the small entries.
_MAX_UNPACKED = 2 * MAX_IMAGE_SIDE**2 // 8 + 1024**2
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
            with reader_boundary(path, "recovery file"):
                frames.append(_read_frame(path, int(match.group(1))))
        except InputError as error:
            problems.append(str(error))
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
    def refuse(problem: str) -> InputError:
        return InputError(f"cannot be read: {problem}", path)

    _check_archive(path)
    with np.load(path, allow_pickle=False) as data:
        if str(data["format"]) != RECOVERY_FORMAT:
            raise refuse(f"its format is not {RECOVERY_FORMAT!r}")
        if data["frame_index"].dtype != np.int64 or data["shape"].dtype != np.int64:
            raise refuse("frame_index and shape must be 64-bit integers")
        if int(data["frame_index"]) != frame_index:
            raise refuse(f"it holds frame {int(data['frame_index'])}, not {frame_index}")
        if data["shape"].shape != (2,):
            raise refuse("its shape entry is not (height, width)")
        height, width = (int(v) for v in data["shape"])
        check_frame_size(height, width, path)
        for label in LABELS:
            packed = data[label]
            if packed.dtype != np.uint8 or packed.shape != ((height * width + 7) // 8,):
                raise refuse(f"the {label} mask does not hold {width}x{height} packed pixels")
        masks = {
            label: np.unpackbits(data[label], count=height * width)
            .reshape(height, width)
            .astype(bool)
            for label in LABELS
        }
        try:
            written_at = datetime.datetime.fromisoformat(str(data["written_at"]))
        except ValueError:
            raise refuse("its written_at is not a date and time") from None
    return RecoveredFrame(frame_index, masks, written_at, path)


def _check_archive(path: Path) -> None:
    """Refuse a recovery file whose arrays would decompress to more than a frame's masks can
    take (a zip bomb), or whose array headers declare more data than their entries hold,
    before numpy allocates anything."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise InputError("cannot be read: it is not a zip archive (damaged)", path) from error
    with archive:
        entries = archive.infolist()
        if len(entries) > len(_ENTRIES) or sum(e.file_size for e in entries) > _MAX_UNPACKED:
            raise InputError(
                f"cannot be read: it unpacks to more than {_MAX_UNPACKED // 1024**2} MiB "
                "or holds unexpected entries",
                path,
            )
        for entry in entries:
            with archive.open(entry) as stream:
                version = np.lib.format.read_magic(stream)
                header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = header(stream, max_header_size=1024)
                declared = math.prod(shape) * dtype.itemsize
                if dtype.hasobject or declared > entry.file_size:
                    raise InputError(
                        f"cannot be read: the array {entry.filename!r} declares {declared} "
                        f"bytes of {dtype} in an entry of {entry.file_size}",
                        path,
                    )
