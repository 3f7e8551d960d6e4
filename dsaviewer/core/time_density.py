"""Time-density curves: the mean opacity of image regions frame by frame.

Opacity is the parametric maps' quantity (change from the pre-contrast baseline, signed so
contrast is positive, in fractions of full white), here averaged over a region and left
unsmoothed: a region's mean already averages its noise away, and a ratio of peaks (blush
reduction) should not depend on a smoothing kernel.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from dsaviewer.core.binary_masks import as_mask
from dsaviewer.core.parametric import baseline_count
from dsaviewer.core.preprocess import FieldBox, as_frame_stack
from dsaviewer.errors import InputError

# Around the liver, this many pixels per 1000 of the frame's shorter side are left out of the
# background: the liver's edge and its mask's uncertainty belong to neither.
_BACKGROUND_GAP_PER_1000 = 15


def region_curves(
    frames: np.ndarray,
    regions: Mapping[str, np.ndarray],
    contrast_dark: bool,
    white_level: float,
) -> dict[str, np.ndarray]:
    """Each region's ``(T,)`` opacity curve (float64); an empty region's curve is all NaN.

    ``regions`` maps names to boolean masks of the frame size.
    """
    stack = as_frame_stack(frames)
    masks = {}
    for name, mask in regions.items():
        checked = as_mask(mask, f"{name} region")
        if checked.shape != stack.shape[1:]:
            raise InputError(
                f"mask shape {checked.shape} does not match the frames' {stack.shape[1:]}",
                f"{name} region",
            )
        masks[name] = checked.astype(np.uint8)
    sign = -1.0 if contrast_dark else 1.0
    n_baseline = baseline_count(stack.shape[0])
    curves = {}
    for name, mask in masks.items():
        if not mask.any():
            curves[name] = np.full(stack.shape[0], np.nan)
            continue
        means = np.array([cv2.mean(frame, mask)[0] for frame in stack])
        curves[name] = sign * (means - means[:n_baseline].mean()) / white_level
    return curves


def standard_regions(
    shape: tuple[int, int], tumor: np.ndarray, liver: np.ndarray, field: FieldBox
) -> dict[str, np.ndarray]:
    """The regions of ``tdc.csv``: ``tumor``; ``liver`` = liver minus tumor (the parenchyma);
    ``background`` = the exposed field outside the liver and tumor, a margin away from them."""
    tumor = as_mask(tumor, "tumor mask")
    liver = as_mask(liver, "liver mask")
    organ = (tumor | liver).astype(np.uint8)
    gap = max(1, round(min(shape) * _BACKGROUND_GAP_PER_1000 / 1000))
    near = cv2.dilate(organ, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1,) * 2))
    exposed = np.zeros(shape, bool)
    exposed[field.slices] = True
    return {
        "tumor": tumor,
        "liver": liver & ~tumor,
        "background": exposed & ~near.astype(bool),
    }


def curve_peak(curve: np.ndarray) -> float:
    """A curve's largest value (NaN for an all-NaN curve)."""
    return float(np.nanmax(curve)) if np.isfinite(curve).any() else float("nan")


def curve_area(curve: np.ndarray, times: np.ndarray) -> float:
    """The area under the positive part of a curve over ``times`` (trapezoids, opacity x s)."""
    if not np.isfinite(curve).any():
        return float("nan")
    positive = np.maximum(np.nan_to_num(curve), 0.0)
    return float(np.sum((positive[1:] + positive[:-1]) * np.diff(times)) / 2.0)
