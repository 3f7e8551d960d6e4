"""Response training on predicted or annotated masks, the cached segmentation predictions and
the out-of-fold choice of segmentation model."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from training_fixtures import tiny_records

from dsaviewer.core.metrics_classification import youden_threshold
from dsaviewer.errors import InputError
from dsaviewer.inference.weights import load_weights
from dsaviewer.models import ABLATIONS, ResponseConfig
from training.checkpoint import load_checkpoint
from training.device import RuntimeOptions
from training.seg_predictions import (
    cached_key_frame_predictions,
    load_trained_segmentation,
    predict_key_frames,
    response_input_masks,
)
from training.torch_data import ground_truth_key_frame_masks
from training.train_response import (
    GROUND_TRUTH,
    ResponseTrainingOptions,
    load_trained_response,
    response_probabilities,
    train_response,
)
from training.train_segmentation import SegmentationTrainingOptions, train_segmentation

CPU = RuntimeOptions(device="cpu", threads=1)
QUIET = dict(log=lambda message: None)
SEG = dataclasses.replace(ABLATIONS["kf_lrs"], base_width=4, depth=3, image_size=64)
RESPONSE = ResponseConfig(clinical_features=26, width=4, clinical_hidden=4, fusion_hidden=4,
                          image_size=64)


@pytest.fixture(scope="module")
def records() -> list:
    return tiny_records(12)


@pytest.fixture(scope="module")
def seg_runs(records: list, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two fold models of a 2-fold cross-validation (one step each)."""
    root = tmp_path_factory.mktemp("seg")
    paths = []
    for fold in range(2):
        options = SegmentationTrainingOptions(epochs=1, batch_size=4, fold=fold, n_folds=2,
                                              max_steps=1)
        result = train_segmentation(records, SEG, options, root / f"fold{fold}", CPU, **QUIET)
        paths.append(result.best_checkpoint)
    return paths


def test_cached_predictions_equal_fresh_ones_and_follow_case_changes(
    records: list, seg_runs: list[Path], tmp_path: Path
) -> None:
    messages: list[str] = []
    first = cached_key_frame_predictions(seg_runs[0], records, tmp_path, CPU, messages.append)
    again = cached_key_frame_predictions(seg_runs[0], records, tmp_path, CPU, messages.append)
    assert len(messages) == 1  # the second call read the cache
    fresh = predict_key_frames(load_trained_segmentation(seg_runs[0]), records, CPU)
    for case_id, prediction in fresh.items():
        np.testing.assert_array_equal(again[case_id].tumor, first[case_id].tumor)
        np.testing.assert_allclose(first[case_id].tumor, prediction.tumor, atol=0.5 / 255)
        np.testing.assert_array_equal(first[case_id].tumor >= 0.5, prediction.tumor >= 0.5)
        assert first[case_id].liver is not None

    changed = [dataclasses.replace(records[0], clip=255 - records[0].clip), *records[1:]]
    cached_key_frame_predictions(seg_runs[0], changed, tmp_path, CPU, messages.append)
    assert messages[-1].startswith("segmenting 1 key frame")


def test_each_case_is_masked_by_the_fold_model_that_held_it_out(
    records: list, seg_runs: list[Path], tmp_path: Path
) -> None:
    masks = response_input_masks(seg_runs, records, tmp_path, CPU)
    assert set(masks) == {record.case_id for record in records}
    for path in seg_runs:
        trained = load_trained_segmentation(path)
        held_out = [r for r in records if r.case_id in trained.stored["split"]["validation"]]
        own = predict_key_frames(trained, held_out, CPU)
        for case_id, prediction in own.items():
            np.testing.assert_array_equal(masks[case_id], prediction.masks(True)[0])


