"""Pixel metrics of one predicted mask against its ground truth: overlap (Dice, IoU, pixel
accuracy, Rand index) and boundary distances (Hausdorff, HD95, average symmetric surface
distance).

All functions take 2-D boolean (or 0/non-zero integer) masks of the same shape, prediction
first. Conventions, chosen so a per-case table aggregates without surprises:

- Dice and IoU of two empty masks are 1.0 (nothing to find, nothing found).
- Distances are in pixels, or in mm when ``spacing_mm=(row, col)`` is given. The surface of a
  mask is its foreground pixels with a 4-neighbour outside the mask (outside the image
  counts as outside), as MONAI finds edges.
- A distance is ``nan`` when both masks are empty (nothing to measure) and ``inf`` when exactly
  one is empty (a missed or wholly spurious structure). :func:`mean_of_finite` averages a
  column of such values and reports how many of each kind it skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.binary_masks import as_mask, as_mask_pair, checked_spacing
from dsaviewer.errors import InputError

# Bounds each (chunk x surface) float64 matrix of the anisotropic path to 16 MB.
_DISTANCE_CHUNK_ELEMENTS = 2_000_000
_FOUR_NEIGHBOURS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))


def dice(pred: np.ndarray, gt: np.ndarray) -> float:
    """Dice coefficient 2|P∩G| / (|P|+|G|); 1.0 when both masks are empty."""
    p, g = as_mask_pair(pred, gt)
    total = int(p.sum()) + int(g.sum())
    return 1.0 if total == 0 else 2.0 * int(np.count_nonzero(p & g)) / total


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union (Jaccard index); 1.0 when both masks are empty."""
    p, g = as_mask_pair(pred, gt)
    union = int(np.count_nonzero(p | g))
    return 1.0 if union == 0 else int(np.count_nonzero(p & g)) / union


def pixel_accuracy(pred: np.ndarray, gt: np.ndarray) -> float:
    """Fraction of pixels whose label agrees (the "accuracy" of DSA-Net Table 2)."""
    p, g = as_mask_pair(pred, gt)
    return float(np.count_nonzero(p == g)) / p.size


