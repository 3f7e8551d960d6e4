"""A folder of still images (PNG, JPEG, TIFF) as a video, one image per frame in natural name
order, so ``frame2.png`` comes before ``frame10.png``."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.image_header import check_image_header
from dsaviewer.io.limits import check_run_size
from dsaviewer.io.video import Video

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")

_DIGIT_RUNS = re.compile(r"(\d+)")


def natural_sort_key(path: Path) -> tuple:
    """Sort key of a file name that compares digit runs as numbers, the rest case-blind."""
    parts = _DIGIT_RUNS.split(path.name)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in parts)


def frame_files_in(folder: Path) -> list[Path]:
    """The image files directly inside ``folder`` in natural order (hidden files skipped)."""
    files = [
        path
        for path in folder.iterdir()
        if path.suffix.lower() in FRAME_SUFFIXES
        and path.is_file()
        and not path.name.startswith(".")
    ]
    return sorted(files, key=natural_sort_key)


def read_frame_folder(folder: Path) -> Video:
    """Load every image of ``folder`` as one frame; 8-bit stays uint8, 16-bit stays uint16."""
    files = frame_files_in(folder)
    if not files:
        raise InputError(
            f"the folder holds no frame images (looked for {', '.join(FRAME_SUFFIXES)})", folder
        )
    first = _read_grey(files[0])
    check_run_size(len(files), *first.shape, first.dtype.itemsize, folder)
    frames = np.empty((len(files), *first.shape), dtype=first.dtype)
    frames[0] = first
    for index, path in enumerate(files[1:], start=1):
        image = _read_grey(path)
        if image.shape != first.shape:
            raise InputError(
                f"frame size {image.shape[1]}×{image.shape[0]} differs from "
                f"{first.shape[1]}×{first.shape[0]} of {files[0].name}",
                path,
            )
        if image.dtype != first.dtype:
            raise InputError(
                f"{image.dtype.itemsize * 8}-bit image among {first.dtype.itemsize * 8}-bit "
                f"frames (first: {files[0].name})",
                path,
            )
        frames[index] = image
    return Video(
        frames=frames,
        fps=None,
        pixel_spacing_mm=None,
        source=folder,
        source_format="frames",
        bits_stored=frames.dtype.itemsize * 8,
    )


def _read_grey(path: Path) -> np.ndarray:
    data = np.fromfile(path, dtype=np.uint8)
    check_image_header(data, path)
    try:
        # np.fromfile + imdecode rather than cv2.imread: imread fails on non-ASCII paths on Windows.
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as error:
        raise InputError("cannot be decoded as an image (damaged or too large)", path) from error
    if image is None:
        raise InputError("cannot be decoded as an image (damaged or not PNG/JPEG/TIFF)", path)
    if image.dtype not in (np.uint8, np.uint16):
        raise InputError(f"has {image.dtype} pixels; frames must be 8- or 16-bit integers", path)
    if image.ndim == 3:
        conversion = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}.get(image.shape[2])
        if conversion is None:
            raise InputError(f"has {image.shape[2]} channels; expected 1, 3 or 4", path)
        image = cv2.cvtColor(image, conversion)
    return image
