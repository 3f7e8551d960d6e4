"""Key-frame selection (DSA-LTDNet's rule) on sequences whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.keyframe import select_key_frame
from dsaviewer.core.preprocess import FieldBox
from dsaviewer.errors import InputError

SHAPE = (40, 50)


def moving(n_frames: int, seed: int = 0, amplitude: float = 20.0) -> np.ndarray:
    """Frames that all differ from one another (float32 noise around mid-grey)."""
    rng = np.random.default_rng(seed)
    return (128 + rng.normal(0, amplitude, (n_frames, *SHAPE))).astype(np.float32)


def pair_sum(frames: np.ndarray, j: int) -> float:
    return float(np.abs(frames[j + 1].astype(np.float64) - frames[j].astype(np.float64)).sum())


def test_contrast_fills_then_stays_then_the_patient_moves() -> None:
    rng = np.random.default_rng(3)
    vessels = rng.random(SHAPE) < 0.2
    frames = np.full((30, *SHAPE), 200.0, dtype=np.float32)
    for t in range(30):
        frames[t][vessels] -= 6.0 * min(t, 21)  # contrast fills until frame 21, then holds
    for step, t in enumerate(range(26, 30), start=1):
        frames[t] = np.roll(frames[t], shift=step, axis=1)  # the patient drifts from frame 26
    choice = select_key_frame(frames)
    # Frames 21-25 are identical: 22, 23 and 24 score 0; ties go to the earliest.
    assert choice.index == 22
    np.testing.assert_array_equal(choice.candidates, np.arange(15, 30))
    assert choice.score_of(22) == choice.score_of(24) == 0.0
    assert choice.score_of(21) > 0 and choice.score_of(25) > 0


def test_the_frame_between_two_still_pairs_wins_over_noise() -> None:
    frames = moving(30)
    frames[19] = frames[20] = frames[18]
    choice = select_key_frame(frames)
    assert choice.index == 19
    assert choice.score_of(19) == 0.0
    assert choice.score_of(18) == pytest.approx(pair_sum(frames, 17) / 2)


def test_scores_are_the_mean_of_the_two_neighbouring_pair_sums() -> None:
    frames = moving(20, seed=5, amplitude=5.0)
    choice = select_key_frame(frames)
    np.testing.assert_array_equal(choice.candidates, np.arange(5, 20))
    # The first candidate uses the pair just before the window; the last frame, with no pair
    # after it, has no score.
    assert choice.score_of(5) == pytest.approx((pair_sum(frames, 4) + pair_sum(frames, 5)) / 2)
    assert choice.score_of(12) == pytest.approx((pair_sum(frames, 11) + pair_sum(frames, 12)) / 2)
    assert np.isnan(choice.score_of(19))
    assert choice.index == int(choice.candidates[np.nanargmin(choice.scores)])


def test_a_still_stretch_before_the_window_is_not_chosen() -> None:
    frames = moving(30)
    frames[2:9] = frames[2]
    frames[24] = (frames[23] + frames[25]) / 2  # the quietest frame inside the window
    choice = select_key_frame(frames)
    assert choice.index == 24
    assert 2 not in choice.candidates


def test_the_last_frame_is_never_chosen_a_still_ending_gives_the_frame_before() -> None:
    frames = moving(20)
    frames[19] = frames[18]
    # Frame 18 sits between the moving pair (17, 18) and the still pair (18, 19): it has
    # the lowest two-sided score, while frame 19 has no pair after it.
    assert select_key_frame(frames).index == 18


def test_a_window_of_other_length() -> None:
    frames = moving(30)
    frames[12] = frames[13] = frames[11]
    frames[25] = (frames[24] + frames[26]) / 2
    assert select_key_frame(frames).index == 25  # 12 lies before the last 15
    choice = select_key_frame(frames, window=20)
    np.testing.assert_array_equal(choice.candidates, np.arange(10, 30))
    assert choice.index == 12


def test_short_videos_use_all_their_frames() -> None:
    frames = moving(6)
    frames[3] = frames[2]
    frames[4] = frames[2]
    choice = select_key_frame(frames)
    np.testing.assert_array_equal(choice.candidates, np.arange(6))
    assert choice.index == 3
    assert np.isnan(choice.score_of(0)) and np.isnan(choice.score_of(5))  # one neighbour each


def test_two_frames_tie_and_the_first_is_chosen() -> None:
    frames = moving(2)
    choice = select_key_frame(frames)
    assert choice.index == 0
    np.testing.assert_allclose(choice.scores, [pair_sum(frames, 0)] * 2, rtol=1e-6)


def test_one_frame_is_its_own_key_frame_without_a_score() -> None:
    choice = select_key_frame(moving(1))
    assert choice.index == 0
    np.testing.assert_array_equal(choice.candidates, [0])
    assert np.isnan(choice.scores[0])
    assert select_key_frame(moving(1)[0]).index == 0


def test_unsigned_frames_do_not_wrap_around() -> None:
    frames = np.clip(moving(20), 0, 255).astype(np.uint8)
    frames[16] = frames[15] // 2
    frames[17] = frames[16]
    choice = select_key_frame(frames)
    for index in (10, 16, 17):
        expected = (pair_sum(frames, index - 1) + pair_sum(frames, index)) / 2
        assert choice.score_of(index) == pytest.approx(expected)
    sixteen_bit = select_key_frame(frames.astype(np.uint16) * 64)
    np.testing.assert_allclose(sixteen_bit.scores, choice.scores * 64)


def test_a_changing_frame_counter_in_the_border_is_ignored_with_the_field() -> None:
    frames = moving(30, amplitude=2.0)
    field = FieldBox(10, 40, 0, 50)
    frames[20:22, 10:40] = frames[19, 10:40]
    rng = np.random.default_rng(9)
    frames[:, :10] = rng.integers(0, 2, (30, 10, 50)) * 255.0  # a flickering counter
    frames[26:29, :10] = frames[26, :10]  # it happens to stand still here
    assert select_key_frame(frames).index == 27
    assert select_key_frame(frames, field=field).index == 20


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(InputError, match="window"):
        select_key_frame(moving(5), window=0)
    with pytest.raises(InputError, match="shape"):
        select_key_frame(np.zeros((2, 3, 4, 5)))
    with pytest.raises(KeyError):
        select_key_frame(moving(30)).score_of(3)


def test_frames_before_the_contrast_arrives_are_passed_over_in_a_short_run() -> None:
    # A 10-frame run: frames 0-2 show the mask (noise alone), the vessels fill from frame 3
    # to 5 and stay. The stillest frames are those before the contrast, and the papers' rule
    # alone would take frame 1.
    rng = np.random.default_rng(4)
    vessels = rng.random(SHAPE) < 0.2
    frames = (128 + rng.normal(0, 1.0, (10, *SHAPE))).astype(np.float32)
    frames[1] = frames[2] = frames[0]
    for t in range(3, 10):
        frames[t][vessels] -= 20.0 * min(t - 2, 3)
    choice = select_key_frame(frames)
    assert int(choice.candidates[np.nanargmin(choice.scores)]) == 1
    assert choice.index >= 5
    np.testing.assert_array_equal(choice.candidates[choice.before_contrast], [0, 1, 2])


def test_a_still_noisy_run_has_no_frame_before_the_contrast() -> None:
    choice = select_key_frame(moving(12))
    assert not choice.before_contrast.any()
    assert choice.index == int(choice.candidates[np.nanargmin(choice.scores)])
