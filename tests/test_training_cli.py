"""The training commands end to end on a tiny synthetic dataset written by the synth package:
train-seg, evaluate-seg, train-response (predicted and ground-truth masks), evaluate-response,
ablation, and Ctrl-C followed by --resume."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.inference.weights import load_weights
from training.__main__ import main
from training.checkpoint import load_checkpoint
from training.synth.dataset_writer import write_dataset
from training.synth.options import SynthOptions

PROJECT = Path(__file__).resolve().parent.parent
TINY_MODEL = ["--base-width", "4", "--depth", "3", "--image-size", "64"]
FAST = ["--read-workers", "1", "--threads", "1", "--log-every", "1000"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth") / "data"
    options = SynthOptions(sizes=(((128, 128), 1.0),), formats=(("png", 1.0),), frames=(14, 16))
    write_dataset(folder, 12, seed=7, options=options)
    return folder


@pytest.fixture(scope="module")
def seg_run(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seg") / "run"
    code = main(["train-seg", str(dataset), str(out), "--config", "full", *TINY_MODEL,
                 "--epochs", "2", "--tdl-warmup-epochs", "1", "--batch-size", "8",
                 "--folds", "3", "--lesion-weighting", "12", *FAST])
    assert code == 0
    return out


def test_train_seg_writes_a_resumable_run_and_viewer_weights(seg_run: Path) -> None:
    assert {"best.pt", "last.pt", "log.jsonl", "summary.json", "weights"} <= {
        p.name for p in seg_run.iterdir()}
    summary = json.loads((seg_run / "summary.json").read_text())
    assert summary["stop_reason"] == "finished" and summary["config"]["temporal"] == "tdl"
    assert summary["split"] == {"fold": 0, "n_folds": 3, "train_cases": 8, "validation_cases": 4}
    assert load_weights(seg_run / "weights").segmentation_config.base_width == 4
    weighting = load_checkpoint(seg_run / "last.pt")["options"]["lesion_weighting"]
    assert weighting == {"reference_diameter_px": 12.0, "max_weight": 10.0, "margin_px": 2}


def test_evaluate_seg_reports_table_2(dataset: Path, seg_run: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    code = main(["evaluate-seg", str(dataset), str(tmp_path), "--checkpoint",
                 str(seg_run / "best.pt"), "--split", "validation", "--resamples", "50", *FAST[:4]])
    assert code == 0
    report = json.loads((tmp_path / "segmentation.json").read_text())
    assert len(report["raw"]["cases"]) == 4 and report["postprocessed"]["postprocessed"]
    assert "Lesion-level sensitivity" in (tmp_path / "segmentation.md").read_text()
    assert "| Dice |" in capsys.readouterr().out


def test_response_commands_end_to_end(dataset: Path, seg_run: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture) -> None:
    model = ["--width", "4", "--clinical-hidden", "4", "--fusion-hidden", "4", "--epochs", "2",
             "--batch-size", "4", "--folds", "3"]
    checkpoint = str(seg_run / "best.pt")
    assert main(["train-response", str(dataset), str(tmp_path / "pred"), "--seg-checkpoint",
                 checkpoint, *model, *FAST]) == 0
    assert main(["train-response", str(dataset), str(tmp_path / "gt"), "--gt-masks",
                 "--seg-checkpoint", checkpoint, *model, *FAST]) == 0
    weights = load_weights(tmp_path / "pred" / "weights")
    assert weights.response_config.image_size == 64
    stored = load_checkpoint(tmp_path / "pred" / "best.pt")
    assert weights.threshold == stored["metrics"]["val_threshold"]  # chosen on validation

    out = tmp_path / "evaluation"
    assert main(["evaluate-response", str(dataset), str(out), "--checkpoint",
                 str(tmp_path / "pred" / "best.pt"), "--compare", str(tmp_path / "gt" / "best.pt"),
                 "--resamples", "50", *FAST[:4]]) == 0
    report = json.loads((out / "response.json").read_text())
    assert len(report["case_ids"]) == 12 and len(report["true_probabilities"]) == 12
    assert [e["name"] for e in report["evaluations"]] == [
        "A: predicted masks (pred)", "B: ground-truth masks (gt)"]
    assert {(d["a"], d["b"]) for d in report["delong"]} >= {
        ("A: predicted masks (pred)", "B: ground-truth masks (gt)")}
    assert report["evaluations"][0]["metrics"]["bayes_auc"]["estimate"] > 0.5
    assert report["evaluations"][0]["threshold"] == weights.threshold  # each model's own
    assert (out / "roc.png").stat().st_size > 0 and (out / "calibration.png").is_file()

    _check_pooled_folders(dataset, tmp_path / "pred" / "best.pt", report, tmp_path)
    _check_calibrate_response(dataset, tmp_path / "pred" / "weights", tmp_path)
    model_probabilities = dict(zip(report["case_ids"],
                                   report["probabilities"]["A: predicted masks (pred)"],
                                   strict=True))
    _check_calibrate_response_to_truth(dataset, tmp_path / "pred" / "weights",
                                       model_probabilities, tmp_path, capsys)
    _check_combine_weights(seg_run / "weights", tmp_path / "pred" / "weights", tmp_path)


def test_a_response_model_reading_and_measuring_the_run_trains_evaluates_and_exports(
        dataset: Path, seg_run: Path, tmp_path: Path) -> None:
    from dsaviewer.inference.backend import load_backend
    from training.export_onnx import export_onnx

    model = ["--width", "4", "--clinical-hidden", "4", "--fusion-hidden", "4", "--epochs", "1",
             "--batch-size", "4", "--folds", "3", "--run-maps", "--tumor-measurements"]
    assert main(["train-response", str(dataset), str(tmp_path / "run"), "--seg-checkpoint",
                 str(seg_run / "best.pt"), *model, *FAST]) == 0
    weights = tmp_path / "run" / "weights"
    config = load_weights(weights).response_config
    assert config.reads_run_maps and config.image_channels == 5 and config.tumor_measurements
    out = tmp_path / "evaluation"
    assert main(["evaluate-response", str(dataset), str(out), "--checkpoint",
                 str(weights / "response.pt"), "--resamples", "20", *FAST[:4]]) == 0
    assert len(json.loads((out / "response.json").read_text())["case_ids"]) == 12
    export_onnx(weights)
    rng = np.random.default_rng(0)
    key_frame, tumor = rng.random((2, 64, 64), dtype=np.float32)
    maps = rng.random((2, 64, 64), dtype=np.float32)
    clinical = np.zeros(config.clinical_features, np.float32)
    torch_models, onnx_models = (load_backend(weights, backend, "cpu")
                                 for backend in ("torch", "onnx"))
    assert torch_models.response.run_maps and onnx_models.response.run_maps
    assert onnx_models.predict_response(key_frame, tumor, clinical, maps) == pytest.approx(
        torch_models.predict_response(key_frame, tumor, clinical, maps), abs=1e-5)


def _split_dataset(dataset: Path, out: Path) -> list[Path]:
    """``dataset`` as two dataset folders, the first half of its cases in one, the rest in the
    other, each with its own clinical.csv and truth.csv."""
    cases = sorted(p.name for p in dataset.iterdir() if p.is_dir() and not p.name.startswith("."))
    halves = [cases[: len(cases) // 2], cases[len(cases) // 2:]]
    folders = []
    for index, half in enumerate(halves):
        folder = out / f"half{index}"
        folder.mkdir(parents=True)
        for case in half:
            shutil.copytree(dataset / case, folder / case)
        for table in ("clinical.csv", "truth.csv"):
            header, *rows = (dataset / table).read_text().splitlines()
            kept = [row for row in rows if row.split(",")[0] in half]
            (folder / table).write_text("\n".join([header, *kept]) + "\n")
        folders.append(folder)
    return folders


def _check_pooled_folders(dataset: Path, checkpoint: Path, whole: dict, tmp_path: Path) -> None:
    """Two folders read together are evaluated as one set: the same cases, probabilities and
    truth as the dataset they were split from, the truth read from each folder's truth.csv."""
    folders = _split_dataset(dataset, tmp_path / "split")
    out = tmp_path / "pooled"
    assert main(["evaluate-response", *map(str, folders), str(out), "--checkpoint",
                 str(checkpoint), "--resamples", "50", *FAST[:4]]) == 0
    pooled = json.loads((out / "response.json").read_text())
    assert pooled["data"] == [str(folder) for folder in folders]
    order = [whole["case_ids"].index(case) for case in pooled["case_ids"]]
    assert sorted(order) == list(range(len(whole["case_ids"])))
    for key in ("labels", "true_probabilities"):
        assert pooled[key] == [whole[key][i] for i in order]
    name = next(iter(whole["probabilities"]))
    assert pooled["probabilities"][name] == pytest.approx(
        [whole["probabilities"][name][i] for i in order], abs=1e-6)
    (folders[1] / "truth.csv").unlink()  # a folder without the generator's truth: no ceiling
    assert main(["evaluate-response", *map(str, folders), str(tmp_path / "no_truth"),
                 "--checkpoint", str(checkpoint), "--resamples", "50", *FAST[:4]]) == 0
    report = json.loads((tmp_path / "no_truth" / "response.json").read_text())
    assert report["true_probabilities"] is None


