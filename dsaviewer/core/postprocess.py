"""Post-processing of the tumour and liver probability maps into masks (Lambert et al. 2.5):

1. keep only the largest liver component and fill its holes;
2. delete tumour components whose mask, dilated by a few pixels, does not touch the liver
   (in DSA every HCC lies in or against the liver), and those lying mostly outside it: a
   splenic, renal, pancreatic or bowel blush that merely abuts the liver is not an HCC;
3. close the tumour borders (dilate then erode) to smooth them.

Every step can be switched off in :class:`PostprocessConfig` so evaluation can ablate it.
Step 2 uses the liver after step 1; when no liver is found, step 2 deletes every tumour.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.binary_masks import label_components
from dsaviewer.errors import InputError


@dataclass(frozen=True)
class PostprocessConfig:
    keep_largest_liver: bool = True
    fill_liver_holes: bool = True
    remove_tumors_off_liver: bool = True
    # How far (pixels) a tumour may lie from the liver and still count as touching it.
    liver_contact_margin_px: int = 3
    # The least fraction of a tumour component's pixels inside the liver (dilated by the
    # margin). An HCC, even an exophytic one, lies mostly within the liver's projection.
    min_fraction_in_liver: float = 0.5
    close_tumor_borders: bool = True
    # Radius of the disc used for closing; gaps narrower than about twice this between two
    # lesions are bridged, so keep it small.
    closing_radius_px: int = 2


def postprocess_masks(
    tumor_prob: np.ndarray,
    liver_prob: np.ndarray,
    threshold: float = 0.5,
    config: PostprocessConfig = PostprocessConfig(),  # noqa: B008 - frozen, safe to share
) -> tuple[np.ndarray, np.ndarray]:
    """Threshold (``prob >= threshold``) and clean the two maps: ``(tumor_mask, liver_mask)``,
    boolean, the input shape. Boolean masks may be passed in place of probabilities."""
    tumor = _thresholded(tumor_prob, threshold, "tumor probability")
    liver = _thresholded(liver_prob, threshold, "liver probability")
    if tumor.shape != liver.shape:
        raise InputError(
            f"shape {tumor.shape} does not match liver probability shape {liver.shape}",
            "tumor probability",
        )
    if config.liver_contact_margin_px < 0 or config.closing_radius_px < 0:
        raise InputError("margins and radii must not be negative", "post-processing config")
    if not 0.0 <= config.min_fraction_in_liver <= 1.0:
        raise InputError("min_fraction_in_liver must lie in [0, 1]", "post-processing config")
    if config.keep_largest_liver:
        liver = largest_component(liver)
    if config.fill_liver_holes:
        liver = fill_holes(liver)
    if config.remove_tumors_off_liver:
        tumor = remove_components_off(
            tumor, liver, config.liver_contact_margin_px, config.min_fraction_in_liver
        )
    if config.close_tumor_borders and config.closing_radius_px > 0:
        tumor = cv2.morphologyEx(
            tumor.astype(np.uint8), cv2.MORPH_CLOSE, _disc(config.closing_radius_px)
        ).astype(bool)
    return tumor, liver


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component (the first in raster order among equals)."""
    count, labels = label_components(mask)
    if count <= 1:
        return mask.copy()
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    return labels == 1 + int(np.argmax(areas))


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Mask with every background region that cannot reach the image border filled."""
    # Pad so the border is one connected background region, then flood it from a corner.
    # 4-connected flooding is the background dual of 8-connected foreground: a diagonal gap
    # in an 8-connected outline does not let the outside in.
    padded = np.pad(mask, 1).astype(np.uint8)
    outside = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(padded, outside, (0, 0), 2, flags=4)
    return (padded != 2)[1:-1, 1:-1]


def remove_components_off(
    tumor: np.ndarray, liver: np.ndarray, margin_px: int, min_fraction: float = 0.0
) -> np.ndarray:
    """Tumour components kept only if, dilated by ``margin_px``, they intersect the liver,
    with at least ``min_fraction`` of their pixels in the liver dilated by ``margin_px``."""
    count, labels = label_components(tumor)
    if count == 0:
        return tumor.copy()
    # A component dilated by a symmetric disc meets the liver exactly when the component
    # meets the liver dilated by the same disc: one dilation instead of one per component.
    reach = liver.astype(np.uint8)
    if margin_px > 0:
        reach = cv2.dilate(reach, _disc(margin_px))
    inside = np.bincount(labels[reach > 0].ravel(), minlength=count + 1)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    keep = (inside > 0) & (inside >= min_fraction * areas)
    keep[0] = False
    return keep[labels]


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _thresholded(prob: np.ndarray, threshold: float, name: str) -> np.ndarray:
    array = np.asarray(prob)
    if array.ndim != 2:
        raise InputError(f"must be a 2-D map, got shape {array.shape}", name)
    if array.dtype == bool:
        return array.copy()
    if not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"must be float probabilities or a boolean mask, got {array.dtype}", name)
    return array >= threshold
