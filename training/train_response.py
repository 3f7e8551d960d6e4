"""Training DSA-Net Model 2: responder / non-responder to the first TACE from the key frame,
the tumor mask and the clinical variables.

The image is [KF, KF·Pred, Pred], followed by the run maps for a model that reads them (built
inside the step by ``response_image``, as the viewer builds it), the clinical vector is values
then presence flags. ``Pred`` is either the
segmentation model's post-processed prediction (the paper's realistic setting; see
:func:`training.seg_predictions.response_input_masks`) or, as the paper's upper bound, the
annotated mask (``masks="ground_truth"``).

Adam with binary cross-entropy; after every epoch the validation fold's ROC AUC is measured,
the best model is kept and training stops when ``patience`` epochs bring no improvement.
Folds are stratified by response. ``out_dir`` receives the same files as segmentation
training; ``weights/`` holds the segmentation and response models together when a
segmentation checkpoint is given.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from dsaviewer.core.metrics_classification import (
    confusion_at_threshold,
    roc_auc,
    youden_threshold,
)
from dsaviewer.core.probability_calibration import platt
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import Provenance, read_manifest
from dsaviewer.inference.weights import write_weights
from dsaviewer.models import ResponseConfig, ResponseNet, build_response_model, response_image
from training.checkpoint import load_checkpoint, load_trained_model
from training.dataset import CaseRecord
from training.device import RuntimeOptions, prepare_model, select_device
from training.loop_contract import (
    LAST_CHECKPOINT,
    StepOutput,
    StepReport,
    StopRequest,
    TrainingTask,
    Validation,
)
from training.report import write_json
from training.run_setup import (
    RUN_CONTROL,
    batch_preparer,
    check_run_options,
    start_run,
    validation_evaluation,
)
from training.seg_predictions import load_trained_segmentation
from training.splits import CaseSplit, split_cases
from training.torch_data import ResponseDataset, clinical_feature_count

KIND = "response"
SUMMARY_FILE = "summary.json"
WEIGHTS_DIR = "weights"
GROUND_TRUTH = "ground_truth"
PREDICTED = "predicted"


@dataclass(frozen=True)
class ResponseTrainingOptions:
    epochs: int = 100
    patience: int = 15  # epochs without a better validation AUC before stopping
    batch_size: int = 16
    learning_rate: float = 1e-4
    weight_decay: float = 1e-4
    seed: int = 0
    fold: int = 0
    n_folds: int = 5
    split_seed: int = 0
    masks: str = PREDICTED  # or GROUND_TRUTH: what Pred of [KF, KF·Pred, Pred] is
    # Operating point stored with the weights; None: Youden's J on the validation fold at
    # the best epoch (chosen on cases the weights never trained on, never on the test set).
    threshold: float | None = None
    # Learning rate of the clinical MLP and the final layers; None: ``learning_rate``. The
    # ResNet over the image fits (and memorises) faster than they do.
    head_learning_rate: float | None = None
    dihedral_augmentation: bool = True  # see ResponseDataset: without it the net memorises
    max_steps: int | None = None
    time_budget_minutes: float | None = None
    log_every: int = 10
    checkpoint_every: int = 100
    workers: int = 0
    # (family, value) pairs of the broad mix never trained or validated on: a held-out-family
    # run, evaluated on them with ``evaluate-response --held-out``.
    held_out: tuple[tuple[str, str], ...] = ()

    RUN_CONTROL = RUN_CONTROL

    def __post_init__(self) -> None:
        check_run_options(self)
        if self.patience < 0:
            raise ValueError(f"patience must not be negative, got {self.patience}")
        if self.head_learning_rate is not None and not self.head_learning_rate > 0:
            raise ValueError("head_learning_rate must be positive")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must not be negative, got {self.weight_decay}")
        if self.masks not in (PREDICTED, GROUND_TRUTH):
            raise ValueError(f"masks must be {PREDICTED!r} or {GROUND_TRUTH!r}")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ResponseTrainingResult:
    out_dir: Path
    best_checkpoint: Path | None
    weights_dir: Path | None
    best_auc: float | None
    best_epoch: int | None
    global_step: int
    stop_reason: str
    history: list[dict[str, Any]]
    split: CaseSplit
    model: nn.Module  # the model after the last step (the best one is in best.pt), on the CPU


def response_cases(records: Sequence[CaseRecord]) -> list[CaseRecord]:
    """The records whose response is known (the others cannot train or test Model 2)."""
    return [record for record in records if record.response is not None]


def train_response(
    records: Sequence[CaseRecord],
    masks: Mapping[str, np.ndarray],
    config: ResponseConfig,
    options: ResponseTrainingOptions,
    out_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    segmentation_checkpoint: str | Path | None = None,
    resume: bool = False,
    log: Callable[[str], None] = print,
    on_step: Callable[[StepReport], None] | None = None,
    stop: StopRequest | None = None,
    command: str = "",
) -> ResponseTrainingResult:
    """Train Model 2 on the training folds of the records with a known response.

    ``masks``: case id -> the ``(S, S)`` tumor mask Model 2 reads for that case.
    ``segmentation_checkpoint``: the model that made them (or any, with ground-truth masks),
    bundled with the response model into ``weights/``.
    """
    cases = response_cases(records)
    if len(cases) < options.n_folds * 2:
        raise InputError(f"only {len(cases)} cases have a known response; {options.n_folds} "
                         "folds need at least two each", "clinical.csv")
    if config.clinical_features not in (0, clinical_feature_count(cases)):
        raise ValueError(f"the config reads {config.clinical_features} clinical features, the "
                         f"data give {clinical_feature_count(cases)}")
    run = start_run(runtime, out_dir)
    split = split_cases([r.case_id for r in cases], options.fold, options.n_folds,
                        options.split_seed, strata={r.case_id: int(r.response) for r in cases})
    by_id = {record.case_id: record for record in cases}
    train_set = ResponseDataset([by_id[c] for c in split.train], masks,
                                dihedral=options.dihedral_augmentation, seed=options.seed,
                                run_maps=config.reads_run_maps)
    val_set = ResponseDataset([by_id[c] for c in split.validation], masks,
                              run_maps=config.reads_run_maps)
    model, wrapped = run.place_model(lambda: build_response_model(config), options.seed,
                                     sync_batchnorm=True)
    optimizer = torch.optim.Adam(_parameter_groups(model, options),
                                 weight_decay=options.weight_decay)
    use_clinical = config.clinical_features > 0

    def step(net: nn.Module, batch: dict[str, torch.Tensor], in_warmup: bool) -> StepOutput:
        logits = response_logits(net, batch, use_clinical)
        loss = F.binary_cross_entropy_with_logits(logits.float(), batch["label"])
        return StepOutput(loss, {"bce": float(loss.detach())})

    def validate(net: nn.Module, in_warmup: bool) -> Validation:
        labels, probabilities = predict_probabilities(net, val_set, run.prepare, use_clinical,
                                                      options.batch_size)
        auc = roc_auc(labels, probabilities)
        threshold = options.threshold
        if threshold is None:  # a one-class fold (auc nan) has no ROC curve to choose on
            threshold = 0.5 if math.isnan(auc) else youden_threshold(labels, probabilities)
        confusion = confusion_at_threshold(labels, probabilities, threshold)
        return Validation(auc, {"auc": auc, "accuracy": confusion.accuracy,
                                "threshold": threshold})

    task = TrainingTask(
        kind=KIND, step=step, validate=validate, prepare_batch=run.prepare,
        stored={"config": config.to_dict(), "options": options.to_dict(),
                "split": split.to_dict(),
                "segmentation_checkpoint": "" if segmentation_checkpoint is None
                else str(segmentation_checkpoint)},
    )
    result = run.run_loop(
        task, wrapped, optimizer, train_set, options,
        f"training on {len(split.train)} cases, validating on {len(split.validation)} "
        f"(fold {split.fold + 1}/{split.n_folds}), {options.masks} masks; "
        f"device {run.context.device}",
        epochs=options.epochs, patience=options.patience, resume=resume, log=log,
        on_step=on_step, stop=stop)

    out = run.out
    publish = run.best_to_publish(result)
    weights_dir = None
    if publish is not None and segmentation_checkpoint is not None:
        weights_dir = _write_weights_folder(publish, config, Path(segmentation_checkpoint),
                                            out / WEIGHTS_DIR, command, len(cases))
    summary = ResponseTrainingResult(
        **run.result_fields(result, split, wrapped, weights_dir), best_auc=result.best_score)
    if run.context.is_main:
        write_json(out / SUMMARY_FILE, {
            "config": config.to_dict(), "options": options.to_dict(),
            "best_validation_auc": result.best_score, "best_epoch": result.best_epoch,
            "global_step": result.global_step, "stop_reason": result.stop_reason,
            "seconds_per_step": result.seconds_per_step, "history": result.history,
        })
    return summary


def _parameter_groups(model: nn.Module, options: ResponseTrainingOptions) -> list[dict]:
    image = list(model.image_encoder.parameters())
    chosen = {id(parameter) for parameter in image}
    head = [parameter for parameter in model.parameters() if id(parameter) not in chosen]
    head_rate = options.head_learning_rate or options.learning_rate
    return [{"params": image, "lr": options.learning_rate}, {"params": head, "lr": head_rate}]


def response_logits(
    model: nn.Module, batch: Mapping[str, torch.Tensor], use_clinical: bool
) -> torch.Tensor:
    """Model 2's logits for a batch: the image [KF, KF·Pred, Pred] (then the run maps, where the
    batch has them) and the clinical vector."""
    image = response_image(batch["key_frame"], batch["tumor"], batch.get("run_maps"))
    return model(image, batch["clinical"] if use_clinical else None)


def predict_probabilities(
    model: nn.Module,
    dataset: ResponseDataset,
    prepare: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]],
    use_clinical: bool,
    batch_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, probabilities)`` of every case of ``dataset``, in its order (eval mode)."""
    labels, probabilities = [], []
    for batch in DataLoader(dataset, batch_size=batch_size):
        batch = prepare(batch)
        logits = response_logits(model, batch, use_clinical)
        probabilities.append(torch.sigmoid(logits.float()).cpu().numpy())
        labels.append(batch["label"].cpu().numpy())
    return np.concatenate(labels).astype(int), np.concatenate(probabilities).astype(float)


