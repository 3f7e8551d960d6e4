"""The video every layer above ``io`` works with, and the one entry point that loads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.calibration import Calibration


@dataclass(frozen=True)
class Video:
    """A DSA run as loaded from disk.

    ``frames`` is ``(T, H, W)`` uint8 or uint16 in display polarity MONOCHROME2 (higher is
    brighter). ``fps`` is the acquisition frame rate when the file states one, else None.
    ``pixel_spacing_mm`` is (row, column) mm per pixel in the patient's plane when known, and
    ``calibration`` says where it came from (DICOM spacing corrected for magnification, a
    catheter, a typed value; :mod:`dsaviewer.io.calibration`).
    ``metadata`` holds display strings only (patient, study, device), never pixel data.
    ``frame_times_s`` holds each frame's acquisition time in seconds from the first frame when
    the file states them frame by frame (DICOM Frame Time Vector or Frame Time), else None.
    """

    frames: np.ndarray
    fps: float | None
    pixel_spacing_mm: tuple[float, float] | None
    source: Path
    source_format: str
    bits_stored: int = 8
    metadata: dict[str, str] = field(default_factory=dict)
    frame_times_s: np.ndarray | None = None
    calibration: Calibration | None = None

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def frame_shape(self) -> tuple[int, int]:
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    def times_s(self) -> np.ndarray | None:
        """Each frame's time in seconds from the first: the stated frame times, else evenly
        spaced at ``fps``; None when the file gives no timing at all."""
        if self.frame_times_s is not None and len(self.frame_times_s) == self.n_frames:
            return np.asarray(self.frame_times_s, dtype=np.float64)
        if self.fps is not None and self.fps > 0:
            return np.arange(self.n_frames, dtype=np.float64) / self.fps
        return None

    @property
    def max_value(self) -> int:
        """The largest representable pixel value, for window/level defaults."""
        return (1 << self.bits_stored) - 1


def load_video(path: str | Path) -> Video:
    """Load a video from whatever ``path`` is: an AVI/MP4 file, a DICOM file, a case folder,
    a folder of single-frame DICOM files or a folder of PNG/JPEG/TIFF frames.

    Raises :class:`~dsaviewer.errors.InputError` naming the file and the problem for anything
    that is not a readable video. Never writes to ``path``.
    """
    from dsaviewer.io.boundary import reader_boundary

    path = Path(path)
    with reader_boundary(path, "video"):
        return _load_any(path)


def _load_any(path: Path) -> Video:
    # The readers import Video from this module, so they are imported here, not at the top.
    from dsaviewer.io.case_folder import is_case_folder, open_case
    from dsaviewer.io.dicom import (
        DICOM_SUFFIXES,
        dicom_files_in,
        is_dicom_file,
        read_dicom_file,
        read_dicom_series,
    )
    from dsaviewer.io.frame_folder import FRAME_SUFFIXES, frame_files_in, read_frame_folder
    from dsaviewer.io.video_file import VIDEO_FILE_SUFFIXES, read_video_file

    if not path.exists():
        raise InputError("no such file or folder", path)
    if path.is_file() and path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", path)
    if path.is_dir():
        if is_case_folder(path):
            return _load_any(open_case(path).video_path)
        dicom_files = dicom_files_in(path)
        frame_files = frame_files_in(path)
        if dicom_files and frame_files:
            raise InputError(
                f"the folder mixes {len(dicom_files)} DICOM files and {len(frame_files)} image "
                "files; keep one kind of video source per folder",
                path,
            )
        if len(dicom_files) == 1:
            return read_dicom_file(dicom_files[0])
        if dicom_files:
            return read_dicom_series(path, dicom_files)
        if frame_files:
            return read_frame_folder(path)
        raise InputError(
            "the folder holds no video: expected a case folder (video.avi, video.mp4, video.dcm "
            f"or frames/), DICOM files, or frame images ({', '.join(FRAME_SUFFIXES)})",
            path,
        )
    if path.suffix.lower() in VIDEO_FILE_SUFFIXES:
        return read_video_file(path)
    if is_dicom_file(path):
        return read_dicom_file(path)
    supported = ", ".join((*VIDEO_FILE_SUFFIXES, *DICOM_SUFFIXES))
    raise InputError(
        f"unsupported file type {path.suffix or '(no suffix)'!r}: open a video file ({supported}, "
        "or a DICOM file without suffix) or a folder of frames, DICOM files or a case",
        path,
    )
