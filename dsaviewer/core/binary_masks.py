"""Checks and connected components for the binary masks that metrics, post-processing and
lesion extraction share, so all three agree on what a mask, its pixel spacing and a
component are."""

from __future__ import annotations

import math

import cv2
import numpy as np

from dsaviewer.errors import InputError


def as_mask(array: np.ndarray, name: str) -> np.ndarray:
    """``array`` as a 2-D boolean mask (non-zero is foreground).

    Boolean and integer arrays are accepted (0/1 and 0/255 masks alike). Floating-point arrays
    are refused: a probability map passed by mistake would otherwise count every non-zero
    pixel as foreground, so callers must threshold it first.
    """
    array = np.asarray(array)
    if array.ndim != 2:
        raise InputError(f"must be a 2-D mask, got shape {array.shape}", name)
    if array.dtype != bool and not np.issubdtype(array.dtype, np.integer):
        raise InputError(
            f"must be a boolean or integer mask, got dtype {array.dtype}; threshold "
            "probabilities first",
            name,
        )
    return array.astype(bool, copy=False)


def as_mask_pair(
    first: np.ndarray, second: np.ndarray, names: tuple[str, str] = ("prediction", "ground truth")
) -> tuple[np.ndarray, np.ndarray]:
    """Two masks of the same shape, checked as :func:`as_mask`."""
    a, b = as_mask(first, names[0]), as_mask(second, names[1])
    if a.shape != b.shape:
        raise InputError(f"shape {a.shape} does not match {names[1]} shape {b.shape}", names[0])
    return a, b


def checked_spacing(spacing_mm: tuple[float, float] | None) -> tuple[float, float] | None:
    """Pixel spacing as two positive floats ``(row_mm, col_mm)``, or None when unknown."""
    if spacing_mm is None:
        return None
    try:
        row_mm, col_mm = (float(value) for value in spacing_mm)
    except (TypeError, ValueError) as error:
        raise InputError(
            f"must be (row, col) in mm, got {spacing_mm!r}", "pixel spacing"
        ) from error
    if not (math.isfinite(row_mm) and math.isfinite(col_mm) and row_mm > 0 and col_mm > 0):
        raise InputError(f"must be two positive numbers, got {spacing_mm!r}", "pixel spacing")
    return row_mm, col_mm


def label_components(mask: np.ndarray) -> tuple[int, np.ndarray]:
    """8-connected components of a boolean mask: ``(count, labels)``.

    ``labels`` is int32, 0 for background and 1..count for the components in raster order of
    their first pixel. 8-connectivity because a lesion touching itself only at a corner is
    still one lesion to a reader.
    """
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S)
    count -= 1
    if count < 2:
        return count, labels
    # OpenCV labels image strips in parallel, so its numbering depends on the thread count;
    # renumbering in raster order makes component (and lesion) numbers reproducible.
    flat = labels.ravel()
    foreground = np.flatnonzero(flat)
    old_labels, first_index = np.unique(flat[foreground], return_index=True)
    by_first_pixel = old_labels[np.argsort(foreground[first_index])]
    new_label = np.zeros(count + 1, dtype=np.int32)
    new_label[by_first_pixel] = np.arange(1, count + 1, dtype=np.int32)
    return count, new_label[labels]
