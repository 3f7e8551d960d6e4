"""``dsaviewer compare PRE POST``: on generated pre/post-embolisation case folders the
measured blush reduction matches the generator's truth and the regions land on the moved
tumor; the files' contents; the refusals."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from dsaviewer.cli import main
from dsaviewer.io.writers import write_avi
from training.synth import SynthOptions
from training.synth.case_writer import write_case
from training.synth.embolisation import Embolisation, generate_pair

OPTIONS = SynthOptions(sizes=(((512, 512), 1.0),), frames=(20, 22), p_rich_blood=1.0,
                       max_tumors=2, formats=(("avi", 1.0),))
EMBOLISATION = Embolisation(stain_remaining=0.3, flow="slowed", slowing=1.4, shift_px=(9.0, -6.0),
                            rotation_deg=2.0)


@pytest.fixture(scope="module")
def pair_on_disk(tmp_path_factory):
    pair = generate_pair(11, 1, OPTIONS, EMBOLISATION)
    root = tmp_path_factory.mktemp("pairs")
    return pair, write_case(pair.pre, root), write_case(pair.post, root)


def test_blush_reduction_matches_the_generators_truth(pair_on_disk, tmp_path, capsys) -> None:
    pair, pre, post = pair_on_disk
    out = tmp_path / "comparison"

    assert main(["compare", str(pre), str(post), "--out", str(out)]) == 0

    document = json.loads((out / "comparison.json").read_text())
    assert document["regions_from"].startswith("labels")
    truth = 100.0 * pair.blush_reduction
    assert document["blush_reduction_pct"] == pytest.approx(truth, abs=10.0)
    assert document["auc_reduction_pct"] == pytest.approx(100.0 * (1 - pair.auc_ratio), abs=10.0)
    assert f"blush reduction {document['blush_reduction_pct']:.1f} %" in capsys.readouterr().out
    registration = document["registration"]
    assert registration["shift_x_px"] == pytest.approx(pair.transform[0, 2], abs=2.0)
    assert registration["shift_y_px"] == pytest.approx(pair.transform[1, 2], abs=2.0)

    moved = cv2.imread(str(out / "post_tumor.png"), cv2.IMREAD_GRAYSCALE) > 0
    truth_mask = pair.post.labels[0].tumor
    dice = 2 * (moved & truth_mask).sum() / (moved.sum() + truth_mask.sum())
    assert dice > 0.8

    with (out / "curves.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["run", "time_s", "time_since_arrival_s", "tumor", "liver",
                             "background"]
    frames = pair.pre.frames.shape[0]
    assert [row["run"] for row in rows] == ["pre"] * frames + ["post"] * frames
    pre_tumor = np.array([float(row["tumor"]) for row in rows[:frames]])
    assert pre_tumor.max() == pytest.approx(document["pre"]["tumor_peak"], rel=1e-4)
    regions = cv2.imread(str(out / "regions.png"))
    assert regions.shape[1] > 2 * pair.pre.frames.shape[2]  # both runs side by side


def test_runs_of_different_sizes_are_refused(pair_on_disk, tmp_path, capsys) -> None:
    _, pre, _ = pair_on_disk
    other = write_avi(tmp_path / "other.avi", np.full((12, 100, 120), 128, np.uint8), 7.5)

    assert main(["compare", str(pre), str(other), "--out", str(tmp_path / "out")]) == 1

    assert "frame sizes differ" in capsys.readouterr().err


def test_labels_are_required_when_asked_for(pair_on_disk, tmp_path, capsys) -> None:
    pair, _, post = pair_on_disk
    video = write_avi(tmp_path / "pre.avi", pair.pre.frames, pair.pre.fps)

    status = main(["compare", str(video), str(post), "--out", str(tmp_path / "out"),
                   "--masks", "labels"])

    assert status == 1
    assert "key_frame" in capsys.readouterr().err
