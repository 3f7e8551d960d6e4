"""Families: read from a broad-mix dataset's truth.csv, a deterministic held-out split, and
per-family metrics that match values computed by hand on constructed masks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from dsaviewer.errors import InputError
from training.__main__ import main as training_main
from training.evaluate_families import response_by_family, segmentation_by_family
from training.evaluate_segmentation import case_segmentation
from training.families import (
    family_groups,
    parse_held_out,
    read_families,
    training_cases,
)
from training.synth import generate_case, write_dataset
from training.synth.options import SynthOptions, broad_options
from training.train_response import stored_response_run

WEIGHTS = Path(__file__).resolve().parents[1] / "resources" / "weights" / "segmentation.pt"
OPTIONS = broad_options(sizes=(((256, 256), 1.0),), formats=(("avi", 1.0),))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("broad") / "data"
    write_dataset(folder, n=4, seed=9, options=OPTIONS, workers=1)
    return folder


def test_families_are_read_from_truth_csv_as_generated(dataset):
    families = read_families(dataset)
    for index in range(4):
        case = generate_case(9, index, OPTIONS)
        assert families[case.case_id] == dict(case.truth.families)


def test_the_held_out_split_is_deterministic_and_leaves_out_every_held_out_value():
    families = {
        "a": {"territory": "celiac", "phenotype": "none"},
        "b": {"territory": "segmental", "phenotype": "classic"},
        "c": {"territory": "celiac", "phenotype": "multifocal"},
        "d": {"territory": "left_hepatic", "phenotype": "classic"},
    }
    held = parse_held_out(["territory=segmental", "phenotype=multifocal"])
    assert training_cases(["a", "b", "c", "d"], families, held) == ["a", "d"]
    assert training_cases(["d", "c", "b", "a"], families, held) == ["d", "a"]
    assert family_groups(["a", "b", "c", "d"], families)["phenotype=classic"] == ["b", "d"]
    with pytest.raises(InputError, match="FAMILY=VALUE"):
        parse_held_out(["territory=femoral"])


def square(row: int, col: int, size: int = 4) -> np.ndarray:
    mask = np.zeros((16, 16), bool)
    mask[row : row + size, col : col + size] = True
    return mask


def test_segmentation_per_family_matches_hand_computed_dice():
    truth = square(2, 2)  # 16 px
    half = square(2, 4)  # overlaps 8 of 16 -> Dice 0.5
    cases = [
        case_segmentation("a", half, truth, square(0, 0, 8), square(0, 0, 8)),  # liver 1.0
        case_segmentation("b", truth, truth, square(0, 0, 8), square(0, 0, 4)),  # liver 0.4
        case_segmentation("c", square(10, 10), truth, square(0, 0, 8), square(8, 8, 8)),  # 0, 0
    ]
    groups = {"territory=x": ["a", "b"], "territory=y": ["c"]}
    rows = {row.group: row for row in segmentation_by_family(cases, groups, {"territory=y"},
                                                             n_resamples=50)}
    assert rows["territory=x"].metrics["dice"].estimate == pytest.approx(0.75)
    assert rows["territory=x"].metrics["liver_dice"].estimate == pytest.approx(0.7)
    assert rows["territory=y"].metrics["dice"].estimate == 0.0
    assert rows["territory=y"].metrics["liver_dice"].estimate == 0.0
    assert rows["territory=y"].held_out and not rows["territory=x"].held_out
    # Lesions: x finds both (2 of 2), y misses its one and calls one false positive.
    assert rows["territory=x"].metrics["lesion_sensitivity"].estimate == 1.0
    assert rows["territory=y"].metrics["false_positive_ratio"].estimate == 1.0


def test_response_per_family_matches_hand_computed_auc_and_ece():
    ids = ["p", "q", "r", "s", "t"]
    labels = np.array([0, 1, 0, 1, 1])
    probabilities = np.array([0.1, 0.9, 0.6, 0.4, 0.8])
    truth = np.array([0.2, 0.8, 0.3, 0.7, 0.5])
    groups = {"phenotype=m": ["p", "q", "r", "s"], "phenotype=n": ["t"]}
    rows = {row.group: row for row in response_by_family(ids, labels, probabilities, truth,
                                                         groups, n_resamples=50)}
    m = rows["phenotype=m"].metrics
    assert m["auc"].estimate == pytest.approx(0.75)  # 3 of 4 responder/non-responder pairs
    assert m["bayes_auc"].estimate == pytest.approx(1.0)
    assert m["ece"].estimate == pytest.approx((0.1 + 0.1 + 0.6 + 0.6) / 4)
    assert m["calibration_error_to_truth"].estimate == pytest.approx((0.1 + 0.1 + 0.3 + 0.3) / 4)
    assert m["ece_of_truth"].estimate == pytest.approx((0.2 + 0.2 + 0.3 + 0.3) / 4)
    # Signed: (-0.1 + 0.1 + 0.3 - 0.3) / 4 = 0 for m; n over-predicts its one case by 0.3.
    assert m["bias_to_truth"].estimate == pytest.approx(0.0)
    assert m["bias_to_truth"].low < 0 < m["bias_to_truth"].high
    assert rows["phenotype=n"].metrics["bias_to_truth"].estimate == pytest.approx(0.3)
    assert math.isnan(rows["phenotype=n"].metrics["auc"].estimate)  # one class only


def test_evaluate_seg_reports_per_family_for_shipped_weights(dataset, tmp_path):
    out = tmp_path / "eval"
    code = training_main(["evaluate-seg", str(dataset), str(out), "--checkpoint", str(WEIGHTS),
                          "--resamples", "20", "--held-out", "liver=oblique", "--threads", "1"])
    assert code == 0
    report = json.loads((out / "segmentation.json").read_text())
    groups = {row["group"]: row for row in report["by_family"]}
    families = read_families(dataset)
    expected = family_groups(sorted(families), families)
    assert set(groups) == set(expected)
    assert all(groups[g]["n_cases"] == len(ids) for g, ids in expected.items())
    assert all(row["held_out"] == (g == "liver=oblique") for g, row in groups.items())
    assert "## Per family" in (out / "segmentation.md").read_text()


def test_a_held_out_run_never_sees_the_held_out_cases_and_starts_from_weights(dataset, tmp_path):
    families = read_families(dataset)
    first, held = _first_case_and_its_territory(families)
    out = tmp_path / "run"
    code = training_main([
        "train-seg", str(dataset), str(out), "--config", "full", "--base-width", "8",
        "--image-size", "256", "--epochs", "1", "--tdl-warmup-epochs", "0", "--batch-size", "2",
        "--max-steps", "1", "--folds", "2", "--threads", "1", "--robust-augmentation",
        "--init-weights", str(WEIGHTS.parent), "--hold-out", held,
    ])
    assert code == 0
    stored = _assert_run_held_out(out, families, first, held)
    assert stored["options"]["init_weights"] == str(WEIGHTS.parent)
    shipped_manifest = json.loads((WEIGHTS.parent / "manifest.json").read_text())
    # No --liver-input nor --backbone: the run continues the shipped network as it is.
    assert (stored["config"]["liver_input"]
            == shipped_manifest["segmentation"]["config"].get("liver_input", "key_frame"))
    assert stored["config"]["backbone"] == shipped_manifest["segmentation"]["config"]["backbone"]
    assert (stored["options"]["init_segmentation_sha256"]
            == shipped_manifest["segmentation"]["sha256"])
    # One Adam step from the shipped weights leaves the convolutions close to them.
    shipped = torch.load(WEIGHTS, map_location="cpu", weights_only=True)["state_dict"]
    for name, value in stored["model"].items():
        if value.ndim == 4:
            change = (value - shipped[name]).norm() / shipped[name].norm()
            assert change < 0.2, name


def test_a_run_trains_on_several_dataset_folders_together(dataset, tmp_path):
    default_mix = tmp_path / "default"
    write_dataset(default_mix, n=2, seed=10, options=SynthOptions(
        sizes=(((256, 256), 1.0),), formats=(("avi", 1.0),)), workers=1)
    out = tmp_path / "run"
    code = training_main([
        "train-seg", str(default_mix), str(dataset), str(out), "--config", "full",
        "--base-width", "8", "--image-size", "256", "--epochs", "1", "--tdl-warmup-epochs", "0",
        "--batch-size", "2", "--max-steps", "1", "--folds", "2", "--threads", "1",
        "--hold-out", "liver=typical",
    ])
    assert code == 0
    stored = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    seen = set(stored["split"]["train"]) | set(stored["split"]["validation"])
    families = read_families([default_mix, dataset])
    assert families == read_families(dataset)  # the default mix has no families
    kept_broad = set(training_cases(sorted(families), families, {"liver": "typical"}))
    assert seen == {f"synth_s10_{i:05d}" for i in range(2)} | kept_broad


def test_the_same_case_in_two_dataset_folders_is_refused(dataset, tmp_path, capsys):
    code = training_main([
        "train-seg", str(dataset), str(dataset), str(tmp_path / "run"), "--epochs", "1",
        "--max-steps", "1", "--threads", "1",
    ])
    assert code == 2
    assert "appear in more than one of the dataset folders" in capsys.readouterr().err


def test_a_held_out_response_run_never_sees_the_held_out_cases(tmp_path):
    dataset = tmp_path / "data"  # enough cases to leave two folds of known responses
    write_dataset(dataset, n=8, seed=9, options=OPTIONS, workers=1)
    families = read_families(dataset)
    first, held = _first_case_and_its_territory(families)
    out = tmp_path / "response"
    code = training_main([
        "train-response", str(dataset), str(out), "--gt-masks", "--width", "8",
        "--image-size", "64", "--epochs", "1", "--batch-size", "2", "--max-steps", "1",
        "--folds", "2", "--threads", "1", "--read-workers", "1", "--hold-out", held,
    ])
    assert code == 0
    _assert_run_held_out(out, families, first, held)
    _, options = stored_response_run(out)  # what --resume goes on with
    assert options.held_out == (tuple(held.split("=")),)


def _first_case_and_its_territory(families) -> tuple[str, str]:
    first = sorted(families)[0]
    return first, f"territory={families[first]['territory']}"


def _assert_run_held_out(out: Path, families, first: str, held: str) -> dict:
    """The run in ``out`` trained and validated on exactly the cases without ``held``."""
    stored = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    seen = set(stored["split"]["train"]) | set(stored["split"]["validation"])
    expected = set(training_cases(sorted(families), families, parse_held_out([held])))
    assert first not in seen and seen == expected
    assert [tuple(pair) for pair in stored["options"]["held_out"]] == [tuple(held.split("="))]
    return stored