def test_response_training_keeps_the_best_auc_and_bundles_weights(
    records: list, seg_runs: list[Path], tmp_path: Path
) -> None:
    masks = response_input_masks(seg_runs[:1], records, tmp_path / "cache", CPU)
    options = ResponseTrainingOptions(epochs=3, batch_size=4, n_folds=3, patience=5,
                                      log_every=1000)
    result = train_response(records, masks, RESPONSE, options, tmp_path / "run", CPU,
                            segmentation_checkpoint=seg_runs[0], **QUIET)
    aucs = [entry["val_auc"] for entry in result.history]
    assert result.best_auc == max(aucs) and result.best_epoch == aucs.index(max(aucs)) + 1
    trained = load_trained_response(result.best_checkpoint)
    validation = [r for r in records if r.case_id in result.split.validation]
    _, labels, probabilities = response_probabilities(trained, validation, masks, CPU)
    assert labels.tolist() == [r.response for r in validation]
    assert ((probabilities > 0) & (probabilities < 1)).all()

    # The operating point shipped is Youden's J on the validation fold, not a fixed 0.5.
    assert trained.threshold == pytest.approx(youden_threshold(labels, probabilities))
    weights = load_weights(result.weights_dir)
    assert weights.response_config == RESPONSE and weights.threshold == trained.threshold
    for key, tensor in load_checkpoint(result.best_checkpoint)["model"].items():
        assert torch.equal(weights.response.state_dict()[key], tensor)


def test_early_stopping_ends_training_after_patience_epochs(records: list, tmp_path: Path) -> None:
    options = ResponseTrainingOptions(epochs=30, batch_size=4, n_folds=3, patience=0,
                                      masks=GROUND_TRUTH, log_every=1000)
    result = train_response(records, ground_truth_key_frame_masks(records), RESPONSE, options,
                            tmp_path, CPU, **QUIET)
    aucs = [entry["val_auc"] for entry in result.history]
    assert result.stop_reason == "early_stopping"
    assert len(aucs) < 30 and aucs[-1] <= max(aucs[:-1])
    assert result.weights_dir is None  # no segmentation checkpoint to bundle


def test_the_clinical_mlp_and_final_layers_take_their_own_learning_rate(
    records: list, tmp_path: Path
) -> None:
    options = ResponseTrainingOptions(epochs=1, batch_size=4, n_folds=3, masks=GROUND_TRUTH,
                                      learning_rate=1e-4, head_learning_rate=2e-3,
                                      log_every=1000)
    result = train_response(records, ground_truth_key_frame_masks(records), RESPONSE, options,
                            tmp_path, CPU, **QUIET)
    image, head = load_checkpoint(tmp_path / "last.pt")["optimizer"]["param_groups"]
    assert (image["initial_lr"], head["initial_lr"]) == (1e-4, 2e-3)
    model = result.model
    assert len(image["params"]) == len(list(model.image_encoder.parameters()))
    assert len(image["params"]) + len(head["params"]) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="head_learning_rate"):
        ResponseTrainingOptions(head_learning_rate=0.0)


def test_response_training_needs_enough_known_responses(records: list, tmp_path: Path) -> None:
    unknown = [dataclasses.replace(r, response=None) for r in records[:9]] + records[9:]
    with pytest.raises(InputError, match="known response"):
        train_response(unknown, ground_truth_key_frame_masks(records), RESPONSE,
                       ResponseTrainingOptions(n_folds=3), tmp_path, CPU, **QUIET)


def test_training_uses_channels_last_by_default_on_cuda_only() -> None:
    # On CPU its backward of ResNet18's 1x1 stride-2 shortcut at width 4 corrupted the heap
    # (torch 2.13, AVX2-only CPUs): train-response crashed with the old default.
    options = RuntimeOptions()
    assert not options.use_channels_last(torch.device("cpu"))
    assert options.use_channels_last(torch.device("cuda"))
    assert not options.use_channels_last(torch.device("mps"))
    assert RuntimeOptions(channels_last=True).use_channels_last(torch.device("cpu"))