def _check_combine_weights(segmentation: Path, response: Path, tmp_path: Path) -> None:
    from dsaviewer.inference.manifest import read_manifest

    out = tmp_path / "combined"
    assert main(["combine-weights", str(out), "--segmentation", str(segmentation),
                 "--response", str(response)]) == 0
    combined, seg, resp = (read_manifest(folder) for folder in (out, segmentation, response))
    assert combined.segmentation.sha256 == seg.segmentation.sha256
    assert combined.response.sha256 == resp.response.sha256
    assert combined.response.threshold == resp.response.threshold
    assert combined.provenance.evaluation["response_model_from"] == str(response)
    assert main(["combine-weights", str(out), "--segmentation", str(segmentation),
                 "--response", str(segmentation)]) == 2  # OUT exists; and no response there

    # A calibrated response: the calibration is dropped and the threshold goes back to the
    # model's scale, so every call is the one the uncalibrated model made.
    calibrated = read_manifest(tmp_path / "calibrated")
    assert calibrated.response.calibration is not None
    assert calibrated.response.threshold != pytest.approx(resp.response.threshold)
    out = tmp_path / "combined_calibrated"
    assert main(["combine-weights", str(out), "--segmentation", str(segmentation),
                 "--response", str(tmp_path / "calibrated")]) == 0
    combined = read_manifest(out)
    assert combined.response.calibration is None
    assert combined.response.threshold == pytest.approx(resp.response.threshold)


