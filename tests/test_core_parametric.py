"""Parametric maps against hand-made runs whose arrival and peak per region are known, in
either display polarity and with irregular frame times; frame times from DICOM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from dsaviewer.core.parametric import MAP_NAMES, frame_times, parametric_maps
from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder

SIDE = 160
BORDER = 12  # black collimator rows and columns around the field
LEVEL = 180.0  # grey of the empty field
NOISE = 2.0
# (rows, columns, onset s, peak s, depth in grey levels) of each region's contrast.
EARLY = (slice(30, 60), slice(30, 60), 1.0, 2.5, 60.0)
LATE = (slice(90, 130), slice(90, 130), 4.0, 7.0, 35.0)
EMPTY = (slice(30, 60), slice(100, 140))  # never opacified


def gamma_variate(times: np.ndarray, onset: float, peak: float, depth: float) -> np.ndarray:
    """Zero before ``onset``, maximal (``depth``) at ``peak``."""
    x = np.maximum(times - onset, 0.0) / (peak - onset)
    return depth * x**2 * np.exp(2.0 * (1.0 - x))


def hand_made_run(times: np.ndarray, inverted: bool = False, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grey = np.full((times.size, SIDE, SIDE), LEVEL)
    for rows, columns, onset, peak, depth in (EARLY, LATE):
        grey[:, rows, columns] -= gamma_variate(times, onset, peak, depth)[:, None, None]
    grey += rng.normal(0.0, NOISE, grey.shape)
    if inverted:
        grey = 255.0 - grey
    frames = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    frames[:, :BORDER] = frames[:, -BORDER:] = 0
    frames[:, :, :BORDER] = frames[:, :, -BORDER:] = 0
    return frames


def region_median(values: np.ndarray, rows: slice, columns: slice) -> float:
    inner = values[rows, columns][4:-4, 4:-4]
    return float(np.nanmedian(inner))


EVEN_TIMES = np.arange(36) / 3.0  # 3 frames/s for 12 s


@pytest.mark.parametrize("inverted", [False, True])
def test_maps_give_each_regions_arrival_and_peak(inverted: bool) -> None:
    maps = parametric_maps(hand_made_run(EVEN_TIMES, inverted), fps=3.0)

    assert maps.contrast_dark is not inverted
    for rows, columns, onset, peak, depth in (EARLY, LATE):
        assert region_median(maps.ttp, rows, columns) == pytest.approx(peak, abs=0.2)
        arrival = region_median(maps.arrival, rows, columns)
        assert onset - 0.2 < arrival < peak
        # Smoothing over three frames lowers a peak only a little.
        assert region_median(maps.peak, rows, columns) == pytest.approx(depth / 255.0, rel=0.12)
        mtt = region_median(maps.mtt, rows, columns)
        assert 0.5 * (peak - onset) < mtt < 4.0 * (peak - onset)
    # The area of a gamma variate with exponent 2 is depth x (peak - onset) x e^2 / 4; the
    # run goes on long enough past the early region's tail to hold all of it.
    early_auc = region_median(maps.auc, *EARLY[:2])
    expected_early = EARLY[4] / 255.0 * (EARLY[3] - EARLY[2]) * np.exp(2.0) / 4.0
    assert early_auc == pytest.approx(expected_early, rel=0.15)


def test_regions_without_contrast_and_the_border_are_nan() -> None:
    maps = parametric_maps(hand_made_run(EVEN_TIMES), fps=3.0)

    for name in MAP_NAMES:
        values = maps.as_dict()[name]
        assert values.shape == (SIDE, SIDE)
        assert np.isnan(values[EMPTY]).mean() > 0.99, name
        assert np.isnan(values[:BORDER]).all() and np.isnan(values[:, -BORDER:]).all(), name
        assert np.isfinite(values[EARLY[0], EARLY[1]]).all(), name
    assert (maps.field.y0, maps.field.x0) == (BORDER, BORDER)


def test_irregular_frame_times_are_used_as_given() -> None:
    # A fast arterial phase then a slow late phase, as programmed runs do.
    times = np.concatenate([np.arange(0.0, 4.0, 0.25), np.arange(4.0, 13.0, 1.0)])
    frames = hand_made_run(times, seed=1)

    maps = parametric_maps(frames, times_s=times)
    evenly = parametric_maps(frames, fps=4.0)  # what a reader ignoring the times would get

    late_ttp = region_median(maps.ttp, *LATE[:2])
    assert late_ttp == pytest.approx(LATE[3], abs=0.5)
    assert region_median(evenly.ttp, *LATE[:2]) < LATE[3] - 1.5


def test_frame_times_refuses_unusable_timing() -> None:
    assert np.allclose(frame_times(4, fps=2.0), [0.0, 0.5, 1.0, 1.5])
    with pytest.raises(InputError, match="3 frame times given for 4 frames"):
        frame_times(4, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(InputError, match="do not increase"):
        frame_times(3, np.array([0.0, 1.0, 1.0]))
    with pytest.raises(InputError, match="neither frame times nor a frame rate"):
        frame_times(3)
    with pytest.raises(InputError, match="at least two frames"):
        parametric_maps(hand_made_run(EVEN_TIMES)[:1], fps=3.0)


def test_dicom_frame_time_vector_gives_the_maps_their_seconds(tmp_path: Path) -> None:
    times = np.concatenate([np.arange(0.0, 4.0, 0.25), np.arange(4.0, 13.0, 1.0)])
    frames = hand_made_run(times, seed=2)
    path = write_dicom_xa(tmp_path / "run.dcm", frames, fps=4.0)
    dataset = pydicom.dcmread(path)
    del dataset.FrameTime
    dataset.FrameIncrementPointer = pydicom.tag.Tag("FrameTimeVector")
    steps_ms = np.diff(times, prepend=0.0) * 1000.0
    dataset.FrameTimeVector = [f"{step:g}" for step in steps_ms]
    dataset.save_as(path, enforce_file_format=True)

    video = load_video(path)

    assert np.allclose(video.frame_times_s, times)
    assert np.allclose(video.times_s(), times)
    maps = parametric_maps(video.frames, times_s=video.times_s(), white_level=video.max_value)
    assert region_median(maps.ttp, *LATE[:2]) == pytest.approx(LATE[3], abs=0.5)


def test_a_frame_time_vector_of_the_wrong_length_falls_back_to_the_frame_time(
    tmp_path: Path,
) -> None:
    frames = hand_made_run(EVEN_TIMES[:6])
    path = write_dicom_xa(tmp_path / "run.dcm", frames, fps=5.0)
    dataset = pydicom.dcmread(path)
    dataset.FrameTimeVector = ["0", "100", "100"]  # three entries for six frames
    dataset.save_as(path, enforce_file_format=True)

    video = load_video(path)

    assert np.allclose(video.times_s(), np.arange(6) * 0.2)


def test_real_dicom_run_has_its_frame_times(shared_dicom_dir: Path) -> None:
    video = load_video(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm")

    assert video.frame_times_s is not None
    assert np.allclose(np.diff(video.times_s()), 1.0 / video.fps)
    maps = parametric_maps(video.frames, times_s=video.times_s(), white_level=video.max_value)
    finite = np.isfinite(maps.ttp)
    assert finite.any()
    last = video.times_s()[-1] + 1e-5  # the maps are float32
    assert np.all((maps.ttp[finite] >= 0) & (maps.ttp[finite] <= last))


def test_runs_without_frame_times_fall_back_to_their_rate_or_to_none(tmp_path: Path) -> None:
    frames = hand_made_run(EVEN_TIMES[:6])

    avi = load_video(write_avi(tmp_path / "run.avi", frames, 7.5))
    folder = load_video(write_frame_folder(tmp_path / "frames", frames))

    assert avi.frame_times_s is None
    assert np.allclose(avi.times_s(), np.arange(6) / 7.5)
    assert folder.times_s() is None
