"""Window/level maths of the viewer: default window, right-drag, display grey."""

import numpy as np
import pytest

from dsaviewer.core.preprocess import FieldBox
from dsaviewer.core.window_level import (
    apply_window,
    default_window,
    dragged_window,
    grey_histogram,
)


def test_default_window_spans_the_field_not_the_border():
    anatomy = np.tile(np.linspace(80, 180, 48).astype(np.uint8), (3, 64, 1))
    frames = np.zeros((3, 64, 64), np.uint8)
    frames[:, :, 8:56] = anatomy  # a quarter of the frame is collimator border
    frames[:, 0, 60] = 255  # a hot pixel in the border
    low, high = default_window(frames, FieldBox(0, 64, 8, 56))
    assert 80 <= low < 90 and 170 < high <= 180
    assert default_window(frames)[0] == 0  # the whole frame: the border sets the black


def test_flat_clip_still_gets_a_usable_window():
    low, high = default_window(np.full((2, 16, 16), 7, np.uint16))
    assert high > low == 7


def test_horizontal_drag_widens_about_the_same_centre_vertical_moves_the_level():
    wider = dragged_window((100.0, 200.0), dx_px=64, dy_px=0, value_range=255)
    assert wider[1] - wider[0] > 100 and sum(wider) / 2 == pytest.approx(150)
    lower = dragged_window((100.0, 200.0), dx_px=0, dy_px=-64, value_range=255)
    assert lower[1] - lower[0] == pytest.approx(100) and sum(lower) / 2 < 150


def test_drag_sensitivity_follows_the_value_range_and_width_stays_positive():
    eight_bit = dragged_window((0.0, 100.0), 10, 0, 255)
    twelve_bit = dragged_window((0.0, 100.0), 10, 0, 4095)
    assert (twelve_bit[1] - twelve_bit[0]) - 100 == pytest.approx(
        16.06 * ((eight_bit[1] - eight_bit[0]) - 100), rel=1e-2)
    narrow = dragged_window((0.0, 100.0), -10_000, 0, 255)
    assert narrow[1] > narrow[0]


def test_apply_window_maps_low_to_black_high_to_white_and_inverts():
    frame = np.array([[0, 50, 100, 150, 200]], np.uint16)
    np.testing.assert_array_equal(apply_window(frame, (50, 150)), [[0, 0, 127, 255, 255]])
    np.testing.assert_array_equal(apply_window(frame, (50, 150), inverted=True),
                                  [[255, 255, 128, 0, 0]])


def test_histogram_covers_the_clip_values():
    frames = np.zeros((2, 32, 32), np.uint8)
    frames[:, :16] = 200
    centres, counts = grey_histogram(frames, bins=10)
    assert counts.sum() == 2 * 8 * 8
    assert centres[0] < 20 and centres[-1] > 180
    assert counts[0] == counts[-1] == 64
