"""Optical flow and background subtraction channels (the paper's Table 2 alternatives)."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.alternative_inputs import (
    background_subtraction,
    optical_flow_magnitude,
    temporal_channel,
)
from dsaviewer.errors import InputError

SIZE = 64


def textured_background(seed: int = 0) -> np.ndarray:
    """Smooth, textured [0, 1] frame so flow has structure to track."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    rng = np.random.default_rng(seed)
    noise = rng.random((SIZE, SIZE), dtype=np.float32) * 0.05
    return (0.4 + 0.1 * np.sin(x / 5) * np.cos(y / 7) + noise).astype(np.float32)


def blob(cx: float, cy: float, radius: float = 6.0) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * radius**2)).astype(np.float32)


def test_optical_flow_is_bright_where_the_stain_moved() -> None:
    prev = np.clip(0.2 + 0.7 * blob(28, 32), 0, 1).astype(np.float32)
    key = np.clip(0.2 + 0.7 * blob(32, 32), 0, 1).astype(np.float32)
    flow = optical_flow_magnitude(prev, key)
    assert flow.dtype == np.float32 and flow.shape == (SIZE, SIZE)
    assert flow.min() >= 0 and flow.max() == pytest.approx(1.0)
    assert flow[28:37, 26:35].mean() > 0.5
    assert flow[:8, :8].max() < 0.05


def test_optical_flow_of_a_still_run_is_dark() -> None:
    # Farnebäck reports a few hundredths of a pixel of flow between identical frames; it must
    # stay near zero rather than be stretched to full scale.
    frame = textured_background()
    assert optical_flow_magnitude(frame, frame.copy()).max() < 0.05


def test_optical_flow_refuses_mismatched_or_integer_frames() -> None:
    frame = textured_background()
    with pytest.raises(InputError, match="shapes differ"):
        optical_flow_magnitude(frame, frame[:32])
    with pytest.raises(InputError, match="float frames") as caught:
        optical_flow_magnitude((frame * 255).astype(np.uint8), frame)
    assert caught.value.source == "prev"


def test_background_subtraction_finds_what_appeared_at_the_key_frame() -> None:
    background = textured_background()
    frames = [background.copy() for _ in range(9)]
    key = background.copy()
    key[20:32, 24:36] = 0.95  # a tumor stain that was not there before
    frames.append(key)
    frames.append(np.zeros_like(key))  # frames after the key frame are not used

    mask = background_subtraction(np.stack(frames), key_index=9)
    assert mask.dtype == np.float32 and mask.shape == (SIZE, SIZE)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert mask[20:32, 24:36].mean() > 0.9
    outside = np.ones_like(mask, dtype=bool)
    outside[20:32, 24:36] = False
    assert mask[outside].mean() < 0.01


def test_background_subtraction_needs_a_frame_before_the_key_frame() -> None:
    frames = np.stack([textured_background(), textured_background(1)])
    with pytest.raises(InputError, match="at least one frame before"):
        background_subtraction(frames, key_index=0)
    with pytest.raises(InputError, match="key frame index 2"):
        background_subtraction(frames, key_index=2)


def test_background_subtraction_refuses_non_model_frames() -> None:
    frames = np.stack([textured_background(), textured_background(1)])
    with pytest.raises(InputError, match="float frames") as caught:
        background_subtraction((frames * 255).astype(np.uint8), key_index=1)
    assert caught.value.source == "frames"
    frames[1, 3, 3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        background_subtraction(frames, key_index=1)


def test_temporal_channel_gives_each_mode_its_input():
    rng = np.random.default_rng(3)
    frames = rng.random((12, 32, 32), dtype=np.float32)
    assert np.array_equal(temporal_channel("fd", frames, 11), np.abs(frames[11] - frames[2]))
    assert np.array_equal(
        temporal_channel("optical_flow", frames, 11), optical_flow_magnitude(frames[2], frames[11])
    )
    assert np.array_equal(
        temporal_channel("background_subtraction", frames, 5), background_subtraction(frames, 5)
    )
    assert not temporal_channel("background_subtraction", frames, 0).any()
    assert temporal_channel("tdl", frames, 11) is None
    assert temporal_channel("none", frames, 11) is None