@dataclass(frozen=True)
class TrainedResponse:
    model: ResponseNet
    config: ResponseConfig
    stored: Mapping[str, Any]  # options (which masks it reads), split, metrics
    path: Path

    @property
    def masks(self) -> str:
        return self.stored["options"]["masks"]

    @property
    def threshold(self) -> float:
        return operating_threshold(self.stored)


def operating_threshold(stored: Mapping[str, Any]) -> float:
    """The operating point of a stored response checkpoint, the one its weights ship with:
    the threshold fixed for training, else the one chosen on the validation fold at that
    epoch (0.5 for checkpoints older than that choice)."""
    fixed = stored["options"].get("threshold")
    if fixed is not None:
        return float(fixed)
    return float(stored.get("metrics", {}).get("val_threshold", 0.5))


def load_trained_response(path: str | Path) -> TrainedResponse:
    """The model of a response ``best.pt`` / ``last.pt`` or of a weights folder's
    ``response.pt``, on the CPU, in eval mode. A weights folder's model reads the masks of
    the segmentation model beside it, at the threshold its manifest ships."""
    trained = TrainedResponse(*load_trained_model(path, KIND, ResponseConfig.from_dict,
                                                  build_response_model))
    if "options" in trained.stored:
        return trained
    folder = trained.path.parent  # a weights folder's file: its manifest says the rest
    manifest = read_manifest(folder)
    if manifest.response is None:
        raise InputError("its manifest has no response model", folder)
    stored = {**trained.stored, "segmentation_checkpoint": str(folder / manifest.segmentation.file),
              "options": {"masks": PREDICTED, "threshold": manifest.response.threshold},
              "calibration": manifest.response.calibration}
    return dataclasses.replace(trained, stored=stored)


