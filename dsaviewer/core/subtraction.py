"""Mask subtraction of a native (unsubtracted) angiography run, as a DICOM file asks for it
with Recommended Viewing Mode SUB and an averaged mask (Mask Subtraction Sequence, AVG_SUB):
every frame minus the mean of the mask frames, around mid-grey so that contrast shows dark
on grey as in a DSA run; the black border is kept."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dsaviewer.errors import InputError

BORDER_FRACTION = 0.05  # mask pixels darker than this share of white are border


def subtract_mask(frames: np.ndarray, mask_frames: Sequence[int], white: int) -> np.ndarray:
    """``frames`` ``(T, H, W)`` minus the mean of ``frames[mask_frames]`` (0-based), plus
    mid-grey, clipped to ``0..white``, in the frames' dtype."""
    indices = list(mask_frames)
    if not indices or not all(0 <= index < len(frames) for index in indices):
        raise InputError(
            f"mask frames {[index + 1 for index in indices]} are not among the run's "
            f"frames 1..{len(frames)}",
            "mask subtraction",
        )
    mask = frames[indices].astype(np.float32).mean(axis=0)
    subtracted = frames.astype(np.float32) - mask + np.float32((white + 1) / 2)
    # The collimator's black border has nothing to subtract: it stays black, so the exposed
    # field is still found.
    border = mask < BORDER_FRACTION * white
    subtracted[:, border] = frames[:, border]
    return np.clip(np.rint(subtracted), 0, white).astype(frames.dtype)