def _check_calibrate_response(dataset: Path, weights_dir: Path, tmp_path: Path) -> None:
    """calibrate-response writes a calibrated copy; the program shows the calibrated
    probability in both backends, and every call stays what it was."""
    from dsaviewer.core.probability_calibration import platt
    from dsaviewer.inference.backend import load_backend
    from dsaviewer.inference.manifest import read_manifest
    from training.export_onnx import export_onnx

    export_onnx(weights_dir)
    before = read_manifest(weights_dir)
    out = tmp_path / "calibrated"
    assert main(["calibrate-response", str(out), str(dataset), "--checkpoint",
                 str(weights_dir / "response.pt"), *FAST[:4]]) == 0
    assert read_manifest(weights_dir) == before  # the given folder is left as it was
    after = read_manifest(out)
    slope, intercept = after.response.calibration
    assert slope > 0
    assert after.response.threshold == pytest.approx(
        platt(before.response.threshold, slope, intercept))
    record = after.provenance.evaluation["response_calibration"]
    assert record["cases"] == 12 and record["ece_after_on_calibration_data"] <= record[
        "ece_before"] + 1e-9
    rng = np.random.default_rng(0)
    key_frame, tumor = rng.random((2, 64, 64), dtype=np.float32)
    clinical = np.zeros(after.response.config["clinical_features"], np.float32)
    for backend in ("torch", "onnx"):
        raw = load_backend(weights_dir, backend, "cpu")
        calibrated = load_backend(out, backend, "cpu")
        model_probability = raw.predict_response(key_frame, tumor, clinical)
        assert calibrated.response.shown_probability(model_probability) == pytest.approx(
            platt(model_probability, slope, intercept))
        assert raw.response.shown_probability(model_probability) == model_probability
    assert main(["calibrate-response", str(out), str(dataset), "--checkpoint",
                 str(weights_dir / "response.pt"), *FAST[:4]]) == 2  # OUT is not overwritten
    assert record["fitted_to"] == "outcomes"


