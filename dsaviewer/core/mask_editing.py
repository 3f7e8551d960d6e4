"""Edit operations on one binary mask, for correcting the model's tumour and liver masks by hand.

Every operation is pure: it reads the mask and returns a :class:`MaskEdit` (the changed
region's box with its pixels before and after) or None when it would change nothing. The
caller applies the edit, and an undo history keeps the edit itself, so a step costs its
changed region, never a copy of the frame.

Points are ``(x, y)`` in image coordinates: pixel ``(row, col)`` covers ``[col, col + 1) x
[row, row + 1)``, its centre is ``(col + 0.5, row + 0.5)``; this is how the viewer's image item
maps the frame, so mouse positions need no conversion. A pixel belongs to a drawn shape when its
centre does.

Components are 8-connected, as in :func:`dsaviewer.core.binary_masks.label_components`, so
"delete a lesion" removes exactly one of the lesions the viewer lists; background regions are
4-connected (the dual), so a closed 8-connected outline encloses what it surrounds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # row0, col0, row1, col1; ends exclusive like slices
Point = tuple[float, float]  # (x, y), see the module docstring

# A capsule of radius 0.5 around any segment holds at least one pixel centre per column (or
# row), so even the thinnest brush leaves an 8-connected trace without gaps.
MIN_BRUSH_RADIUS = 0.5


class MaskEdit:
    """One changed region of a mask: ``bbox`` and the pixels there before and after.

    The pixels are kept bit-packed (``numpy.packbits``): an undo history of a few hundred
    full-frame steps on a 1024 x 1024 frame then needs tens, not hundreds, of megabytes.
    """

    __slots__ = ("bbox", "_before_bits", "_after_bits")

    def __init__(self, bbox: Box, before: np.ndarray, after: np.ndarray) -> None:
        row0, col0, row1, col1 = bbox
        if before.shape != (row1 - row0, col1 - col0) or after.shape != before.shape:
            raise ValueError(f"pixels {before.shape}/{after.shape} do not fit the box {bbox}")
        self.bbox = (int(row0), int(col0), int(row1), int(col1))
        self._before_bits = np.packbits(before.astype(bool, copy=False))
        self._after_bits = np.packbits(after.astype(bool, copy=False))

    @property
    def shape(self) -> tuple[int, int]:
        row0, col0, row1, col1 = self.bbox
        return row1 - row0, col1 - col0

    @property
    def before(self) -> np.ndarray:
        return self._unpack(self._before_bits)

    @property
    def after(self) -> np.ndarray:
        return self._unpack(self._after_bits)

    @property
    def changed_pixels(self) -> int:
        return int(np.unpackbits(self._before_bits ^ self._after_bits).sum())

    @property
    def nbytes(self) -> int:
        return self._before_bits.nbytes + self._after_bits.nbytes

    def apply(self, mask: np.ndarray) -> None:
        """Write the pixels after the edit into ``mask``; applying twice is harmless."""
        mask[self._slices(mask)] = self.after

    def revert(self, mask: np.ndarray) -> None:
        """Write the pixels before the edit back into ``mask``."""
        mask[self._slices(mask)] = self.before

    def _slices(self, mask: np.ndarray) -> tuple[slice, slice]:
        row0, col0, row1, col1 = self.bbox
        if row1 > mask.shape[0] or col1 > mask.shape[1]:
            raise ValueError(f"the edit box {self.bbox} lies outside a {mask.shape} mask")
        return slice(row0, row1), slice(col0, col1)

    def _unpack(self, bits: np.ndarray) -> np.ndarray:
        height, width = self.shape
        return np.unpackbits(bits, count=height * width).reshape(height, width).astype(bool)

    def __repr__(self) -> str:
        return f"MaskEdit(bbox={self.bbox}, changed_pixels={self.changed_pixels})"


def brush_segment(
    mask: np.ndarray, start: Point, end: Point, radius: float, value: bool = True
) -> MaskEdit | None:
    """Paint (``value`` True) or erase (False) the capsule of ``radius`` around the segment
    ``start``-``end``: every pixel whose centre lies within ``radius`` of the segment, plus the
    pixels under both ends (so a click always marks the pixel clicked). A stroke is a chain of
    such segments, so a fast mouse leaves no gaps between its sampled positions."""
    _check_mask(mask)
    if not (math.isfinite(radius) and radius >= MIN_BRUSH_RADIUS):
        raise ValueError(f"the brush radius must be a number >= {MIN_BRUSH_RADIUS}, not {radius}")
    (x0, y0), (x1, y1) = _checked_point(start), _checked_point(end)
    height, width = mask.shape
    # Pixel centres c + 0.5 within the capsule's bounding box, clipped to the image.
    col0 = max(0, math.ceil(min(x0, x1) - radius - 0.5))
    col1 = min(width, math.floor(max(x0, x1) + radius - 0.5) + 1)
    row0 = max(0, math.ceil(min(y0, y1) - radius - 0.5))
    row1 = min(height, math.floor(max(y0, y1) + radius - 0.5) + 1)
    ends = [(math.floor(y), math.floor(x)) for x, y in ((x0, y0), (x1, y1))]
    ends = [(r, c) for r, c in ends if 0 <= r < height and 0 <= c < width]
    for r, c in ends:  # the pixel under an end lies in the box unless radius < its distance
        row0, row1 = min(row0, r), max(row1, r + 1)
        col0, col1 = min(col0, c), max(col1, c + 1)
    if row0 >= row1 or col0 >= col1:
        return None

    px = np.arange(col0, col1, dtype=np.float64)[None, :] + (0.5 - x0)
    py = np.arange(row0, row1, dtype=np.float64)[:, None] + (0.5 - y0)
    dx, dy = x1 - x0, y1 - y0
    length_squared = dx * dx + dy * dy
    if length_squared == 0.0:
        distance_squared = px * px + py * py
    else:
        t = np.clip((px * dx + py * dy) / length_squared, 0.0, 1.0)
        distance_squared = (px - t * dx) ** 2 + (py - t * dy) ** 2
    inside = distance_squared <= radius * radius
    for r, c in ends:
        inside[r - row0, c - col0] = True
    return _paint(mask, (row0, col0, row1, col1), inside, value)


def polygon_edit(
    mask: np.ndarray, vertices: Sequence[Point], value: bool = True
) -> MaskEdit | None:
    """Add (``value`` True) or subtract (False) the polygon through ``vertices`` (at least 3,
    closed automatically): every pixel whose centre lies inside it, by the even-odd rule, so
    a self-crossing outline leaves the parts it wraps twice out."""
    _check_mask(mask)
    points = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    if len(points) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices, not {len(points)}")
    if not np.isfinite(points).all():
        raise ValueError("polygon vertices must be finite numbers")
    height, width = mask.shape
    xs, ys = points[:, 0], points[:, 1]
    col0 = max(0, math.ceil(xs.min() - 0.5))
    col1 = min(width, math.ceil(xs.max() - 0.5))
    row0 = max(0, math.ceil(ys.min() - 0.5))
    row1 = min(height, math.ceil(ys.max() - 0.5))
    if row0 >= row1 or col0 >= col1:
        return None

    # Scan lines through the pixel centres; each edge an x crossing per line it spans.
    y = np.arange(row0, row1, dtype=np.float64)[:, None] + 0.5
    xa, ya = xs[None, :], ys[None, :]
    xb, yb = np.roll(xs, -1)[None, :], np.roll(ys, -1)[None, :]
    # Half-open in y, so a vertex on a scan line is counted once and horizontal edges never.
    crosses = (ya <= y) != (yb <= y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = xa + (y - ya) * (xb - xa) / (yb - ya)
    lines, _ = np.nonzero(crosses)
    # Every crossing flips inside/outside for the pixels whose centres lie at or after it.
    first_column = np.clip(np.ceil(x[crosses] - 0.5) - col0, 0, col1 - col0).astype(np.intp)
    flips = np.zeros((row1 - row0, col1 - col0 + 1), np.int32)
    np.add.at(flips, (lines, first_column), 1)
    inside = (np.cumsum(flips, axis=1)[:, :-1] % 2).astype(bool)
    return _paint(mask, (row0, col0, row1, col1), inside, value)


def fill_enclosed(mask: np.ndarray, point: Point) -> MaskEdit | None:
    """Fill what an outline encloses.

    On a component: fill its holes, everything inside its outer outline. On background: fill
    the background region under the click, bounded by the mask; None when that region reaches
    the image border (it is not enclosed), or when there is nothing to fill.
    """
    _check_mask(mask)
    pixel = _pixel_at(mask, point)
    if pixel is None:
        return None
    row, col = pixel
    if mask[row, col]:
        box, component = _region(mask, pixel, foreground=True)
        enclosed = _enclosed_by(component)
        return _paint(mask, box, enclosed, True)
    box, region = _region(mask, pixel, foreground=False)
    height, width = mask.shape
    row0, col0, row1, col1 = box
    if row0 == 0 or col0 == 0 or row1 == height or col1 == width:
        return None
    return _paint(mask, box, region, True)


def delete_component(mask: np.ndarray, point: Point) -> MaskEdit | None:
    """Erase the whole 8-connected component (lesion) under ``point``; None on background."""
    _check_mask(mask)
    pixel = _pixel_at(mask, point)
    if pixel is None or not mask[pixel]:
        return None
    box, component = _region(mask, pixel, foreground=True)
    return _paint(mask, box, component, False)


def replace_mask(mask: np.ndarray, new: np.ndarray) -> MaskEdit | None:
    """The edit that turns ``mask`` into ``new`` (same shape), limited to where they differ."""
    _check_mask(mask)
    new = np.asarray(new)
    if new.shape != mask.shape:
        raise ValueError(f"the new mask is {new.shape}, the mask {mask.shape}")
    return _trimmed((0, 0), mask, new.astype(bool, copy=False))


def combine_edits(edits: Sequence[MaskEdit], mask: np.ndarray) -> MaskEdit | None:
    """One edit equivalent to ``edits`` applied in order, given ``mask`` as it is after them
    (a brush stroke's segments becoming one undo step). None when they cancel out."""
    _check_mask(mask)
    if not edits:
        return None
    row0 = min(edit.bbox[0] for edit in edits)
    col0 = min(edit.bbox[1] for edit in edits)
    row1 = max(edit.bbox[2] for edit in edits)
    col1 = max(edit.bbox[3] for edit in edits)
    after = mask[row0:row1, col0:col1]
    before = after.copy()
    # Undo in reverse order: each edit's "before" is the state the earlier ones left.
    for edit in reversed(edits):
        r0, c0, r1, c1 = edit.bbox
        before[r0 - row0 : r1 - row0, c0 - col0 : c1 - col0] = edit.before
    return _trimmed((row0, col0), before, after)


# --------------------------------------------------------------------------------------------


def _check_mask(mask: np.ndarray) -> None:
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.ndim != 2:
        raise ValueError("the mask must be a 2-D bool array")


def _checked_point(point: Point) -> tuple[float, float]:
    x, y = (float(v) for v in point)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"a point must have finite coordinates, not {point}")
    return x, y


