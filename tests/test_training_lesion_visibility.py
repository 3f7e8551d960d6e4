"""Lesion visibility on constructed runs, and the lesion-visibility command on a synthetic set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from training.__main__ import main
from training.dataset import CaseRecord, LabelledFrame
from training.lesion_visibility import case_visibility

S, N_FRAMES, KEY = 96, 12, 11


def _record(lesion_gain: dict[tuple[int, int], float], seed: int = 3) -> CaseRecord:
    """Noise around 100 over a liver box; a disc of radius 4 at each centre, brighter by its
    gain in every frame (0: labelled but not there)."""
    rng = np.random.default_rng(seed)
    clip = rng.normal(100.0, 6.0, (N_FRAMES, S, S))
    tumor = np.zeros((S, S), np.uint8)
    for (x, y), gain in lesion_gain.items():
        disc = np.zeros((S, S), np.uint8)
        cv2.circle(disc, (x, y), 4, 1, -1)
        clip[:, disc > 0] += gain
        tumor |= disc
    liver = np.zeros((S, S), bool)
    liver[8:88, 8:88] = True
    clip = np.clip(np.round(clip), 0, 255).astype(np.uint8)
    label = LabelledFrame(KEY, tumor.astype(bool), liver)
    return CaseRecord("case", clip, KEY, (label,), np.zeros(13, np.float32),
                      np.zeros(13, np.float32), 1)


def test_a_stained_lesion_is_visible_and_a_label_on_plain_background_is_not() -> None:
    visibility = case_visibility(_record({(30, 30): 40.0, (65, 65): 0.0}))
    stained, absent = visibility.lesions
    assert stained.z > 20 and stained.visible
    assert abs(absent.z) < 3 and not absent.visible
    # Both discs have the same area: the ceiling finds one of two equal lesions.
    assert stained.area_px == absent.area_px
    assert visibility.dice_ceiling == pytest.approx(2 / 3)


def test_a_faint_lesion_is_visible_when_told_where_but_not_findable_by_searching() -> None:
    # A gain of 2.5 over noise of SD 6 puts the disc between 3 and 5 robust SDs (3.7 here).
    visibility = case_visibility(_record({(30, 30): 40.0, (65, 65): 2.5}))
    stained, faint = visibility.lesions
    assert 3 < faint.z < 5 and faint.visible and not faint.findable
    assert stained.findable
    assert visibility.dice_ceiling == 1.0
    assert visibility.search_ceiling == pytest.approx(2 / 3)


def test_a_darker_lesion_counts_too_and_a_tumor_free_case_has_ceiling_one() -> None:
    (hypo,) = case_visibility(_record({(40, 50): -40.0})).lesions
    assert hypo.z < -20 and hypo.visible
    empty = case_visibility(_record({}))
    assert empty.lesions == () and empty.dice_ceiling == 1.0


def test_a_lesion_too_large_to_place_elsewhere_counts_as_visible() -> None:
    record = _record({})
    huge = np.zeros((S, S), bool)
    huge[10:86, 10:86] = True
    record = CaseRecord("case", record.clip, KEY, (LabelledFrame(KEY, huge, huge),),
                        record.clinical_values, record.clinical_present, 1)
    (lesion,) = case_visibility(record).lesions
    assert lesion.z == math.inf and lesion.visible


def test_the_command_reports_visibility_next_to_what_a_model_found(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from training.synth.dataset_writer import write_dataset
    from training.synth.options import SynthOptions

    data = tmp_path / "data"
    options = SynthOptions(sizes=(((128, 128), 1.0),), formats=(("png", 1.0),), frames=(14, 16))
    write_dataset(data, 4, seed=5, options=options)
    fast = ["--read-workers", "1"]
    run = tmp_path / "run"
    assert main(["train-seg", str(data), str(run), "--config", "kf_only", "--base-width", "4",
                 "--depth", "3", "--image-size", "64", "--epochs", "1", "--folds", "2",
                 "--threads", "1", "--log-every", "1000", *fast]) == 0
    evaluation = tmp_path / "eval"
    assert main(["evaluate-seg", str(data), str(evaluation), "--checkpoint",
                 str(run / "best.pt"), "--resamples", "20", "--threads", "1", *fast]) == 0
    out = tmp_path / "visibility"
    assert main(["lesion-visibility", str(data), str(out), "--image-size", "64",
                 "--evaluation", str(evaluation), *fast]) == 0
    report = json.loads((out / "visibility.json").read_text())
    scored = json.loads((evaluation / "segmentation.json").read_text())["postprocessed"]
    assert len(report["cases"]) == len(scored["cases"]) == 4
    for case, truth in zip(report["cases"], scored["cases"], strict=True):
        assert [area for area, _, _ in case["lesions"]] == [
            area for area, _ in truth["lesions"]["ground_truth"]]
        assert 0.0 <= case["search_ceiling"] <= case["dice_ceiling"] <= 1.0
    text = (out / "visibility.md").read_text()
    assert "| abs z | lesions | median area (px) | found |" in text
    class_rows = [line.split(" | ") for line in text.splitlines()
                  if line.startswith(("| 0 to", "| 3 to", "| 5 to", "| 10 to", "| >= 20"))]
    n_lesions = sum(len(case["lesions"]) for case in report["cases"])
    assert len(class_rows) == 5 and sum(int(row[1]) for row in class_rows) == n_lesions
    assert "| all cases with tumor |" in text
    assert "| ceiling, told where (abs z >= 3) | ceiling, searching (abs z >= 5) |" in text

    # An evaluation scored at another size lists other lesions: refused, and why.
    capsys.readouterr()
    assert main(["lesion-visibility", str(data), str(tmp_path / "v2"), "--image-size", "128",
                 "--evaluation", str(evaluation), *fast]) == 2
    assert "lists other lesions" in capsys.readouterr().err
    assert main(["lesion-visibility", str(data), str(tmp_path / "v3"),
                 "--evaluation", str(tmp_path), *fast]) == 2
    assert "is not an evaluate-seg report" in capsys.readouterr().err
