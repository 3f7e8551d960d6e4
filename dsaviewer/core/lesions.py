"""The lesions of a tumour mask: size, longest diameter, position, outline and the lesion
uncertainty of Lambert et al. (1 − mean tumour probability over the lesion's pixels), which
is higher for false positives, so the viewer can flag lesions to double-check."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.binary_masks import as_mask, checked_spacing, label_components
from dsaviewer.errors import InputError

# Lesions come from pixels with probability >= 0.5, so their uncertainty lies in about
# [0, 0.5]. Lambert et al. show true positives near 0.13 and a false positive at 0.47; 0.3
# (mean probability below 0.7) flags lesions that only just passed the threshold.
DEFAULT_UNCERTAINTY_THRESHOLD = 0.3

# The smallest component listed as a lesion. Specks left by thresholding or a stray brush
# touch are not lesions: the smallest HCC a DSA tumour stain shows is a few millimetres
# across, and 4 mm² (a 2 x 2 mm square) stays well below that. Without a pixel spacing the
# limit is in pixels: 10 px is about 4 mm² at the 0.6 mm/px of a 512-pixel 30-cm field.
DEFAULT_MIN_AREA_MM2 = 4.0
DEFAULT_MIN_AREA_PX = 10


@dataclass(frozen=True)
class MinLesionSize:
    """The smallest tumour component listed as a lesion: ``area_mm2`` where the run's pixel
    spacing is known, else ``area_px``; 0 lists every component. ValueError for a negative
    or non-finite area, or a fractional pixel count."""

    area_mm2: float = DEFAULT_MIN_AREA_MM2
    area_px: int = DEFAULT_MIN_AREA_PX

    def __post_init__(self) -> None:
        if not (math.isfinite(self.area_mm2) and self.area_mm2 >= 0):
            raise ValueError(f"the minimum lesion area must be 0 mm² or more, not "
                             f"{self.area_mm2}")
        if isinstance(self.area_px, bool) or not isinstance(self.area_px, int) or (
                self.area_px < 0):
            raise ValueError(f"the minimum lesion area must be a whole number of pixels, 0 "
                             f"or more, not {self.area_px!r}")


# Offsets from a pixel centre to its four corners, (row, col).
_PIXEL_CORNERS = np.array([[-0.5, -0.5], [-0.5, 0.5], [0.5, -0.5], [0.5, 0.5]])


@dataclass(frozen=True)
class Lesion:
    """One 8-connected tumour component. Coordinates are (row, col) in mask pixels."""

    number: int  # 1 = largest; numbers follow area, ties in raster order
    area_px: int
    area_mm2: float | None  # None without pixel spacing
    # Max Feret diameter: the longest distance between two points of the lesion, its pixels
    # taken as squares (a 3x4-pixel rectangle measures 5), in spacing-weighted mm if known.
    longest_diameter_px: float
    longest_diameter_mm: float | None
    centroid: tuple[float, float]
    bbox: tuple[int, int, int, int]  # row0, col0, row1, col1; ends exclusive like slices
    mean_probability: float | None  # None when no probability map was given
    uncertainty: float | None  # 1 - mean_probability
    flagged: bool  # uncertainty > the threshold given to extract_lesions
    # Outer outline through boundary pixel centres, (row, col), for drawing; holes not traced.
    contour: tuple[tuple[int, int], ...]


def extract_lesions(
    tumor_mask: np.ndarray,
    tumor_prob: np.ndarray | None = None,
    pixel_spacing_mm: tuple[float, float] | None = None,
    uncertainty_threshold: float = DEFAULT_UNCERTAINTY_THRESHOLD,
    min_area_mm2: float = DEFAULT_MIN_AREA_MM2,
    min_area_px: int = DEFAULT_MIN_AREA_PX,
) -> list[Lesion]:
    """The lesions of ``tumor_mask``, largest first.

    ``tumor_prob`` is the network's tumour probability map (same shape, values in [0, 1]);
    without it (a hand-drawn mask) the probability fields are None and nothing is flagged.
    ``pixel_spacing_mm`` is (row, col) spacing; rows and columns may differ. Components
    smaller than ``min_area_mm2`` (with a spacing) or ``min_area_px`` (without) are not
    lesions and are left out; 0 keeps every component.
    """
    if not (min_area_mm2 >= 0 and min_area_px >= 0):
        raise ValueError(f"minimum areas must be >= 0, not {min_area_mm2} mm², {min_area_px} px")
    mask = as_mask(tumor_mask, "tumor mask")
    prob = _checked_probability(tumor_prob, mask.shape)
    spacing = checked_spacing(pixel_spacing_mm)
    count, labels = label_components(mask)
    if count == 0:
        return []
    rows, cols = np.nonzero(labels)
    owner = labels[rows, cols]
    # Group pixel coordinates by label once instead of scanning the image per lesion.
    order = np.argsort(owner, kind="stable")
    rows, cols, owner = rows[order], cols[order], owner[order]
    starts = np.searchsorted(owner, np.arange(1, count + 2))
    areas = np.diff(starts)
    # Stable sort on -area keeps raster order among equal areas.
    by_size = np.argsort(-areas, kind="stable")
    if spacing is None:
        big_enough = areas[by_size] >= min_area_px
    else:
        big_enough = areas[by_size] * spacing[0] * spacing[1] >= min_area_mm2
    by_size = by_size[big_enough]

    lesions = []
    for number, index in enumerate(by_size, start=1):
        r = rows[starts[index] : starts[index + 1]]
        c = cols[starts[index] : starts[index + 1]]
        bbox = (int(r.min()), int(c.min()), int(r.max()) + 1, int(c.max()) + 1)
        contour = _outer_contour(labels, int(index) + 1, bbox)
        mean_probability = None if prob is None else float(prob[r, c].mean())
        uncertainty = None if mean_probability is None else 1.0 - mean_probability
        lesions.append(
            Lesion(
                number=number,
                area_px=int(r.size),
                area_mm2=None if spacing is None else float(r.size * spacing[0] * spacing[1]),
                longest_diameter_px=_feret_diameter(contour, (1.0, 1.0)),
                longest_diameter_mm=None if spacing is None else _feret_diameter(contour, spacing),
                centroid=(float(r.mean()), float(c.mean())),
                bbox=bbox,
                mean_probability=mean_probability,
                uncertainty=uncertainty,
                flagged=uncertainty is not None and uncertainty > uncertainty_threshold,
                contour=contour,
            )
        )
    return lesions


def _outer_contour(
    labels: np.ndarray, label: int, bbox: tuple[int, int, int, int]
) -> tuple[tuple[int, int], ...]:
    row0, col0, row1, col1 = bbox
    # A one-pixel margin keeps findContours from treating the crop edge as the outline.
    crop = np.pad(labels[row0:row1, col0:col1] == label, 1).astype(np.uint8)
    contours, _ = cv2.findContours(crop, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    points = max(contours, key=len).reshape(-1, 2)  # one contour for an 8-connected component
    return tuple((int(y) + row0 - 1, int(x) + col0 - 1) for x, y in points)


def _feret_diameter(contour: tuple[tuple[int, int], ...], spacing: tuple[float, float]) -> float:
    """Longest distance between the corners of the pixels on the convex hull, scaled."""
    points = np.array(contour, dtype=np.int32)
    hull = cv2.convexHull(points[:, ::-1].copy()).reshape(-1, 2)[:, ::-1]
    # The hull of the pixel squares is the hull of the centres grown by one pixel square,
    # so its vertices are among the corners of the centre hull's vertices.
    corners = (hull[:, None, :] + _PIXEL_CORNERS[None, :, :]).reshape(-1, 2) * np.array(spacing)
    # Only the corners' own hull vertices can be farthest apart; indices keep float64 precision.
    on_hull = cv2.convexHull(corners.astype(np.float32), returnPoints=False).ravel()
    corners = corners[on_hull]
    squared = ((corners[:, None, :] - corners[None, :, :]) ** 2).sum(axis=2)
    return float(np.sqrt(squared.max()))


def _checked_probability(prob: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    if prob is None:
        return None
    array = np.asarray(prob)
    if array.shape != shape:
        raise InputError(
            f"shape {array.shape} does not match tumor mask shape {shape}", "tumor probability"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise InputError(
            f"must hold float probabilities, got dtype {array.dtype}", "tumor probability"
        )
    if not (np.isfinite(array).all() and array.min() >= 0.0 and array.max() <= 1.0):
        raise InputError("must hold probabilities within [0, 1]", "tumor probability")
    return array
