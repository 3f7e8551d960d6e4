"""AVI and MP4 video files, decoded by OpenCV's FFmpeg backend into 8-bit grey frames.

Before FFmpeg sees a file, a cheap walk over its top-level container structure
(:mod:`dsaviewer.io.video_container`) refuses garbage: FFmpeg would otherwise scan hundreds of
megabytes of it before giving up. Declared frame counts are checked against the file size and
:data:`~dsaviewer.io.limits.MAX_RUN_BYTES` before the frames are allocated, and decoding stops
with a clear message after :data:`~dsaviewer.io.limits.DECODE_TIME_BUDGET_S`.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.limits import DECODE_TIME_BUDGET_S, check_run_size
from dsaviewer.io.video import Video
from dsaviewer.io.video_container import check_container

VIDEO_FILE_SUFFIXES = {".avi": "avi", ".mp4": "mp4"}

# Frame rates outside this range are container defaults or garbage, not acquisition rates.
_PLAUSIBLE_FPS = (0.01, 1000.0)


def read_video_file(path: Path, time_budget_s: float = DECODE_TIME_BUDGET_S) -> Video:
    """Load every frame of an AVI or MP4 file, colour converted to grey.

    A file that decodes to fewer frames than its header declares is reported as truncated
    rather than shown shorter than it is; one that takes longer than ``time_budget_s`` to
    decode is refused.
    """
    source_format = VIDEO_FILE_SUFFIXES.get(path.suffix.lower())
    if source_format is None:
        raise InputError(f"not an AVI or MP4 file (suffix {path.suffix!r})", path)
    file_size = check_container(path, source_format)
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise InputError(
                f"cannot be opened as {source_format.upper()} video: the file is damaged, "
                "truncated or uses a codec FFmpeg cannot decode",
                path,
            )
        declared = int(max(capture.get(cv2.CAP_PROP_FRAME_COUNT), 0))
        fps = capture.get(cv2.CAP_PROP_FPS)
        codec = _fourcc_text(capture.get(cv2.CAP_PROP_FOURCC))
        if declared > file_size // 8:  # every frame takes at least a chunk header on disk
            raise InputError(
                f"is damaged: its header declares {declared} frames, more than a file of "
                f"{file_size} bytes can hold",
                path,
            )
        frames = _read_all_frames(capture, declared, path, time_budget_s)
    finally:
        capture.release()

    if frames.shape[0] == 0:
        raise InputError("contains no decodable frames", path)
    if frames.shape[0] < declared:
        raise InputError(
            f"is truncated or damaged: its header declares {declared} frames but only "
            f"{frames.shape[0]} could be decoded",
            path,
        )
    plausible = _PLAUSIBLE_FPS[0] <= fps <= _PLAUSIBLE_FPS[1]
    return Video(
        frames=frames,
        fps=float(fps) if plausible else None,
        pixel_spacing_mm=None,
        source=path,
        source_format=source_format,
        bits_stored=8,
        metadata={"Codec": codec} if codec else {},
    )


def _read_all_frames(
    capture: cv2.VideoCapture, declared: int, path: Path, time_budget_s: float
) -> np.ndarray:
    """Decode straight into a preallocated (T, H, W) array sized from the header (checked
    against the run size limit first); grow it only if the header undercounts."""
    deadline = time.monotonic() + time_budget_s
    ok, frame = capture.read()
    if not ok:
        return np.empty((0, 0, 0), dtype=np.uint8)
    height, width = frame.shape[:2]
    check_run_size(declared, height, width, 1, path)
    frames = np.empty((max(declared, 1), height, width), dtype=np.uint8)
    count = 0
    while ok:
        if frame.shape[:2] != (height, width):
            raise InputError(
                f"frame {count} is {frame.shape[1]}×{frame.shape[0]}, "
                f"not {width}×{height} like frame 0",
                path,
            )
        if count == frames.shape[0]:
            check_run_size(2 * count, height, width, 1, path)
            frames = np.concatenate([frames, np.empty_like(frames)])
        if frame.ndim == 2:
            frames[count] = frame
        elif frame.dtype != np.uint8:
            raise InputError(f"decodes to {frame.dtype} pixels; only 8-bit video is read", path)
        else:
            cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY, frames[count])
        count += 1
        if time.monotonic() > deadline:
            raise InputError(
                f"decoding took too long: {count} frames in the time budget of "
                f"{time_budget_s:g} s; the file is damaged or far larger than a "
                "DSA run",
                path,
            )
        ok, frame = capture.read()
    return frames[:count].copy() if count < frames.shape[0] else frames


def _fourcc_text(code: float) -> str:
    value = int(code)
    text = "".join(chr((value >> shift) & 0xFF) for shift in (0, 8, 16, 24))
    return text.strip("\0 ") if text.isprintable() else ""
