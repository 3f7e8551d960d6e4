"""``dsaviewer analyze --parametric``: the maps, the colour-coded TTP image and tdc.csv."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from test_inference_fixtures import FRAME_SHAPE, synthetic_frames, write_tiny_weights

from dsaviewer.analyze_cli import main
from dsaviewer.core.parametric import MAP_NAMES
from dsaviewer.io.writers import write_avi, write_frame_folder

FPS = 7.5


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return write_tiny_weights(tmp_path_factory.mktemp("weights"))


def test_parametric_files_are_written_per_case(weights, tmp_path) -> None:
    frames = synthetic_frames()
    video = write_avi(tmp_path / "run.avi", frames, fps=FPS)
    out = tmp_path / "out"

    assert main([str(video), "--out", str(out), "--weights", str(weights), "--parametric"]) == 0

    case = out / "run"
    with np.load(case / "parametric" / "maps.npz") as maps:
        assert sorted(maps.files) == sorted(MAP_NAMES)
        for name in MAP_NAMES:
            assert maps[name].shape == FRAME_SHAPE and maps[name].dtype == np.float32
        ttp = maps["ttp"]
        # The stain grows over the run: its rim fills late; its centre is there from the first
        # frame (the baseline), so no contrast arrives there; nor in the black border.
        assert np.isfinite(ttp[62, 106]) and np.isnan(ttp[62, 86]) and np.isnan(ttp[0, 0])
        assert 0.0 < ttp[62, 106] <= (len(frames) - 1) / FPS
    image = cv2.imread(str(case / "parametric" / "ttp.png"))
    assert image.shape[0] == FRAME_SHAPE[0] and image.shape[1] > FRAME_SHAPE[1]  # + colour bar
    with (case / "tdc.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time_s", "tumor", "liver", "background"]
    assert len(rows) == 1 + len(frames)
    assert [float(row[0]) for row in rows[1:]] == pytest.approx(np.arange(len(frames)) / FPS,
                                                                abs=1e-4)


def test_without_the_flag_no_parametric_files_are_written(weights, tmp_path) -> None:
    frames_dir = write_frame_folder(tmp_path / "frames", synthetic_frames())
    out = tmp_path / "out"

    assert main([str(frames_dir), "--out", str(out), "--weights", str(weights)]) == 0

    assert not (out / "frames" / "parametric").exists()
    assert not (out / "frames" / "tdc.csv").exists()
