"""Mask edit operations: what each paints, that it only records (and only touches) its changed
region, and that the records undo and redo exactly."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from dsaviewer.core.binary_masks import label_components
from dsaviewer.core.mask_editing import (
    MIN_BRUSH_RADIUS,
    MaskEdit,
    brush_segment,
    combine_edits,
    delete_component,
    fill_enclosed,
    polygon_edit,
    replace_mask,
)


def applied(mask: np.ndarray, edit: MaskEdit | None) -> np.ndarray:
    result = mask.copy()
    if edit is not None:
        edit.apply(result)
    return result


def changed_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(before != after)
    return int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1


def sampled_capsule(shape, start, end, radius) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every pixel centre to the segment, by dense sampling of the segment (not
    the projection formula under test), and how far off the sampling may be."""
    (x0, y0), (x1, y1) = start, end
    steps = max(2, int(math.hypot(x1 - x0, y1 - y0) / 0.01))
    t = np.linspace(0.0, 1.0, steps)
    xs, ys = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    centres = np.stack([cols.ravel() + 0.5, rows.ravel() + 0.5], axis=1)
    distance = np.full(len(centres), np.inf)
    for chunk in np.array_split(np.arange(len(xs)), max(1, len(xs) // 500)):
        d = np.hypot(centres[:, :1] - xs[chunk], centres[:, 1:] - ys[chunk]).min(axis=1)
        distance = np.minimum(distance, d)
    return distance.reshape(shape), 0.01


# --- brush and eraser -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "radius"),
    [
        ((10.3, 12.7), (41.9, 30.2), 4.0),
        ((20.0, 20.0), (20.0, 20.0), 6.5),  # a click: a disc
        ((5.5, 30.5), (55.5, 30.5), 0.5),  # the thinnest brush, along pixel centres
        ((-6.0, 8.0), (12.0, -3.0), 7.0),  # partly off the image
    ],
)
def test_brush_paints_the_capsule_around_the_segment(start, end, radius):
    mask = np.zeros((48, 64), bool)
    edit = brush_segment(mask, start, end, radius)
    painted = applied(mask, edit)
    distance, error = sampled_capsule(mask.shape, start, end, radius)
    clear_in, clear_out = distance <= radius - error, distance > radius + error
    assert painted[clear_in].all()
    ends = {(math.floor(y), math.floor(x)) for x, y in (start, end)}
    outside = painted & clear_out
    assert {tuple(p) for p in np.argwhere(outside)} <= ends  # only the pixels under the ends
    assert not mask.any()  # the operation itself never touches the mask


def test_a_click_always_marks_the_pixel_under_it_even_at_a_pixel_corner():
    mask = np.zeros((10, 10), bool)
    edit = brush_segment(mask, (4.0, 6.0), (4.0, 6.0), MIN_BRUSH_RADIUS)
    assert edit is not None and edit.bbox == (6, 4, 7, 5)
    assert applied(mask, edit)[6, 4] and edit.changed_pixels == 1


def test_a_fast_stroke_leaves_no_gap_between_its_samples():
    mask = np.zeros((100, 200), bool)
    samples = [(5.2, 10.1), (90.7, 80.3), (190.1, 15.8)]  # far apart, as a quick flick
    for start, end in zip(samples, samples[1:], strict=False):
        brush_segment(mask, start, end, 1.0).apply(mask)
    count, _ = label_components(mask)
    assert count == 1
    for x, y in samples:
        assert mask[math.floor(y), math.floor(x)]


def test_eraser_clears_only_the_capsule_and_records_only_changed_pixels():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 5:35] = True
    edit = brush_segment(mask, (0.0, 20.0), (40.0, 20.0), 2.0, value=False)
    erased = applied(mask, edit)
    assert not erased[18:22, 5:35].any() and erased[10:17, 5:35].all()
    assert edit.bbox == changed_box(mask, erased)  # the 30-wide band, not the 40-wide stroke
    assert edit.changed_pixels == np.count_nonzero(mask != erased)
    assert brush_segment(erased, (0.0, 20.0), (40.0, 20.0), 2.0, value=False) is None


@pytest.mark.parametrize("radius", [0.0, 0.49, -1.0, math.nan, math.inf])
def test_brush_refuses_radii_that_could_paint_nothing(radius):
    with pytest.raises(ValueError, match="radius"):
        brush_segment(np.zeros((5, 5), bool), (1, 1), (2, 2), radius)


