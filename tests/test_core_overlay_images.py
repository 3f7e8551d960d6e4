"""The overlay images: masks and frame difference coloured once, at frame size."""

import numpy as np
import pytest

from dsaviewer.core.overlay_images import (
    LIVER_RGB,
    TUMOR_RGB,
    heat_rgba,
    make_overlays,
    mask_rgba,
)
from dsaviewer.errors import InputError


def test_mask_is_opaque_colour_inside_and_transparent_outside():
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:5] = True
    rgba = mask_rgba(mask, TUMOR_RGB)
    assert rgba.shape == (5, 7, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(rgba[mask], [[*TUMOR_RGB, 255]] * mask.sum())
    assert not rgba[~mask].any()


def test_heat_map_alpha_follows_the_change_and_saturates_at_the_scale():
    values = np.zeros((20, 20), np.float32)
    values[5, 5:15] = np.linspace(1, 10, 10)
    heat = heat_rgba(values)
    assert heat.scale_max == pytest.approx(np.percentile(values[values > 0], 99.5))
    assert heat.rgba[0, 0, 3] == 0  # no change: see-through
    alphas = heat.rgba[5, 5:15, 3]
    assert np.all(np.diff(alphas.astype(int)) >= 0) and alphas[-1] == 255
    assert heat.rgba[5, 14, :3].tolist() == [255, 255, 255]  # hot end of the map is white


def test_a_still_video_gives_an_empty_heat_map():
    heat = heat_rgba(np.zeros((4, 4), np.float32))
    assert not heat.rgba[..., 3].any()


def test_empty_masks_give_no_layer():
    empty = np.zeros((4, 4), bool)
    overlays = make_overlays(empty, np.ones((4, 4), bool), None)
    assert overlays.tumor is None and overlays.difference is None
    assert tuple(overlays.liver[0, 0]) == (*LIVER_RGB, 255)


def test_non_2d_input_is_refused():
    with pytest.raises(InputError):
        mask_rgba(np.zeros((2, 2, 2), bool), TUMOR_RGB)