def _pixel_at(mask: np.ndarray, point: Point) -> tuple[int, int] | None:
    x, y = _checked_point(point)
    row, col = math.floor(y), math.floor(x)
    height, width = mask.shape
    return (row, col) if 0 <= row < height and 0 <= col < width else None


def _region(mask: np.ndarray, pixel: tuple[int, int], foreground: bool) -> tuple[Box, np.ndarray]:
    """The connected region of like pixels around ``pixel``: its box and its pixels there."""
    image = mask.astype(np.uint8)
    connectivity = 8 if foreground else 4
    seed = (pixel[1], pixel[0])
    _, _, _, (x, y, w, h) = cv2.floodFill(image, None, seed, 2, flags=connectivity)
    return (y, x, y + h, x + w), image[y : y + h, x : x + w] == 2


def _enclosed_by(component: np.ndarray) -> np.ndarray:
    """The component and every pixel its outer outline encloses (its holes)."""
    padded = np.pad(component, 1).astype(np.uint8)
    cv2.floodFill(padded, None, (0, 0), 2, flags=4)  # the outside, reached around the outline
    return (padded != 2)[1:-1, 1:-1]


def _paint(mask: np.ndarray, box: Box, where: np.ndarray, value: bool) -> MaskEdit | None:
    row0, col0, row1, col1 = box
    before = mask[row0:row1, col0:col1]
    after = before.copy()
    after[where] = value
    return _trimmed((row0, col0), before, after)


def _trimmed(origin: tuple[int, int], before: np.ndarray, after: np.ndarray) -> MaskEdit | None:
    """The edit from ``before`` to ``after`` (equal arrays whose first pixel is ``origin`` =
    (row, col) in the mask), cut down to the box of the pixels that differ; None if none do."""
    changed = before != after
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(changed[rows[0] : rows[-1] + 1].any(axis=0))
    r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return MaskEdit(
        (origin[0] + r0, origin[1] + c0, origin[0] + r1, origin[1] + c1),
        before[r0:r1, c0:c1],
        after[r0:r1, c0:c1],
    )
