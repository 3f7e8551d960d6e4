"""Each post-processing step does its job, and only when switched on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dsaviewer.core.postprocess import PostprocessConfig, postprocess_masks
from dsaviewer.errors import InputError

SHAPE = (60, 80)
ALL_OFF = PostprocessConfig(
    keep_largest_liver=False,
    fill_liver_holes=False,
    remove_tumors_off_liver=False,
    close_tumor_borders=False,
)


def prob(*rects, value=0.9) -> np.ndarray:
    """Probability map at ``value`` inside (row0, col0, row1, col1) rectangles, 0.1 outside."""
    array = np.full(SHAPE, 0.1, dtype=np.float32)
    for row0, col0, row1, col1 in rects:
        array[row0:row1, col0:col1] = value
    return array


def only(**switches) -> PostprocessConfig:
    return dataclasses.replace(ALL_OFF, **switches)


LIVER = prob((10, 10, 50, 50))
NO_TUMOR = prob()


def test_all_steps_off_is_plain_thresholding_at_or_above_the_threshold():
    tumor_prob = prob((20, 20, 25, 25), value=0.5)
    tumor, liver = postprocess_masks(tumor_prob, LIVER, threshold=0.5, config=ALL_OFF)
    assert tumor.dtype == bool and liver.dtype == bool
    np.testing.assert_array_equal(tumor, tumor_prob >= 0.5)
    np.testing.assert_array_equal(liver, LIVER >= 0.5)


def test_only_the_largest_liver_component_is_kept():
    liver_prob = prob((10, 10, 50, 50), (10, 60, 15, 65))
    _, liver = postprocess_masks(NO_TUMOR, liver_prob, config=only(keep_largest_liver=True))
    np.testing.assert_array_equal(liver, LIVER >= 0.5)
    _, untouched = postprocess_masks(NO_TUMOR, liver_prob, config=ALL_OFF)
    assert untouched[12, 62]


def test_enclosed_holes_are_filled_but_notches_open_to_the_border_are_not():
    liver_prob = prob((0, 10, 50, 50))
    liver_prob[20:30, 20:30] = 0.1  # enclosed hole
    liver_prob[0:5, 25:30] = 0.1  # notch open to the image top
    _, liver = postprocess_masks(NO_TUMOR, liver_prob, config=only(fill_liver_holes=True))
    assert liver[20:30, 20:30].all()
    assert not liver[0:5, 25:30].any()
    _, unfilled = postprocess_masks(NO_TUMOR, liver_prob, config=ALL_OFF)
    assert not unfilled[20:30, 20:30].any()


def test_a_hole_closed_only_diagonally_is_still_a_hole():
    # An 8-connected diamond outline: its inside touches the outside only across corners.
    liver_prob = np.full(SHAPE, 0.1, dtype=np.float32)
    centre, radius = (30, 40), 6
    for step in range(radius + 1):
        for dr, dc in ((step - radius, step), (step, radius - step)):
            for sign in (1, -1):
                liver_prob[centre[0] + sign * dr, centre[1] + sign * dc] = 0.9
    _, liver = postprocess_masks(NO_TUMOR, liver_prob, config=only(fill_liver_holes=True))
    assert liver[centre] and liver[centre[0] + 3, centre[1] + 2]
    assert not liver[centre[0] + radius, centre[1] + 1]


def test_tumors_are_kept_only_within_the_margin_of_the_liver():
    touching = {"remove_tumors_off_liver": True, "min_fraction_in_liver": 0.0}
    tumor_prob = prob(
        (20, 20, 25, 25),  # inside the liver
        (20, 52, 25, 55),  # 2 px right of the liver edge (column 49)
        (30, 55, 35, 58),  # 5 px away
        (40, 70, 45, 75),  # far away
    )
    tumor, _ = postprocess_masks(
        tumor_prob, LIVER, config=only(**touching, liver_contact_margin_px=3)
    )
    np.testing.assert_array_equal(tumor, prob((20, 20, 25, 25), (20, 52, 25, 55)) >= 0.5)
    wider, _ = postprocess_masks(
        tumor_prob, LIVER, config=only(**touching, liver_contact_margin_px=6)
    )
    assert wider[30:35, 55:58].all() and not wider[40:45, 70:75].any()
    kept, _ = postprocess_masks(tumor_prob, LIVER, config=ALL_OFF)
    assert kept[40:45, 70:75].all()


def test_a_blush_mostly_outside_the_liver_is_not_a_tumor():
    # Liver columns 10-49. A 10-px-wide blob straddling the edge with 3 of its columns in
    # the liver (a splenic or renal blush abutting it), one with 7 in (an exophytic HCC).
    abutting = (20, 47, 26, 57)
    exophytic = (32, 43, 38, 53)
    tumor_prob = prob(abutting, exophytic)
    margin = {"remove_tumors_off_liver": True, "liver_contact_margin_px": 0}
    tumor, _ = postprocess_masks(tumor_prob, LIVER, config=only(**margin))
    np.testing.assert_array_equal(tumor, prob(exophytic) >= 0.5)
    # 3/10 of the abutting blob lies in the liver: kept at a threshold of 0.3, not above it.
    at_03, _ = postprocess_masks(
        tumor_prob, LIVER, config=only(**margin, min_fraction_in_liver=0.3)
    )
    at_031, _ = postprocess_masks(
        tumor_prob, LIVER, config=only(**margin, min_fraction_in_liver=0.31)
    )
    assert at_03[20:26, 47:57].all() and not at_031[20:26, 47:57].any()
    with pytest.raises(InputError, match="min_fraction_in_liver"):
        postprocess_masks(tumor_prob, LIVER, config=only(min_fraction_in_liver=1.5))


def test_tumor_contact_is_judged_against_the_cleaned_liver():
    # The tumour touches only a small liver fragment, which step 1 removes.
    liver_prob = prob((10, 10, 50, 50), (10, 60, 15, 65))
    tumor_prob = prob((12, 66, 14, 70))
    cleaned = only(keep_largest_liver=True, remove_tumors_off_liver=True)
    tumor, _ = postprocess_masks(tumor_prob, liver_prob, config=cleaned)
    assert not tumor.any()
    raw, _ = postprocess_masks(tumor_prob, liver_prob, config=only(remove_tumors_off_liver=True))
    assert raw.any()


def test_without_a_liver_every_tumor_is_removed():
    tumor, liver = postprocess_masks(prob((20, 20, 25, 25)), NO_TUMOR)
    assert not liver.any() and not tumor.any()


def test_closing_bridges_a_narrow_gap_and_removes_nothing():
    tumor_prob = prob((20, 20, 30, 30))
    tumor_prob[24:26, 25:30] = 0.1  # a 2-pixel-wide slit into the lesion's right side
    tumor, _ = postprocess_masks(
        tumor_prob, LIVER, config=only(close_tumor_borders=True, closing_radius_px=2)
    )
    before = tumor_prob >= 0.5
    assert tumor[24:26, 25:29].all()
    assert (tumor | before).sum() == tumor.sum()  # nothing taken away
    assert tumor[20:30, 20:30].sum() > before.sum()
    open_slit, _ = postprocess_masks(tumor_prob, LIVER, config=ALL_OFF)
    assert not open_slit[24:26, 25:30].any()


def test_bad_inputs_are_refused():
    with pytest.raises(InputError, match="does not match"):
        postprocess_masks(np.zeros((10, 10), np.float32), np.zeros((10, 12), np.float32))
    with pytest.raises(InputError, match="float probabilities"):
        postprocess_masks(np.zeros((10, 10), np.uint8), np.zeros((10, 10), np.float32))
