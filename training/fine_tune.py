"""Fine-tuning a weights folder on a site's own labelled cases.

A hospital's annotators correct the model's masks and export them in the case-folder
contract; this turns those cases into weights adapted to the site's runs. It starts from a
weights folder (checksums verified), holds out a validation part of the site's cases (at
least one), trains the segmentation model on the rest with :func:`train_segmentation`
(early stopping and the best model on the site's validation tumor Dice, a time budget) and
writes ``OUT/weights``: a complete weights folder (tensors, ONNX, manifest with checksums)
whose provenance names the base weights, the site's cases and their fingerprint, and the
site-validation Dice before and after.

The response model is kept; it reads the segmentation's mask, which has changed, so where
the site's ``clinical.csv`` gives responders and non-responders its operating threshold is
chosen again on them (Youden's J) with the new masks. Otherwise the manifest says the
threshold was left as it was.

The learning rate follows the training loop's cosine over ``max_epochs``, far more epochs
than a budget of minutes allows, so it decays only a little: the time budget and early
stopping end the run, whatever the machine's load (a plan sized from timed steps went wrong
on a shared CPU, where step times vary several-fold).
"""

from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dsaviewer.core.metrics_classification import roc_auc, youden_threshold
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import MANIFEST_NAME, Provenance, sha256_of, write_manifest
from dsaviewer.inference.weights import LoadedWeights, load_weights, write_weights
from dsaviewer.models import build_segmentation_model
from training.checkpoint import load_checkpoint
from training.dataset import CaseRecord
from training.device import (
    RuntimeOptions,
    configure_threads,
)
from training.export_onnx import export_onnx
from training.loop_contract import BEST_CHECKPOINT, LAST_CHECKPOINT, StepReport, StopRequest
from training.seg_predictions import TrainedSegmentation, predict_key_frames
from training.splits import CaseSplit, split_cases
from training.torch_data import SegmentationDataset
from training.train_response import TrainedResponse, response_probabilities
from training.train_segmentation import (
    SegmentationTrainingOptions,
    train_segmentation,
    validation_dice,
)
from training.trainable import TRAINABLE, select_trainable

WEIGHTS_DIR = "weights"
# Seconds kept back from the budget for writing the weights, the ONNX export and the
# response threshold after training.
FINISH_RESERVE_S = 45.0