def rand_index(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """Rand index of two label maps: the fraction of pixel pairs on which they agree (same
    label in both, or different labels in both), as used by Gruber et al.

    Accepts boolean masks or integer label maps (e.g. 0 other, 1 liver, 2 tumor). Counted
    from the contingency table, so it is exact without enumerating the pairs.
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    for array, name in ((a, "first label map"), (b, "second label map")):
        if array.dtype != bool and not np.issubdtype(array.dtype, np.integer):
            raise InputError(f"must hold integer labels, got dtype {array.dtype}", name)
    if a.shape != b.shape:
        raise InputError(f"shape {a.shape} does not match shape {b.shape}", "first label map")
    n = a.size
    if n < 2:
        raise InputError("needs at least two pixels to form a pair", "first label map")
    _, a_index = np.unique(a.ravel(), return_inverse=True)
    _, b_index = np.unique(b.ravel(), return_inverse=True)
    joint = np.unique(a_index * (int(b_index.max()) + 1) + b_index, return_counts=True)[1]

    def pairs(counts: np.ndarray) -> int:
        counts = counts.astype(np.int64)
        return int((counts * (counts - 1) // 2).sum())

    together_in_both = pairs(joint)
    together_in_a = pairs(np.bincount(a_index))
    together_in_b = pairs(np.bincount(b_index))
    all_pairs = n * (n - 1) // 2
    apart_in_both = all_pairs - together_in_a - together_in_b + together_in_both
    return (together_in_both + apart_in_both) / all_pairs


def surface_mask(mask: np.ndarray) -> np.ndarray:
    """The surface (boundary) pixels of a mask: foreground with a 4-neighbour outside it."""
    m = as_mask(mask, "mask")
    # Padding with background makes pixels on the image edge count as surface.
    padded = np.pad(m, 1).astype(np.uint8)
    eroded = cv2.erode(padded, _FOUR_NEIGHBOURS)[1:-1, 1:-1].astype(bool)
    return m & ~eroded


def surface_distances(
    pred: np.ndarray, gt: np.ndarray, spacing_mm: tuple[float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Directed surface distances ``(pred→gt, gt→pred)``: for every surface pixel of one mask,
    the distance to the nearest surface pixel of the other. Empty arrays for an empty mask."""
    p, g = as_mask_pair(pred, gt)
    row_mm, col_mm = checked_spacing(spacing_mm) or (1.0, 1.0)
    surface_p, surface_g = surface_mask(p), surface_mask(g)
    if not surface_p.any() or not surface_g.any():
        return np.zeros(0), np.zeros(0)
    if row_mm == col_mm:
        return (
            _distances_to_isotropic(surface_p, surface_g) * row_mm,
            _distances_to_isotropic(surface_g, surface_p) * row_mm,
        )
    points_p = np.argwhere(surface_p) * np.array([row_mm, col_mm])
    points_g = np.argwhere(surface_g) * np.array([row_mm, col_mm])
    return _nearest_distances(points_p, points_g), _nearest_distances(points_g, points_p)


def hausdorff_distance(
    pred: np.ndarray,
    gt: np.ndarray,
    spacing_mm: tuple[float, float] | None = None,
    percentile: float = 100.0,
) -> float:
    """Symmetric Hausdorff distance: the larger of the two directed ``percentile``-th
    percentiles of :func:`surface_distances` (numpy's linear interpolation). 100 gives the
    classic maximum; 95 gives HD95 as MONAI computes it. nan/inf for empty masks (module doc).
    """
    if not 0.0 <= percentile <= 100.0:
        raise InputError(f"must be within 0..100, got {percentile}", "percentile")
    undefined = _empty_case_distance(pred, gt)
    if undefined is not None:
        return undefined
    forward, backward = surface_distances(pred, gt, spacing_mm)
    return float(max(np.percentile(forward, percentile), np.percentile(backward, percentile)))


def hd95(pred: np.ndarray, gt: np.ndarray, spacing_mm: tuple[float, float] | None = None) -> float:
    """95th-percentile Hausdorff distance (see :func:`hausdorff_distance`)."""
    return hausdorff_distance(pred, gt, spacing_mm, percentile=95.0)


def average_symmetric_surface_distance(
    pred: np.ndarray, gt: np.ndarray, spacing_mm: tuple[float, float] | None = None
) -> float:
    """ASSD: the mean of all surface distances in both directions, pooled,
    (Σ d(p, G) + Σ d(g, P)) / (|∂P| + |∂G|). nan/inf for empty masks (module doc)."""
    undefined = _empty_case_distance(pred, gt)
    if undefined is not None:
        return undefined
    forward, backward = surface_distances(pred, gt, spacing_mm)
    return float((forward.sum() + backward.sum()) / (forward.size + backward.size))


@dataclass(frozen=True)
class FiniteMean:
    """The mean of the finite values of a per-case column, and what was left out of it."""

    mean: float  # nan when no value was finite
    n_used: int
    n_nan: int  # undefined cases, e.g. a distance where both masks were empty
    n_inf: int  # infinite cases, e.g. a distance where exactly one mask was empty


def mean_of_finite(values: Iterable[float]) -> FiniteMean:
    """Average a per-case metric over its finite values, counting the nan and inf it skips."""
    array = np.asarray(list(values), dtype=float)
    finite = np.isfinite(array)
    n_used = int(finite.sum())
    return FiniteMean(
        mean=float(array[finite].mean()) if n_used else math.nan,
        n_used=n_used,
        n_nan=int(np.isnan(array).sum()),
        n_inf=int(np.isinf(array).sum()),
    )


def _empty_case_distance(pred: np.ndarray, gt: np.ndarray) -> float | None:
    p, g = as_mask_pair(pred, gt)
    p_empty, g_empty = not p.any(), not g.any()
    if p_empty and g_empty:
        return math.nan
    if p_empty or g_empty:
        return math.inf
    return None


def _distances_to_isotropic(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pixel distances from each ``source`` pixel to the nearest ``target`` pixel."""
    # distanceTransform measures to the nearest zero pixel; the precise mask makes it the
    # exact Euclidean transform (Felzenszwalb), not the 3x3/5x5 chamfer approximation.
    field = cv2.distanceTransform(
        np.where(target, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
    )
    return field[source].astype(np.float64)


def _nearest_distances(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Exact nearest-neighbour distances between point sets in mm, for anisotropic spacing,
    which cv2.distanceTransform cannot weight. Chunked to bound memory."""
    chunk = max(1, _DISTANCE_CHUNK_ELEMENTS // len(targets))
    nearest = np.empty(len(sources))
    for start in range(0, len(sources), chunk):
        block = sources[start : start + chunk]
        squared = np.square(block[:, 0, None] - targets[None, :, 0])
        squared += np.square(block[:, 1, None] - targets[None, :, 1])
        nearest[start : start + chunk] = np.sqrt(squared.min(axis=1))
    return nearest
