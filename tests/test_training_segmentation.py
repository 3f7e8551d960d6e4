"""Segmentation training: learning, every ablation row, TDL warm-up, exact resume, outputs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader
from training_fixtures import tiny_records

from dsaviewer.errors import InputError
from dsaviewer.inference.weights import load_weights
from dsaviewer.models import ABLATIONS, build_segmentation_model, ltdnet_loss
from training.checkpoint import load_checkpoint, save_checkpoint
from training.device import RuntimeOptions
from training.loop_contract import StepReport, StopRequest
from training.torch_data import SegmentationDataset
from training.train_segmentation import SegmentationTrainingOptions, train_segmentation
from training.trainable import TRAINABLE

CPU = RuntimeOptions(device="cpu", threads=1)
QUIET = dict(log=lambda message: None)


def tiny(name: str) -> object:
    return dataclasses.replace(ABLATIONS[name], base_width=4, depth=3, image_size=64)


def options(**changes: object) -> SegmentationTrainingOptions:
    defaults = dict(epochs=2, tdl_warmup_epochs=0, batch_size=4, log_every=1000,
                    checkpoint_every=1000, n_folds=4)
    return SegmentationTrainingOptions(**{**defaults, **changes})


@pytest.fixture(scope="module")
def records() -> list:
    return tiny_records(8)


def test_training_lowers_the_loss(records: list, tmp_path: Path) -> None:
    config = tiny("full")
    result = train_segmentation(records, config, options(epochs=3), tmp_path, CPU, **QUIET)
    assert result.stop_reason == "finished" and result.global_step == result.planned_steps

    batch = next(iter(DataLoader(SegmentationDataset(records, config), batch_size=12)))
    torch.manual_seed(0)  # the seed training built its model with
    before = build_segmentation_model(config)
    after = build_segmentation_model(config)
    after.load_state_dict(load_checkpoint(tmp_path / "last.pt")["model"])
    with torch.no_grad():
        loss_before = ltdnet_loss(before(batch["frames"]), batch, config).total
        loss_after = ltdnet_loss(after(batch["frames"]), batch, config).total
    assert float(loss_after) < float(loss_before) - 0.01


@pytest.mark.parametrize("name", [*sorted(ABLATIONS), "full+frames_and_run"])
def test_every_ablation_row_trains(records: list, tmp_path: Path, name: str) -> None:
    ablation, _, liver_input = name.partition("+")
    config = tiny(ablation)
    if liver_input:
        config = dataclasses.replace(config, liver_input=liver_input)
    torch.manual_seed(0)
    initial = build_segmentation_model(config).state_dict()
    result = train_segmentation(records, config, options(max_steps=2), tmp_path, CPU, **QUIET)
    assert result.global_step == 2
    trained = load_checkpoint(tmp_path / "last.pt")["model"]
    changed = [key for key, tensor in initial.items() if not torch.equal(tensor, trained[key])]
    assert any(key.startswith("tumor_net") for key in changed)
    assert 0.0 <= result.best_dice <= 1.0


def test_tdl_warmup_trains_only_the_temporal_network(records: list, tmp_path: Path) -> None:
    config = tiny("kf_tdl")
    torch.manual_seed(0)
    initial = build_segmentation_model(config).state_dict()
    seen: list[StepReport] = []
    result = train_segmentation(records, config, options(epochs=5, tdl_warmup_epochs=1),
                                tmp_path, CPU, on_step=seen.append, **QUIET)
    warmup_steps = result.planned_steps // 6
    assert [set(r.parts) for r in seen[:warmup_steps]] == [{"temporal"}] * warmup_steps
    assert set(seen[warmup_steps].parts) == {"total", "tumor", "temporal"}
    assert seen[warmup_steps - 1].learning_rate == pytest.approx(1e-3)  # constant in warm-up
    assert result.history[0]["phase"] == "warmup" and "val_tumor_dice" not in result.history[0]

    # Stop right after the warm-up: only TDL has moved.
    stop = StopRequest()

    def stop_after_warmup(report: StepReport) -> None:
        if report.global_step == warmup_steps:
            stop.request()

    train_segmentation(records, config, options(epochs=5, tdl_warmup_epochs=1),
                       tmp_path / "again", CPU, on_step=stop_after_warmup, stop=stop, **QUIET)
    after = load_checkpoint(tmp_path / "again" / "last.pt")["model"]
    moved = {key.split(".")[0] for key, tensor in initial.items()
             if tensor.is_floating_point() and not torch.equal(tensor, after[key])}
    assert moved == {"temporal_net"}


def test_an_interrupted_run_resumes_to_the_same_weights(records: list, tmp_path: Path) -> None:
    config = tiny("full")
    settings = options(epochs=3, tdl_warmup_epochs=1, checkpoint_every=2)
    straight = train_segmentation(records, config, settings, tmp_path / "straight", CPU, **QUIET)

    stop = StopRequest()

    def interrupt(report: StepReport) -> None:
        if report.global_step == 7:  # mid-epoch, after the warm-up
            stop.request()

    first = train_segmentation(records, config, settings, tmp_path / "resumed", CPU,
                               on_step=interrupt, stop=stop, **QUIET)
    assert first.stop_reason == "interrupted" and first.global_step == 7
    assert first.weights_dir is None
    resumed = train_segmentation(records, config, settings, tmp_path / "resumed", CPU,
                                 resume=True, **QUIET)
    assert resumed.global_step == straight.global_step
    expected = load_checkpoint(tmp_path / "straight" / "last.pt")
    actual = load_checkpoint(tmp_path / "resumed" / "last.pt")
    for key, tensor in expected["model"].items():
        assert torch.equal(tensor, actual["model"][key]), key
    assert resumed.best_dice == straight.best_dice
    assert [h.get("val_tumor_dice") for h in resumed.history] == [
        h.get("val_tumor_dice") for h in straight.history]


def test_outputs_best_model_weights_folder_and_summary(records: list, tmp_path: Path) -> None:
    config = tiny("kf_lrs")
    result = train_segmentation(records, config, options(), tmp_path, CPU, command="test", **QUIET)
    best = load_checkpoint(result.best_checkpoint, "segmentation")
    assert best["split"]["validation"] == list(result.split.validation)
    assert result.selected_by == "tumor"  # the tumor network learns: its Dice picks the best
    assert best["metrics"]["val_tumor_dice"] == result.best_dice
    assert "val_liver_dice" in best["metrics"]
    loaded = load_weights(result.weights_dir)
    assert loaded.segmentation_config == config and loaded.response is None
    for key, tensor in best["model"].items():
        assert torch.equal(loaded.segmentation.state_dict()[key], tensor)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["best_dice"] == result.best_dice
    assert [h["epoch"] for h in summary["history"]] == [1, 2]
    assert "epoch 2 validation" in (tmp_path / "log.jsonl").read_text()


def test_an_earlier_run_is_neither_overwritten_nor_resumed_differently(
    records: list, tmp_path: Path
) -> None:
    config = tiny("kf_only")
    train_segmentation(records, config, options(max_steps=1), tmp_path, CPU, **QUIET)
    with pytest.raises(InputError, match="--resume"):
        train_segmentation(records, config, options(max_steps=1), tmp_path, CPU, **QUIET)
    with pytest.raises(InputError, match="learning_rate"):
        train_segmentation(records, config, options(max_steps=1, learning_rate=0.1), tmp_path,
                           CPU, resume=True, **QUIET)
    with pytest.raises(InputError, match="config"):
        train_segmentation(records, tiny("kf_fd"), options(max_steps=1), tmp_path, CPU,
                           resume=True, **QUIET)


def test_a_checkpoint_older_than_a_config_field_resumes_with_the_fields_default(
    records: list, tmp_path: Path
) -> None:
    config, settings = tiny("full"), options(epochs=2, tdl_warmup_epochs=0, checkpoint_every=2)
    stop = StopRequest()

    def interrupt(report: StepReport) -> None:
        if report.global_step == 2:
            stop.request()

    first = train_segmentation(records, config, settings, tmp_path, CPU, on_step=interrupt,
                               stop=stop, **QUIET)
    assert first.stop_reason == "interrupted"
    stored = load_checkpoint(tmp_path / "last.pt")
    del stored["config"]["liver_input"]  # written before the liver network could read frames
    save_checkpoint(tmp_path / "last.pt", stored)
    resumed = train_segmentation(records, config, settings, tmp_path, CPU, resume=True, **QUIET)
    assert resumed.global_step > first.global_step == 2


def test_checkpoint_files_are_checked_on_load(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable"):
        load_checkpoint(tmp_path / "garbage.pt")
    save_checkpoint(tmp_path / "other.pt", {"kind": "response", "model": {}})
    with pytest.raises(InputError, match="'response'"):
        load_checkpoint(tmp_path / "other.pt", "segmentation")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_fine_tuning_starts_from_given_weights_and_trains_only_the_chosen_parts(
    records: list, tmp_path: Path
) -> None:
    config = tiny("full")
    torch.manual_seed(1)  # not the run's seed: a random start would differ from this one
    start = build_segmentation_model(config).state_dict()
    parameters = [name for name, _ in build_segmentation_model(config).named_parameters()]
    heard: list[int] = []
    result = train_segmentation(
        records, config, options(epochs=4, trainable=("tumor_net.",), patience=1), tmp_path,
        CPU, initial_state=start, on_validation=lambda epoch, metrics: heard.append(epoch),
        **QUIET)
    after = result.model.state_dict()
    moved = {name.split(".")[0] for name in parameters if not torch.equal(start[name],
                                                                          after[name])}
    assert moved == {"tumor_net"}
    assert heard == [entry["epoch"] for entry in result.history if "val_tumor_dice" in entry]
    assert heard


def test_a_liver_only_run_keeps_the_other_networks_weights_and_batchnorm_statistics(
    records: list, tmp_path: Path
) -> None:
    config = tiny("full")
    torch.manual_seed(1)
    start = build_segmentation_model(config).state_dict()
    result = train_segmentation(records, config, options(epochs=2, trainable=TRAINABLE["liver"]),
                                tmp_path, CPU, initial_state=start, **QUIET)
    after = result.model.state_dict()
    # The state holds the BatchNorm running statistics too: a frozen network that kept
    # normalising in training mode would have moved them.
    moved = {name.split(".")[0] for name in start if not torch.equal(start[name], after[name])}
    assert moved == {"liver_net"}
    # The frozen tumor network's loss still counts: it reads the liver's probability.
    logged = [entry for entry in result.history if "train_total" in entry]
    assert logged and all(entry["train_total"] > entry["train_liver"] + 0.5 * entry["train_tumor"]
                          for entry in logged)
    # The liver's validation Dice picks the best model.
    assert result.selected_by == "liver"
    best = load_checkpoint(result.best_checkpoint)
    assert best["metrics"]["val_liver_dice"] == result.best_dice