@dataclass(frozen=True)
class FineTuneOptions:
    minutes: float = 10.0  # the whole run: reading, training, writing
    val_fraction: float = 0.2
    learning_rate: float = 3e-4
    trainable: str = "all"
    batch_size: int = 8
    max_epochs: int = 300  # sets the cosine's length; the budget or patience ends a run
    patience: int = 15  # validations without a better tumor Dice before stopping
    seed: int = 0
    log_every: int = 10

    def __post_init__(self) -> None:
        if not self.minutes > 0:
            raise ValueError(f"minutes must be positive, got {self.minutes}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if self.trainable not in TRAINABLE:
            raise ValueError(f"trainable must be one of {sorted(TRAINABLE)}")
        if not self.learning_rate > 0 or self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("learning_rate, batch_size and max_epochs must be positive")


@dataclass(frozen=True)
class FineTuneResult:
    weights_dir: Path | None  # None when the run was stopped before it finished
    split: CaseSplit
    before: dict[str, float]
    after: dict[str, float]
    stop_reason: str
    response_threshold: dict[str, Any] = field(default_factory=dict)


def validation_split(case_ids: Sequence[str], val_fraction: float, seed: int = 0) -> CaseSplit:
    """About ``val_fraction`` of the cases for validation, at least one, at least one left to
    train on; as :func:`split_cases` makes it (fold 0)."""
    if len(case_ids) < 2:
        raise InputError(f"fine-tuning needs at least 2 labelled cases (one to validate on), "
                         f"found {len(case_ids)}", "dataset")
    n_folds = min(len(case_ids), max(2, round(1.0 / val_fraction)))
    return split_cases(case_ids, 0, n_folds, seed)


def data_fingerprint(records: Sequence[CaseRecord]) -> str:
    """sha256 over what training read of each case: its id, model-size clip, key frame,
    masks and response; the same cases give the same fingerprint wherever they are stored."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r.case_id):
        digest.update(f"{record.case_id}:{record.key_frame}:{record.response};".encode())
        digest.update(record.clip.tobytes())
        for label in record.labelled:
            digest.update(f"{label.frame_index};".encode())
            digest.update(np.packbits(label.tumor).tobytes())
            digest.update(np.packbits(label.liver).tobytes())
    return digest.hexdigest()


def check_output_folder(out_dir: str | Path) -> None:
    """InputError when ``out_dir`` holds an earlier run (finished or cancelled): a fine-tune
    always starts afresh, it has no --resume, and must not overwrite that run's files."""
    out = Path(out_dir)
    if (out / LAST_CHECKPOINT).exists():
        raise InputError("holds an earlier fine-tuning run, and fine-tune does not resume or "
                         "overwrite one: give a new or empty output folder", out)


def fine_tune(
    records: Sequence[CaseRecord],
    base_dir: str | Path,
    out_dir: str | Path,
    options: FineTuneOptions,
    runtime: RuntimeOptions | None = None,
    started: float | None = None,
    log: Callable[[str], None] = print,
    on_step: Callable[[StepReport], None] | None = None,
    on_validation: Callable[[int, Mapping[str, float]], None] | None = None,
    stop: StopRequest | None = None,
    command: str = "",
) -> FineTuneResult:
    """Fine-tune the weights in ``base_dir`` on ``records`` and write ``out_dir/weights``.

    ``started`` (``time.monotonic()``) is when the budget began, e.g. before the cases were
    read; default now. WeightsError when ``base_dir`` is not a sound weights folder.
    """
    started = time.monotonic() if started is None else started
    runtime = runtime or RuntimeOptions()
    check_output_folder(out_dir)
    base = load_weights(base_dir)
    config = base.segmentation_config
    try:  # e.g. "context" of weights without context blocks
        select_trainable(build_segmentation_model(config), TRAINABLE[options.trainable])
    except ValueError as error:
        raise InputError(f"{options.trainable!r}: the {config.backbone} model of these "
                         f"weights has no such parts ({error})", "--trainable") from error
    wrong = [r.case_id for r in records if r.clip.shape[-1] != config.image_size]
    if wrong:
        raise InputError(f"cases {wrong[:3]} were read at another size than the weights' "
                         f"{config.image_size} px", "dataset")
    split = validation_split([r.case_id for r in records], options.val_fraction, options.seed)
    by_id = {record.case_id: record for record in records}
    configure_threads(runtime.threads, 1)

    val_set = SegmentationDataset([by_id[c] for c in split.validation], config,
                                  key_frames_only=True)
    with torch.no_grad():
        before = validation_dice(base.segmentation.eval(), val_set, lambda batch: batch,
                                 options.batch_size)
    log(f"site validation before fine-tuning ({len(split.validation)} cases): "
        + _scores(before))

    left_s = 60.0 * options.minutes - (time.monotonic() - started) - FINISH_RESERVE_S
    if left_s <= 0:
        raise InputError(f"the budget of {options.minutes} min is spent before training "
                         "starts: give more minutes", "--minutes")
    log(f"training on {len(split.train)} cases for at most {left_s / 60:.1f} min")

    seg_options = SegmentationTrainingOptions(
        epochs=options.max_epochs, tdl_warmup_epochs=0, batch_size=options.batch_size,
        learning_rate=options.learning_rate, seed=options.seed, n_folds=split.n_folds,
        split_seed=options.seed, time_budget_minutes=left_s / 60.0,
        log_every=options.log_every, patience=options.patience,
        trainable=TRAINABLE[options.trainable],
    )
    out = Path(out_dir)
    trained = train_segmentation(
        records, config, seg_options, out, runtime, log=log, on_step=on_step, stop=stop,
        command=command, initial_state=base.segmentation.state_dict(),
        on_validation=on_validation,
    )
    if trained.stop_reason == "interrupted" or trained.best_checkpoint is None:
        return FineTuneResult(None, split, before, {}, trained.stop_reason)

    best = load_checkpoint(out / BEST_CHECKPOINT, "segmentation")
    model = copy.deepcopy(base.segmentation)
    model.load_state_dict(best["model"])
    model.eval()
    after = {name[len("val_"):]: float(value) for name, value in best["metrics"].items()
             if name.startswith("val_")}
    log("site validation after fine-tuning: " + _scores(after))
    if after.get("tumor_dice", 0.0) <= before.get("tumor_dice", 0.0):
        log("warning: fine-tuning did not raise the site's validation tumor Dice; "
            "the base weights may serve this site as well")

    threshold, threshold_note = _response_threshold(base, model, records, runtime)
    folder = out / WEIGHTS_DIR
    provenance = Provenance(
        training_command=command,
        data_size=len(records),
        evaluation={"site_validation_before": before, "site_validation_after": after},
        fine_tuning={
            "base_weights": {
                "folder": str(Path(base_dir)),
                "manifest_sha256": sha256_of(Path(base_dir) / MANIFEST_NAME),
                "segmentation_sha256": base.manifest.segmentation.sha256,
                "response_sha256": None if base.manifest.response is None
                else base.manifest.response.sha256,
            },
            "site_data": {
                "case_ids": sorted(by_id),
                "fingerprint_sha256": data_fingerprint(records),
                "train": list(split.train),
                "validation": list(split.validation),
            },
            "site_validation": {"before": before, "after": after},
            "options": {"val_fraction": options.val_fraction,
                        "learning_rate": options.learning_rate,
                        "trainable": options.trainable, "batch_size": options.batch_size,
                        "minutes": options.minutes, "patience": options.patience},
            "best_epoch": trained.best_epoch,
            "steps": trained.global_step,
            "stop_reason": trained.stop_reason,
            "response_threshold": threshold_note,
        },
    )
    written = write_weights(folder, model, config, base.response, base.response_config,
                            threshold, provenance)
    if written.response is not None and base.manifest.response.calibration is not None:
        # The response model is the base's: so is its calibration, and the threshold (kept or
        # chosen on calibrated probabilities) is on that scale.
        write_manifest(folder, replace(written, response=replace(
            written.response, calibration=base.manifest.response.calibration)))
    export_onnx(folder)
    log(f"weights written to {folder} in {(time.monotonic() - started) / 60:.1f} min")
    return FineTuneResult(folder, split, before, after, trained.stop_reason, threshold_note)


def _response_threshold(
    base: LoadedWeights,
    segmentation: torch.nn.Module,
    records: Sequence[CaseRecord],
    runtime: RuntimeOptions,
) -> tuple[float | None, dict[str, Any]]:
    """The response operating point for the new masks, and a note of what was done."""
    if base.response is None:
        return None, {"status": "no response model"}
    kept = base.threshold
    known = [record for record in records if record.response is not None]
    labels = {record.response for record in known}
    if len(labels) < 2:
        return kept, {"status": "left as it was", "threshold": kept,
                      "reason": "clinical.csv gives no responders and non-responders"
                      if not known else "clinical.csv gives only one outcome"}
    predictions = predict_key_frames(
        TrainedSegmentation(segmentation, base.segmentation_config, {}, base.directory),
        known, runtime)
    masks = {case_id: p.masks(postprocess=True)[0].astype(np.float32)
             for case_id, p in predictions.items()}
    response = TrainedResponse(base.response, base.response_config,
                               {"options": {}, "calibration": base.manifest.response.calibration},
                               base.directory)
    _, truth, probabilities = response_probabilities(response, known, masks, runtime)
    chosen = float(np.clip(youden_threshold(truth, probabilities), 0.0, 1.0))
    return chosen, {"status": "recalibrated", "threshold": chosen, "before": kept,
                    "cases": len(known), "responders": int(truth.sum()),
                    "auc_on_site": roc_auc(truth, probabilities),
                    "rule": "Youden's J on the site's cases with a known response"}


def _scores(scores: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {value:.4f}" for name, value in scores.items())
