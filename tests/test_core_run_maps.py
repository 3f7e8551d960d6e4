"""The run maps a liver network reads beside the frame stack: the maximum and mean
enhancement over the first frame, computed by hand on small clips."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.run_maps import RUN_MAPS, run_maps
from dsaviewer.errors import InputError
from dsaviewer.models import RUN_MAP_CHANNELS


def test_a_blush_outside_the_key_frames_window_is_in_the_maps() -> None:
    clip = np.full((5, 4, 4), 0.2, np.float32)
    clip[1:3, 0, 0] += np.float32(0.5)  # a blush in frames 1 and 2 only
    clip[4, 3, 3] = 0.1  # a pixel that gets darker at the end
    maximum, mean = run_maps(clip)
    assert len(RUN_MAPS) == RUN_MAP_CHANNELS == 2  # what the models read is what core makes
    assert maximum[0, 0] == pytest.approx(0.5)
    assert mean[0, 0] == pytest.approx(1.0 / 5)  # 0 + 0.5 + 0.5 + 0 + 0 over 5 frames
    assert maximum[3, 3] == 0.0  # frame 0 counts: the maximum is never below zero
    assert mean[3, 3] == pytest.approx(-0.1 / 5)
    assert np.count_nonzero(maximum) == 1


def test_the_mean_averages_the_noise_down_and_keeps_a_faint_blush() -> None:
    rng = np.random.default_rng(0)
    clip = 0.3 + rng.normal(0.0, 0.05, (40, 32, 32)).astype(np.float32)
    clip[:, :16, :] += np.float32(0.02)  # fainter than one frame's noise
    clip[0] = 0.3  # a clean baseline so the comparison below is about the frames only
    _, mean = run_maps(clip)
    assert mean[:16].mean() - mean[16:].mean() == pytest.approx(0.02 * 39 / 40, abs=0.004)
    assert mean[16:].std() < 0.05 / 4


def test_a_one_frame_run_has_no_enhancement() -> None:
    maps = run_maps(np.full((8, 8), 0.7, np.float32))
    assert maps.shape == (2, 8, 8) and maps.dtype == np.float32 and not maps.any()


def test_a_clip_that_is_not_a_frame_stack_is_refused() -> None:
    with pytest.raises(InputError, match="frames_model"):
        run_maps(np.zeros((2, 3, 4, 5), np.float32))