def _check_calibrate_response_to_truth(dataset: Path, weights_dir: Path,
                                       model_probabilities: dict[str, float], tmp_path: Path,
                                       capsys: pytest.CaptureFixture) -> None:
    """--to-truth fits the map to truth.csv's probabilities: given true probabilities that are
    a known Platt map of the model's own, it recovers that map; a map that would fall is
    refused, and so is data without the true probabilities."""
    from dsaviewer.core.probability_calibration import platt
    from dsaviewer.inference.manifest import read_manifest
    from training.synth.case_writer import read_truth_csv

    def with_truth(name: str, slope: float, intercept: float) -> Path:
        folder = tmp_path / name
        shutil.copytree(dataset, folder)
        rows = read_truth_csv(folder / "truth.csv")
        for row in rows:
            row["response_probability"] = str(platt(model_probabilities[row["case_id"]],
                                                    slope, intercept))
        with open(folder / "truth.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return folder

    checkpoint = ["--checkpoint", str(weights_dir / "response.pt"), "--to-truth", *FAST[:4]]
    out = tmp_path / "calibrated_to_truth"
    assert main(["calibrate-response", str(out), str(with_truth("known", 0.5, 0.2)),
                 *checkpoint]) == 0
    assert read_manifest(out).response.calibration == pytest.approx((0.5, 0.2), abs=1e-4)
    fitted = read_manifest(out).provenance.evaluation["response_calibration"]
    assert fitted["fitted_to"] == "true probabilities"
    assert fitted["error_to_true_probabilities_after"] == pytest.approx(0.0, abs=1e-4)

    capsys.readouterr()
    assert main(["calibrate-response", str(tmp_path / "falling_calibrated"),
                 str(with_truth("falling", -1.0, 0.0)), *checkpoint]) == 2
    assert "slope" in capsys.readouterr().err
    without_truth = tmp_path / "data_without_truth"
    shutil.copytree(dataset, without_truth)
    (without_truth / "truth.csv").unlink()
    assert main(["calibrate-response", str(tmp_path / "unused"), str(without_truth),
                 *checkpoint]) == 2
    assert "truth.csv" in capsys.readouterr().err


def test_ablation_trains_each_row_once(dataset: Path, tmp_path: Path) -> None:
    arguments = ["ablation", str(dataset), str(tmp_path), "--rows", "kf_only", "kf_fd",
                 *TINY_MODEL, "--max-steps", "2", "--batch-size", "8", "--folds", "3", *FAST]
    assert main(arguments) == 0
    table = json.loads((tmp_path / "ablation.json").read_text())
    assert [row["name"] for row in table["rows"]] == ["kf_only", "kf_fd"]
    assert all(row["steps"] == 2 for row in table["rows"])
    modified = (tmp_path / "kf_only" / "last.pt").stat().st_mtime_ns
    assert main(arguments) == 0  # finished rows are read back, not trained again
    assert (tmp_path / "kf_only" / "last.pt").stat().st_mtime_ns == modified
    assert "| kf_fd |" in (tmp_path / "ablation.md").read_text()
    assert all(row["test"] is None for row in table["rows"])


def test_ablation_scores_each_row_on_a_held_out_set(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "ablation"
    assert main(["ablation", str(dataset), str(out), "--rows", "kf_only", *TINY_MODEL,
                 "--max-steps", "2", "--batch-size", "8", "--folds", "3", "--test", str(dataset),
                 *FAST]) == 0
    row = json.loads((out / "ablation.json").read_text())["rows"][0]
    dice = row["test"]["dice"]
    assert 0.0 <= dice["low"] <= dice["estimate"] <= dice["high"] <= 1.0
    evaluate = tmp_path / "evaluate"
    assert main(["evaluate-seg", str(dataset), str(evaluate), "--checkpoint",
                 str(out / "kf_only" / "best.pt"), *FAST[:4]]) == 0
    raw = json.loads((evaluate / "segmentation.json").read_text())["raw"]["metrics"]
    assert dice["estimate"] == pytest.approx(raw["dice"]["estimate"])  # the same evaluation
    assert "## On the held-out test set" in (out / "ablation.md").read_text()


def test_evaluate_seg_scores_on_a_finer_grid(dataset: Path, seg_run: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    common = [str(dataset), "--checkpoint", str(seg_run / "best.pt"), "--split", "validation",
              "--resamples", "20", *FAST[:4]]
    assert main(["evaluate-seg", common[0], str(tmp_path / "model"), *common[1:]]) == 0
    assert main(["evaluate-seg", common[0], str(tmp_path / "fine"), *common[1:],
                 "--score-size", "128"]) == 0
    for name, size in (("model", 64), ("fine", 128)):
        report = json.loads((tmp_path / name / "segmentation.json").read_text())
        pixels = report["postprocessed"]["cases"][0]["pixels"]
        assert sum(pixels.values()) == size * size
        assert len(report["postprocessed"]["cases"]) == 4
    assert "scored at 128 px" in (tmp_path / "fine" / "segmentation.md").read_text()
    assert main(["evaluate-seg", common[0], str(tmp_path / "bad"), *common[1:],
                 "--score-size", "0"]) == 2
    assert "--score-size" in capsys.readouterr().err


def test_evaluate_seg_scores_only_the_cases_read_at_both_sizes(
        dataset: Path, seg_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset, data, ignore=shutil.ignore_patterns(".cache"))
    # A liver of one pixel between the 64-px model grid's sampling points: the case has a
    # liver at 128 px and none at 64, so it can be scored at one size only.
    case = sorted(p for p in data.iterdir() if p.is_dir())[0]
    for label in (case / "labels").glob("*.json"):
        document = json.loads(label.read_text())
        for shape in document["shapes"]:
            if shape["label"] == "liver":
                shape["points"] = [[61.0, 61.0]] * 3
        label.write_text(json.dumps(document))
    assert main(["evaluate-seg", str(data), str(tmp_path / "out"), "--checkpoint",
                 str(seg_run / "best.pt"), "--score-size", "128", "--resamples", "20",
                 *FAST[:4]]) == 0
    report = json.loads((tmp_path / "out" / "segmentation.json").read_text())
    scored = [c["case_id"] for c in report["postprocessed"]["cases"]]
    assert len(scored) == 11 and case.name not in scored
    assert f"read at only one: {case.name}" in capsys.readouterr().out


def test_bad_arguments_are_reported(dataset: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture) -> None:
    assert main(["train-seg", str(dataset), str(tmp_path), "--fold", "5", *FAST]) == 2
    assert "fold" in capsys.readouterr().err
    assert main(["train-response", str(dataset), str(tmp_path), *FAST]) == 2
    assert "--gt-masks" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_saves_and_resume_finishes(dataset: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "training", "train-seg", str(dataset), str(tmp_path),
               "--config", "kf_only", *TINY_MODEL, "--epochs", "1000", "--batch-size", "4",
               "--folds", "3", "--read-workers", "1", "--threads", "1", "--log-every", "1"]
    process = subprocess.Popen(command, cwd=PROJECT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in process.stdout:
        if "step 3/" in line:
            process.send_signal(signal.SIGINT)
            break
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 130 and "--resume" in output
    assert (tmp_path / "last.pt").is_file()
    resumed = subprocess.run([*command, "--resume", "--time-budget-minutes", "0.02"],
                             cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert re.search(r"resuming at epoch 1, step [34]/", resumed.stdout)
    assert "time_budget after" in resumed.stdout


def test_evaluate_response_takes_a_shipped_weights_folder(dataset: Path, tmp_path: Path) -> None:
    # The shipped models read 256 px cases: the tiny dataset is read at that size.
    shipped = PROJECT / "resources" / "weights"
    out = tmp_path / "evaluation"
    assert main(["evaluate-response", str(dataset), str(out), "--checkpoint",
                 str(shipped / "response.pt"), "--resamples", "20", *FAST[:4]]) == 0
    report = json.loads((out / "response.json").read_text())
    weights = load_weights(shipped)
    assert report["evaluations"][0]["threshold"] == pytest.approx(weights.threshold)
    assert len(report["case_ids"]) == 12