def test_operations_refuse_masks_that_are_not_2d_bool():
    with pytest.raises(ValueError, match="bool"):
        brush_segment(np.zeros((5, 5), np.uint8), (1, 1), (2, 2), 1.0)
    with pytest.raises(ValueError, match="bool"):
        fill_enclosed(np.zeros((5, 5, 2), bool), (1, 1))


# --- polygons ---------------------------------------------------------------------------------


def test_polygon_takes_the_pixels_whose_centres_lie_inside():
    mask = np.zeros((12, 12), bool)
    square = [(2, 3), (8, 3), (8, 7), (2, 7)]  # corners on pixel corners: 6 x 4 pixels
    filled = applied(mask, polygon_edit(mask, square))
    expected = np.zeros_like(mask)
    expected[3:7, 2:8] = True
    assert np.array_equal(filled, expected)


def test_random_polygons_match_a_point_in_polygon_test():
    rng = np.random.default_rng(3)
    height, width = 40, 50
    for _ in range(25):
        count = int(rng.integers(3, 12))
        angles = np.sort(rng.uniform(0, 2 * np.pi, count))
        radii = rng.uniform(4, 30, count)
        centre = rng.uniform(-5, 55, 2)
        vertices = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radii[:, None]
        filled = applied(np.zeros((height, width), bool), polygon_edit(
            np.zeros((height, width), bool), vertices.tolist()
        ))
        contour = vertices.astype(np.float32).reshape(-1, 1, 2)
        for row in range(height):
            for col in range(width):
                distance = cv2.pointPolygonTest(contour, (col + 0.5, row + 0.5), True)
                if abs(distance) > 1e-3:  # centres on the outline may go either way
                    assert filled[row, col] == (distance > 0), (vertices, row, col)


def test_polygon_subtract_cuts_out_and_a_self_crossing_outline_follows_even_odd():
    mask = np.ones((30, 30), bool)
    cut = applied(mask, polygon_edit(mask, [(5, 5), (25, 5), (25, 25)], value=False))
    assert not cut[6, 20] and cut[20, 6]
    # A bow tie: its two lobes are filled, the crossing point is where they meet.
    bow = applied(
        np.zeros((30, 30), bool),
        polygon_edit(np.zeros((30, 30), bool), [(2, 2), (28, 28), (28, 2), (2, 28)]),
    )
    assert bow[15, 5] and bow[15, 24] and not bow[4, 15] and not bow[25, 15]


def test_polygon_needs_three_finite_corners_and_may_miss_the_image():
    mask = np.zeros((10, 10), bool)
    with pytest.raises(ValueError, match="3 vertices"):
        polygon_edit(mask, [(1, 1), (5, 5)])
    with pytest.raises(ValueError, match="finite"):
        polygon_edit(mask, [(1, 1), (5, 5), (math.nan, 2)])
    assert polygon_edit(mask, [(20, 20), (30, 20), (30, 30)]) is None


# --- fill and delete --------------------------------------------------------------------------


def ring_mask() -> np.ndarray:
    mask = np.zeros((60, 60), np.uint8)
    cv2.circle(mask, (30, 30), 15, 1, 2)
    return mask.astype(bool)


