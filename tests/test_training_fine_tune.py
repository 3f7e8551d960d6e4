"""``python -m training fine-tune`` on three generated cases: the weights folder it writes
loads in both backends and predicts differently from the base, its manifest names the base
weights and the site's cases, the response threshold is recalibrated only where responses
are known, a corrupt folder is refused, and a stop request writes no weights."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_inference_fixtures import MODEL_SIZE, write_tiny_weights

from dsaviewer.analyze_cli import main as analyze_main
from dsaviewer.inference.backend import load_backend
from dsaviewer.inference.manifest import WeightsError, read_manifest
from dsaviewer.inference.weights import load_weights
from training.__main__ import main
from training.dataset import read_dataset
from training.export_onnx import export_onnx
from training.fine_tune import data_fingerprint
from training.synth.dataset_writer import write_dataset
from training.synth.options import SynthOptions

PROJECT = Path(__file__).resolve().parent.parent
FAST = ["--read-workers", "1", "--threads", "1", "--patience", "2"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "data"
    options = SynthOptions(sizes=(((128, 128), 1.0),), formats=(("png", 1.0),), frames=(14, 16))
    write_dataset(folder, 3, seed=11, options=options)
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_tiny_weights(tmp_path_factory.mktemp("base") / "weights")
    export_onnx(folder)
    return folder


@pytest.fixture(scope="module")
def tuned(dataset: Path, base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tuned") / "run"
    assert main(["fine-tune", str(dataset), str(out), "--from", str(base), "--minutes", "1",
                 *FAST]) == 0
    return out / "weights"


def test_fine_tuned_weights_load_in_both_backends_and_change_predictions(
    base: Path, tuned: Path
) -> None:
    frames = np.random.default_rng(0).random((10, MODEL_SIZE, MODEL_SIZE), np.float32)
    before = load_backend(base, "torch").segment(frames, None)
    torch_maps = load_backend(tuned, "torch").segment(frames, None)
    onnx_maps = load_backend(tuned, "onnx").segment(frames, None)
    assert np.abs(torch_maps.tumor - before.tumor).max() > 1e-3
    assert np.abs(torch_maps.liver - before.liver).max() > 1e-3
    np.testing.assert_allclose(onnx_maps.tumor, torch_maps.tumor, atol=1e-4)
    np.testing.assert_allclose(onnx_maps.liver, torch_maps.liver, atol=1e-4)


def test_dsaviewer_analyze_runs_on_them_and_names_them(
    dataset: Path, tuned: Path, tmp_path: Path
) -> None:
    case = sorted(p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith("."))[0]
    for backend in ("torch", "onnx"):
        out = tmp_path / backend
        assert analyze_main([str(case), "--out", str(out), "--weights", str(tuned),
                             "--backend", backend]) == 0
        result = json.loads((out / case.name / "result.json").read_text())
        assert result["backend"] == backend
        assert result["weights_name"] == "run (fine-tuned on 3 site cases)"


def test_manifest_names_the_base_weights_and_the_site_data(
    dataset: Path, base: Path, tuned: Path, tmp_path: Path
) -> None:
    base_manifest = read_manifest(base)
    provenance = load_weights(tuned).manifest.provenance
    assert not provenance.random_init and "fine-tune" in provenance.training_command
    tuning = provenance.fine_tuning
    assert tuning["base_weights"]["segmentation_sha256"] == base_manifest.segmentation.sha256
    assert tuning["base_weights"]["response_sha256"] == base_manifest.response.sha256
    cases = sorted(p.name for p in dataset.iterdir() if p.is_dir() and not p.name.startswith("."))
    site = tuning["site_data"]
    assert site["case_ids"] == cases
    assert len(site["validation"]) >= 1 and sorted(site["train"] + site["validation"]) == cases
    records = read_dataset(dataset, size=MODEL_SIZE, cache_dir=tmp_path, workers=1).records
    assert site["fingerprint_sha256"] == data_fingerprint(records)
    assert set(tuning["site_validation"]) == {"before", "after"}
    assert "tumor_dice" in tuning["site_validation"]["after"]
    # The three generated cases hold responders and non-responders: threshold chosen again.
    labels = {row["response"] for row in csv.DictReader((dataset / "clinical.csv").open())}
    assert {"0", "1"} <= labels
    assert tuning["response_threshold"]["status"] == "recalibrated"
    assert load_weights(tuned).threshold == tuning["response_threshold"]["threshold"]


def test_without_responses_the_threshold_is_left_as_it_was(
    dataset: Path, base: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    shutil.copytree(dataset, site, ignore=shutil.ignore_patterns(".cache"))
    with (dataset / "clinical.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (site / "clinical.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "response": ""} for row in rows)
    out = tmp_path / "run"
    assert main(["fine-tune", str(site), str(out), "--from", str(base), "--minutes", "1",
                 *FAST]) == 0
    weights = load_weights(out / "weights")
    note = weights.manifest.provenance.fine_tuning["response_threshold"]
    assert note["status"] == "left as it was"
    assert weights.threshold == read_manifest(base).response.threshold


def test_a_calibrated_base_keeps_its_calibration(dataset: Path, base: Path,
                                                 tmp_path: Path) -> None:
    """The response model is the base's, so is its calibration; the threshold stays on the
    calibrated scale the program shows."""
    import dataclasses

    from dsaviewer.inference.manifest import write_manifest

    calibrated = Path(shutil.copytree(base, tmp_path / "calibrated"))
    manifest = read_manifest(calibrated)
    write_manifest(calibrated, dataclasses.replace(manifest, response=dataclasses.replace(
        manifest.response, calibration=(0.7, -0.3))))
    out = tmp_path / "run"
    assert main(["fine-tune", str(dataset), str(out), "--from", str(calibrated), "--minutes",
                 "1", *FAST]) == 0
    tuned = read_manifest(out / "weights")
    assert tuned.response.calibration == (0.7, -0.3)
    assert load_backend(out / "weights", "onnx", "cpu").response.calibration == (0.7, -0.3)


def test_a_corrupt_weights_folder_is_refused(
    dataset: Path, tuned: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tuned, corrupt)
    tensors = corrupt / "segmentation.pt"
    data = bytearray(tensors.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tensors.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="checksum mismatch"):
        load_weights(corrupt)
    code = main(["fine-tune", str(dataset), str(tmp_path / "run"), "--from", str(corrupt),
                 *FAST])
    assert code == 2
    assert "checksum mismatch" in capsys.readouterr().err
    assert not (tmp_path / "run" / "weights").exists()


def test_parts_the_weights_do_not_have_are_refused_before_training(
    dataset: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    code = main(["fine-tune", str(dataset), str(tmp_path / "run"), "--from", str(base),
                 "--trainable", "context", *FAST])
    assert code == 2
    printed = capsys.readouterr()
    assert "'context': the unet model of these weights has no such parts" in printed.err
    assert "site validation" not in printed.out
    assert not (tmp_path / "run" / "weights").exists()


def test_progress_is_json_lines_and_a_stop_request_writes_no_weights(
    dataset: Path, base: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "training", "fine-tune", str(dataset), str(out), "--from",
         str(base), "--minutes", "5", "--progress-json", "--read-workers", "1", "--threads",
         "1"],
        cwd=PROJECT, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    events = []
    for line in process.stdout:
        events.append(json.loads(line))
        if events[-1]["event"] == "step" and events[-1]["step"] >= 3:
            process.send_signal(signal.SIGTERM)
            break
    events += [json.loads(line) for line in process.stdout]
    assert process.wait(timeout=60) == 130
    kinds = [event["event"] for event in events]
    assert kinds.index("start") < kinds.index("step") < kinds.index("stopped")
    step = next(event for event in events if event["event"] == "step")
    assert step["loss"] > 0 and 0 < step["time_left_s"] <= 300
    assert not (out / "weights").exists()

    # What it says names no --resume, which fine-tune does not have, and what to do instead.
    said = [event["message"] for event in events if event["event"] == "log"]
    assert not [message for message in said if "resume with" in message
                or "--resume" in message]
    assert said[-1].startswith("cancelled; no weights written. A fine-tune cannot be resumed: "
                               "run it again with a new output folder")
    assert f"--cache-dir {out / 'cache'}" in said[-1]
    # The same command again is refused at once, saying so, and leaves the folder as it was.
    before = sorted(path.name for path in out.iterdir())
    assert main(["fine-tune", str(dataset), str(out), "--from", str(base), *FAST]) == 2
    refusal = capsys.readouterr().err
    assert "fine-tune does not resume or overwrite one: give a new or empty output folder" in (
        refusal) and "--resume" not in refusal
    assert sorted(path.name for path in out.iterdir()) == before


def test_a_model_whose_liver_network_reads_the_run_maps_fine_tunes(
    dataset: Path, tmp_path: Path
) -> None:
    base = write_tiny_weights(tmp_path / "base", liver_input="frames_and_run")
    export_onnx(base)
    out = tmp_path / "run"
    assert main(["fine-tune", str(dataset), str(out), "--from", str(base), "--minutes", "1",
                 *FAST]) == 0
    frames = np.random.default_rng(0).random((10, MODEL_SIZE, MODEL_SIZE), np.float32)
    run_maps = np.random.default_rng(1).random((2, MODEL_SIZE, MODEL_SIZE), np.float32)
    torch_maps = load_backend(out / "weights", "torch").segment(frames, None, run_maps)
    onnx_maps = load_backend(out / "weights", "onnx").segment(frames, None, run_maps)
    before = load_backend(base, "torch").segment(frames, None, run_maps)
    assert np.abs(torch_maps.liver - before.liver).max() > 1e-3
    np.testing.assert_allclose(onnx_maps.liver, torch_maps.liver, atol=1e-4)
