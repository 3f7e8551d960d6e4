"""Masks of drawn regions: their pixels, clipping at the image edge and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.roi_masks import roi_mask
from dsaviewer.errors import InputError


def test_rectangle_covers_its_corners_inclusive_in_either_order() -> None:
    mask = roi_mask("rectangle", np.array([[30, 20], [10, 5]]), (40, 50))

    assert mask.sum() == (20 - 5 + 1) * (30 - 10 + 1)
    assert mask[5, 10] and mask[20, 30] and not mask[21, 30] and not mask[5, 31]


def test_ellipse_has_the_area_of_its_box() -> None:
    mask = roi_mask("ellipse", np.array([[10, 10], [70, 40]]), (60, 90))

    assert mask.sum() == pytest.approx(np.pi * 30 * 15, rel=0.03)
    assert mask[25, 40] and not mask[10, 10]


def test_polygon_and_clipping_at_the_edge() -> None:
    triangle = roi_mask("polygon", np.array([[0, 0], [40, 0], [0, 40]]), (30, 30))

    assert triangle[0, 0] and triangle[29, 0] and not triangle[29, 29]
    outside = roi_mask("rectangle", np.array([[-20, -20], [-5, -5]]), (30, 30))
    assert not outside.any()


def test_bad_regions_are_refused() -> None:
    with pytest.raises(InputError, match="3 or more"):
        roi_mask("polygon", np.array([[0, 0], [1, 1]]), (5, 5))
    with pytest.raises(InputError, match="unknown region kind"):
        roi_mask("star", np.array([[0, 0], [1, 1]]), (5, 5))
