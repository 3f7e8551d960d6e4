"""Time-density curves of regions against a hand-made run with known curves, and the
standard tumor / liver / background regions."""

from __future__ import annotations

import numpy as np
import pytest
from test_core_parametric import EARLY, EVEN_TIMES, LATE, gamma_variate, hand_made_run

from dsaviewer.core.preprocess import FieldBox
from dsaviewer.core.time_density import curve_area, curve_peak, region_curves, standard_regions
from dsaviewer.errors import InputError


def region_mask(rows: slice, columns: slice, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[rows, columns] = True
    return mask


@pytest.mark.parametrize("inverted", [False, True])
def test_region_curves_follow_each_regions_contrast(inverted: bool) -> None:
    frames = hand_made_run(EVEN_TIMES, inverted)
    shape = frames.shape[1:]
    regions = {
        "early": region_mask(*EARLY[:2], shape),
        "late": region_mask(*LATE[:2], shape),
        "empty": np.zeros(shape, bool),
    }

    curves = region_curves(frames, regions, contrast_dark=not inverted, white_level=255.0)

    for name, (_, _, onset, peak, depth) in (("early", EARLY), ("late", LATE)):
        truth = gamma_variate(EVEN_TIMES, onset, peak, depth) / 255.0
        assert np.max(np.abs(curves[name] - truth)) < 0.01
        assert curve_peak(curves[name]) == pytest.approx(depth / 255.0, rel=0.05)
        assert curve_area(curves[name], EVEN_TIMES) == pytest.approx(
            float(np.sum((truth[1:] + truth[:-1]) * np.diff(EVEN_TIMES)) / 2), rel=0.05)
    assert np.isnan(curves["empty"]).all()
    assert np.isnan(curve_peak(curves["empty"]))


def test_a_mask_of_another_size_is_refused() -> None:
    frames = hand_made_run(EVEN_TIMES[:4])
    with pytest.raises(InputError, match="does not match"):
        region_curves(frames, {"tumor": np.ones((5, 5), bool)}, True, 255.0)


def test_standard_regions_take_the_tumor_out_of_the_liver_and_keep_a_gap() -> None:
    shape = (200, 200)
    liver = region_mask(slice(40, 160), slice(40, 160), shape)
    tumor = region_mask(slice(80, 100), slice(80, 100), shape)
    field = FieldBox(10, 190, 10, 190)

    regions = standard_regions(shape, tumor, liver, field)

    assert np.array_equal(regions["tumor"], tumor)
    assert regions["liver"].sum() == liver.sum() - tumor.sum()
    assert not (regions["liver"] & regions["tumor"]).any()
    background = regions["background"]
    assert not background[:10].any() and not background[:, 190:].any()  # outside the field
    assert not background[38:162, 38:162].any()  # the liver and a margin around it
    assert background[15, 15] and background[185, 100]
