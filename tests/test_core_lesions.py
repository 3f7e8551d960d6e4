"""Lesion extraction: sizes, diameters with anisotropic spacing, order, uncertainty, outline."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from dsaviewer.core.lesions import (
    DEFAULT_MIN_AREA_MM2,
    DEFAULT_MIN_AREA_PX,
    MinLesionSize,
    extract_lesions,
)
from dsaviewer.errors import InputError


def every_lesion(*args, **options):
    """extract_lesions without its minimum size, for tests of tiny masks."""
    return extract_lesions(*args, min_area_mm2=0, min_area_px=0, **options)


def rect_mask(shape, *rects) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for row0, col0, row1, col1 in rects:
        mask[row0:row1, col0:col1] = True
    return mask


def test_rectangle_measures_with_anisotropic_spacing():
    mask = rect_mask((30, 40), (5, 10, 11, 18))  # 6 rows x 8 columns
    (lesion,) = every_lesion(mask, pixel_spacing_mm=(0.5, 2.0))
    assert lesion.number == 1
    assert lesion.area_px == 48
    assert lesion.area_mm2 == pytest.approx(48 * 0.5 * 2.0)
    # Pixels as squares: the diagonal of a 6x8-pixel rectangle is 10 px; in mm the rectangle
    # is 3 mm by 16 mm.
    assert lesion.longest_diameter_px == pytest.approx(10.0)
    assert lesion.longest_diameter_mm == pytest.approx(math.hypot(3.0, 16.0))
    assert lesion.centroid == pytest.approx((7.5, 13.5))
    assert lesion.bbox == (5, 10, 11, 18)
    assert set(lesion.contour) == {(5, 10), (5, 17), (10, 10), (10, 17)}


def test_diagonal_line_is_one_lesion_measured_corner_to_corner():
    mask = np.eye(10, dtype=bool)
    (lesion,) = every_lesion(mask, pixel_spacing_mm=(2.0, 1.0))
    # From the outer corner of pixel (0, 0) to that of pixel (9, 9): 10 x 10 px, 20 x 10 mm.
    assert lesion.longest_diameter_px == pytest.approx(10 * math.sqrt(2))
    assert lesion.longest_diameter_mm == pytest.approx(math.hypot(20.0, 10.0))


def test_without_spacing_mm_fields_are_none():
    (lesion,) = every_lesion(rect_mask((10, 10), (2, 2, 5, 5)))
    assert lesion.area_mm2 is None and lesion.longest_diameter_mm is None


def test_disc_diameter_is_close_to_its_width():
    mask = cv2.circle(np.zeros((60, 60), np.uint8), (30, 30), 10, 1, -1).astype(bool)
    (lesion,) = every_lesion(mask)
    assert 21.0 <= lesion.longest_diameter_px <= 22.0  # 21 pixels across, pixel corners
    assert lesion.centroid == pytest.approx((30.0, 30.0))


def test_contour_redraws_a_convex_lesion_exactly():
    mask = cv2.circle(np.zeros((60, 60), np.uint8), (25, 33), 12, 1, -1).astype(bool)
    (lesion,) = every_lesion(mask)
    outline = np.array([(col, row) for row, col in lesion.contour], dtype=np.int32)
    redrawn = cv2.fillPoly(np.zeros((60, 60), np.uint8), [outline], 1).astype(bool)
    np.testing.assert_array_equal(redrawn, mask)


def test_lesions_are_numbered_by_area_with_ties_in_raster_order():
    mask = rect_mask(
        (40, 40),
        (30, 2, 33, 5),  # 9 px, lower left
        (2, 30, 5, 33),  # 9 px, upper right: first in raster order among the ties
        (10, 10, 20, 20),  # 100 px
    )
    lesions = every_lesion(mask)
    assert [lesion.number for lesion in lesions] == [1, 2, 3]
    assert [lesion.area_px for lesion in lesions] == [100, 9, 9]
    assert [lesion.bbox[:2] for lesion in lesions] == [(10, 10), (2, 30), (30, 2)]
    assert every_lesion(mask) == lesions


def test_numbering_follows_area_then_raster_order_on_a_large_image():
    # OpenCV labels large images in parallel strips, so its own numbering depends on the
    # thread count; lesion numbers must not.
    mask = np.random.default_rng(0).random((400, 400)) < 0.01  # ~1500 specks, most 1 px
    lesions = every_lesion(mask)
    # A lesion's first pixel in raster order starts its outline, so it is min(contour).
    keys = [(-lesion.area_px, min(lesion.contour)) for lesion in lesions]
    assert len(lesions) > 1000
    assert keys == sorted(keys)


def test_pixels_touching_at_a_corner_are_one_lesion():
    mask = rect_mask((10, 10), (1, 1, 3, 3), (3, 3, 5, 5))
    assert len(every_lesion(mask)) == 1


def test_uncertainty_is_one_minus_the_mean_probability_and_flags_doubtful_lesions():
    mask = rect_mask((40, 40), (2, 2, 12, 12), (20, 20, 24, 24))
    prob = np.zeros((40, 40), dtype=np.float32)
    prob[2:12, 2:12] = 0.9
    prob[20:24, 20:24] = 0.5
    prob[20:22, 20:24] = 0.7  # the small lesion averages 0.6
    confident, doubtful = every_lesion(mask, prob)
    assert confident.uncertainty == pytest.approx(0.1)
    assert doubtful.mean_probability == pytest.approx(0.6)
    assert doubtful.uncertainty == pytest.approx(0.4)
    assert (confident.flagged, doubtful.flagged) == (False, True)
    strict = every_lesion(mask, prob, uncertainty_threshold=0.05)
    assert all(lesion.flagged for lesion in strict)


def test_without_probabilities_nothing_is_flagged():
    (lesion,) = every_lesion(rect_mask((10, 10), (2, 2, 5, 5)))
    assert lesion.uncertainty is None and lesion.mean_probability is None
    assert not lesion.flagged


def test_empty_mask_has_no_lesions():
    assert every_lesion(np.zeros((10, 10), dtype=bool)) == []


def test_bad_inputs_are_refused():
    mask = rect_mask((10, 10), (2, 2, 5, 5))
    with pytest.raises(InputError, match=r"within \[0, 1\]"):
        every_lesion(mask, np.full((10, 10), 3.0))
    with pytest.raises(InputError, match="does not match"):
        every_lesion(mask, np.zeros((10, 11)))
    with pytest.raises(InputError, match="threshold probabilities"):
        every_lesion(np.full((10, 10), 0.7))
    with pytest.raises(InputError, match="pixel spacing"):
        every_lesion(mask, pixel_spacing_mm=(1.0, -1.0))


def test_specks_below_the_minimum_size_are_not_lesions():
    # 40 px, 12 px and a 9-px and a 1-px speck
    mask = rect_mask((40, 40), (0, 0, 5, 8), (20, 20, 23, 24), (30, 30, 33, 33), (38, 38, 39, 39))
    assert DEFAULT_MIN_AREA_PX == 10
    assert [lesion.area_px for lesion in extract_lesions(mask)] == [40, 12]
    assert [lesion.number for lesion in extract_lesions(mask)] == [1, 2]
    # With a spacing the limit is an area: at 0.5 mm/px, 12 px = 3 mm² < 4 mm².
    assert DEFAULT_MIN_AREA_MM2 == 4.0
    (big,) = extract_lesions(mask, pixel_spacing_mm=(0.5, 0.5))
    assert big.area_mm2 == pytest.approx(10.0)
    assert len(extract_lesions(mask, pixel_spacing_mm=(0.5, 0.5), min_area_mm2=2.0)) == 3
    assert len(extract_lesions(mask, min_area_px=1)) == 4
    with pytest.raises(ValueError, match=">= 0"):
        extract_lesions(mask, min_area_px=-1)


def test_a_minimum_lesion_size_is_an_area_of_zero_or_more():
    assert MinLesionSize() == MinLesionSize(DEFAULT_MIN_AREA_MM2, DEFAULT_MIN_AREA_PX)
    assert MinLesionSize(0.0, 0) == MinLesionSize(area_mm2=0.0, area_px=0)
    for wrong in ({"area_mm2": -1.0}, {"area_mm2": math.inf}, {"area_mm2": math.nan},
                  {"area_px": -1}, {"area_px": 2.5}, {"area_px": True}):
        with pytest.raises(ValueError, match="minimum lesion area"):
            MinLesionSize(**wrong)