def test_fill_inside_a_closed_outline_fills_what_it_encloses():
    ring = ring_mask()
    filled = applied(ring, fill_enclosed(ring, (30.5, 30.5)))
    # What the ring's outer contour encloses, drawn filled.
    contours, _ = cv2.findContours(ring.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    disc = cv2.drawContours(np.zeros((60, 60), np.uint8), contours, -1, 1, -1).astype(bool)
    assert disc.sum() > ring.sum() + 500  # the inside is most of it
    assert np.array_equal(filled, disc)
    # Clicking the outline itself fills its holes: the same result.
    assert np.array_equal(applied(ring, fill_enclosed(ring, (45.5, 30.5))), disc)


def test_fill_outside_every_outline_does_nothing():
    ring = ring_mask()
    assert fill_enclosed(ring, (2.5, 2.5)) is None
    assert fill_enclosed(ring, (-3.0, 2.0)) is None  # off the image
    solid = np.zeros((20, 20), bool)
    solid[5:10, 5:10] = True
    assert fill_enclosed(solid, (7.5, 7.5)) is None  # a lesion without holes


def test_a_diagonal_only_outline_still_encloses():
    mask = np.zeros((30, 30), np.uint8)
    diamond = np.array([[15, 3], [27, 15], [15, 27], [3, 15]])
    cv2.polylines(mask, [diamond], True, 1, lineType=cv2.LINE_8)  # corner-touching steps
    mask = mask.astype(bool)
    filled = applied(mask, fill_enclosed(mask, (15.5, 15.5)))
    assert filled[15, 15] and filled[10, 15] and not filled[3, 3]
    assert label_components(filled)[0] == 1


def test_delete_lesion_removes_exactly_the_8_connected_component_clicked():
    mask = np.zeros((30, 30), bool)
    mask[5:10, 5:10] = True
    mask[10, 10] = True  # touches the square at a corner: the same lesion
    mask[20:25, 20:25] = True
    count, components = label_components(mask)
    assert count == 2
    kept = applied(mask, delete_component(mask, (6.5, 6.5)))
    assert np.array_equal(kept, components == components[22, 22])
    assert delete_component(mask, (15.5, 15.5)) is None  # background


# --- records: undo and redo exactly -----------------------------------------------------------


def random_edit(rng, mask) -> MaskEdit | None:
    height, width = mask.shape
    point = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
    kind = int(rng.integers(5))
    if kind == 0:
        other = (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
        return brush_segment(mask, point, other, float(rng.uniform(0.5, 6)), bool(rng.integers(2)))
    if kind == 1:
        corners = rng.uniform(-5, max(height, width) + 5, (int(rng.integers(3, 7)), 2))
        return polygon_edit(mask, corners.tolist(), bool(rng.integers(2)))
    if kind == 2:
        return fill_enclosed(mask, point)
    if kind == 3:
        return delete_component(mask, point)
    return replace_mask(mask, rng.random(mask.shape) < 0.3)


def test_records_of_any_edit_sequence_undo_and_redo_exactly():
    rng = np.random.default_rng(11)
    mask = rng.random((37, 53)) < 0.2
    states, edits = [mask.copy()], []
    for _ in range(120):
        edit = random_edit(rng, mask)
        if edit is None:
            continue
        assert edit.bbox == changed_box(mask, applied(mask, edit))
        edit.apply(mask)
        states.append(mask.copy())
        edits.append(edit)
    assert len(edits) > 60
    for edit, state in zip(reversed(edits), reversed(states[:-1]), strict=True):
        edit.revert(mask)
        assert np.array_equal(mask, state)
    for edit, state in zip(edits, states[1:], strict=True):
        edit.apply(mask)
        assert np.array_equal(mask, state)


def test_a_stroke_combines_into_one_exact_record_of_its_changed_region():
    rng = np.random.default_rng(5)
    original = rng.random((80, 90)) < 0.1
    mask = original.copy()
    segments = []
    points = rng.uniform(0, 85, (30, 2))
    for start, end in zip(points, points[1:], strict=False):
        # overlapping segments, some painting, some erasing what others painted
        edit = brush_segment(mask, tuple(start), tuple(end), 3.0, bool(rng.integers(3)))
        if edit is not None:
            edit.apply(mask)
            segments.append(edit)
    stroke = combine_edits(segments, mask)
    assert stroke.bbox == changed_box(original, mask)
    assert np.array_equal(applied(original, stroke), mask)
    undone = mask.copy()
    stroke.revert(undone)
    assert np.array_equal(undone, original)


def test_edits_that_cancel_out_combine_to_nothing():
    mask = np.zeros((20, 20), bool)
    paint = brush_segment(mask, (5, 5), (15, 5), 2.0)
    paint.apply(mask)
    erase = brush_segment(mask, (5, 5), (15, 5), 2.0, value=False)
    erase.apply(mask)
    assert combine_edits([paint, erase], mask) is None
    assert combine_edits([], mask) is None


def test_replace_mask_records_only_where_the_masks_differ():
    mask = np.zeros((100, 100), bool)
    new = mask.copy()
    new[40:45, 60:62] = True
    edit = replace_mask(mask, new)
    assert edit.bbox == (40, 60, 45, 62) and edit.changed_pixels == 10
    assert replace_mask(mask, mask.copy()) is None
    with pytest.raises(ValueError, match="new mask"):
        replace_mask(mask, np.zeros((10, 10), bool))


def test_records_are_bit_packed():
    mask = np.zeros((1024, 1024), bool)
    edit = replace_mask(mask, ~mask)
    assert edit.nbytes == 2 * 1024 * 1024 // 8
    with pytest.raises(ValueError, match="outside"):
        edit.apply(np.zeros((10, 10), bool))