def response_probabilities(
    trained: TrainedResponse,
    records: Sequence[CaseRecord],
    masks: Mapping[str, np.ndarray],
    runtime: RuntimeOptions | None = None,
    batch_size: int = 16,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(case ids, labels, probabilities)`` of the records with a known response, float32;
    the probabilities through the calibration of the weights folder the model came from, if
    any (what the program shows)."""
    runtime = runtime or RuntimeOptions()
    device = select_device(runtime.device)
    channels_last = runtime.use_channels_last(device)
    model = prepare_model(trained.model, device, channels_last).eval()
    dataset = ResponseDataset(records, masks, run_maps=trained.config.reads_run_maps)
    with torch.inference_mode():
        labels, probabilities = predict_probabilities(
            model, dataset, batch_preparer(device, channels_last),
            trained.config.clinical_features > 0, batch_size)
    calibration = trained.stored.get("calibration")
    if calibration is not None:
        probabilities = platt(probabilities, *calibration).astype(np.float32)
    return [dataset.case_id(i) for i in range(len(dataset))], labels, probabilities


def stored_response_run(out_dir: str | Path) -> tuple[ResponseConfig, ResponseTrainingOptions]:
    """The config and options of the interrupted run in ``out_dir`` (for ``--resume``)."""
    source = Path(out_dir) / LAST_CHECKPOINT
    stored = load_checkpoint(source, KIND)
    options = dict(stored["options"])
    options["held_out"] = tuple(tuple(pair) for pair in options.get("held_out", ()))
    return ResponseConfig.from_dict(stored["config"], source), ResponseTrainingOptions(**options)


def _write_weights_folder(
    best_path: Path,
    config: ResponseConfig,
    segmentation_checkpoint: Path,
    folder: Path,
    command: str,
    n_cases: int,
) -> Path:
    best = load_checkpoint(best_path, KIND)
    threshold = operating_threshold(best)
    model = build_response_model(config)
    model.load_state_dict(best["model"])
    segmentation = load_trained_segmentation(segmentation_checkpoint)
    evaluation = validation_evaluation(best)
    evaluation["masks"] = best["options"]["masks"]
    write_weights(folder, segmentation.model, segmentation.config, model, config, threshold,
                  Provenance(training_command=command, data_size=n_cases,
                             evaluation=evaluation))
    return folder
