"""Frame difference and the TDL temporal stack, on frames whose values are known."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dsaviewer.core.difference import frame_difference, temporal_stack
from dsaviewer.core.preprocess import FieldBox, ModelGeometry, mask_to_model, to_model
from dsaviewer.errors import InputError


def ramp(n_frames: int, step: int = 10, shape: tuple[int, int] = (6, 8)) -> np.ndarray:
    """Frame t is uniformly t * step (uint8), so any difference is known exactly."""
    return np.stack([np.full(shape, t * step, dtype=np.uint8) for t in range(n_frames)])


def test_difference_is_between_the_key_frame_and_nine_before() -> None:
    frames = ramp(20)
    difference = frame_difference(frames, key_index=15)
    assert difference.dtype == np.float32 and difference.shape == (6, 8)
    np.testing.assert_array_equal(difference, 90.0)
    np.testing.assert_array_equal(frame_difference(frames, 15, gap=3), 30.0)


def test_difference_is_clamped_at_the_first_frame() -> None:
    frames = ramp(20)
    np.testing.assert_array_equal(frame_difference(frames, key_index=4), 40.0)
    np.testing.assert_array_equal(frame_difference(frames, key_index=0), 0.0)


def test_difference_is_absolute_and_does_not_wrap() -> None:
    frames = ramp(12)[::-1].copy()  # getting darker: 110, 100, ... as contrast arrives
    np.testing.assert_array_equal(frame_difference(frames, key_index=11), 90.0)
    inverted = 255 - frames
    np.testing.assert_array_equal(frame_difference(inverted, 11), frame_difference(frames, 11))


def test_model_difference_shows_where_contrast_arrived() -> None:
    shape = (300, 400)
    field = FieldBox(20, 280, 30, 370)
    vessel = np.zeros(shape, dtype=np.uint8)
    cv2.line(vessel, (60, 60), (300, 220), 1, 8)
    vessel = vessel.astype(bool)
    rng = np.random.default_rng(0)
    frames = np.zeros((12, *shape), dtype=np.uint8)
    for t in range(12):
        field_values = 190.0 - 10.0 * t * vessel + rng.normal(0, 2, shape)
        frames[t][field.slices] = np.clip(field_values, 0, 255)[field.slices]
    geometry = ModelGeometry(field, shape)
    model = to_model(frames, geometry)

    difference = frame_difference(model, key_index=11)
    assert difference.shape == (256, 256) and difference.min() >= 0 and difference.max() <= 1
    on_vessel = mask_to_model(vessel, geometry)
    off_vessel = ~mask_to_model(
        cv2.dilate(vessel.astype(np.uint8), None, iterations=6).astype(bool), geometry
    )
    # Between k-9 and k the vessel darkened by 90 grey levels out of a 110-level window.
    assert np.median(difference[on_vessel]) > 0.6
    assert np.percentile(difference[off_vessel], 99) < 0.1


def test_temporal_stack_holds_the_ten_frames_up_to_the_key_frame() -> None:
    frames = ramp(20, step=1).astype(np.float32)
    stack = temporal_stack(frames, key_index=12)
    assert stack.shape == (10, 6, 8) and stack.dtype == np.float32
    np.testing.assert_array_equal(stack[:, 0, 0], np.arange(3, 13))


def test_temporal_stack_repeats_the_first_frame_when_the_video_is_short_of_it() -> None:
    frames = ramp(20, step=1).astype(np.float32)
    np.testing.assert_array_equal(
        temporal_stack(frames, key_index=4)[:, 0, 0], [0, 0, 0, 0, 0, 0, 1, 2, 3, 4]
    )
    np.testing.assert_array_equal(temporal_stack(frames, key_index=0)[:, 0, 0], [0] * 10)
    np.testing.assert_array_equal(temporal_stack(frames, 6, n=3)[:, 0, 0], [4, 5, 6])


def test_temporal_stack_is_a_copy() -> None:
    frames = ramp(12, step=1).astype(np.float32)
    stack = temporal_stack(frames, key_index=11)
    stack[:] = -1
    assert frames.min() == 0


@pytest.mark.parametrize("key", [-1, 20])
def test_a_key_frame_outside_the_video_is_refused(key: int) -> None:
    with pytest.raises(InputError, match="outside"):
        frame_difference(ramp(20), key)
    with pytest.raises(InputError, match="outside"):
        temporal_stack(ramp(20), key)


def test_bad_gap_and_depth_are_refused() -> None:
    with pytest.raises(InputError, match="gap"):
        frame_difference(ramp(20), 10, gap=0)
    with pytest.raises(InputError, match="depth"):
        temporal_stack(ramp(20), 10, n=0)
