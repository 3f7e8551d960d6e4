"""Training DSA-LTDNet (DSA-Net Model 1) and its ablations on preprocessed cases.

The paper's recipe: ``L_total = λ0·L1(TDL, FD) + λ1·L_LRS + L_seg`` with BCE+Dice parts
(a = 0.5, λ0 = 0.1, λ1 = 1), Adam at 1e-3, cosine annealing, batch 8, the key frame plus the
k+1, k+2 frames as training samples, no rotation. A supervised TDL is first trained on the
frame difference alone for ``tdl_warmup_epochs`` (the paper initialises it that way; without
the supervision it does worse than the baseline), then all sub-networks are co-trained.

Validation runs after every epoch on the key frames of the held-out fold: tumor Dice (which
picks the best model) and liver Dice, per case at threshold 0.5, averaged over cases. A run
whose tumor network is frozen (a liver-only phase) picks its best model by liver Dice.

``out_dir`` receives ``last.pt`` (resumable), ``best.pt`` (the best model with its config,
split and metrics), ``log.jsonl``, ``summary.json`` and ``weights/``, a segmentation-only
weights folder the viewer opens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from dsaviewer.core.metrics_segmentation import dice
from dsaviewer.inference.manifest import Provenance
from dsaviewer.inference.weights import write_weights
from dsaviewer.models import SegmentationConfig, build_segmentation_model, ltdnet_loss
from training.checkpoint import load_checkpoint
from training.dataset import CaseRecord
from training.ddp import unwrap_model
from training.device import RuntimeOptions
from training.lesion_weights import LesionWeighting
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
    check_run_options,
    start_run,
    validation_evaluation,
)
from training.splits import CaseSplit, split_cases
from training.torch_data import Augmentation, SegmentationDataset, model_inputs
from training.trainable import learning_networks, parameter_groups, select_trainable

KIND = "segmentation"
SUMMARY_FILE = "summary.json"
WEIGHTS_DIR = "weights"
THRESHOLD = 0.5


@dataclass(frozen=True)
class SegmentationTrainingOptions:
    """How to train; the architecture is the :class:`SegmentationConfig`."""

    epochs: int = 150  # co-training epochs (the paper's 150), after the TDL warm-up
    tdl_warmup_epochs: int = 5  # TDL on FD alone first; only for a supervised TDL
    batch_size: int = 8
    learning_rate: float = 1e-3
    lambda0: float = 0.1  # weight of L1(TDL, FD)
    lambda1: float = 1.0  # weight of the liver loss
    bce_weight: float = 0.5  # the papers' a in a·BCE + (1−a)·Dice
    seed: int = 0  # weight initialisation and data order
    fold: int = 0
    n_folds: int = 5
    split_seed: int = 0  # kept apart from ``seed`` so runs with other seeds share a split
    max_steps: int | None = None
    time_budget_minutes: float | None = None
    log_every: int = 10
    checkpoint_every: int = 100
    workers: int = 0
    augmentation: Augmentation = field(default_factory=Augmentation)
    # Small lesions weigh more in the tumor BCE (training/lesion_weights.py); off by default.
    lesion_weighting: LesionWeighting = field(default_factory=LesionWeighting)
    sync_batchnorm: bool = True
    patience: int | None = None  # validations without a better best-picking Dice before stopping
    # Parameter-name prefixes that learn (e.g. "tumor_net."; training/trainable.py names the
    # usual choices); None: every parameter. The others stay as initialised.
    trainable: tuple[str, ...] | None = None
    # (parameter-name prefix, Adam rate): these parameters learn at their own rate, the others
    # at ``learning_rate`` (e.g. new context blocks at 1e-3 in trained weights at 1e-4).
    learning_rates: tuple[tuple[str, float], ...] = ()
    # Broad mix: (family, value) pairs whose cases the run never sees (training/families.py).
    held_out: tuple[tuple[str, str], ...] = ()
    init_weights: str | None = None  # the weights folder the run started from (a record)
    # Its segmentation checksum: a folder's path says nothing once its weights are replaced,
    # and a held-out run is valid only if its starting weights never saw the held-out cases.
    init_segmentation_sha256: str | None = None

    RUN_CONTROL = RUN_CONTROL

    def __post_init__(self) -> None:
        check_run_options(self)
        if self.tdl_warmup_epochs < 0:
            raise ValueError(f"tdl_warmup_epochs must not be negative, got "
                             f"{self.tdl_warmup_epochs}")
        if not 0.0 <= self.bce_weight <= 1.0:
            raise ValueError(f"bce_weight must be in [0, 1], got {self.bce_weight}")
        if self.patience is not None and self.patience < 0:
            raise ValueError(f"patience must not be negative, got {self.patience}")
        if self.trainable is not None and not self.trainable:
            raise ValueError("trainable must name at least one parameter prefix")
        for prefix, rate in self.learning_rates:
            if not rate > 0:
                raise ValueError(f"the learning rate of {prefix!r} must be positive, got {rate}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SegmentationTrainingOptions:
        values = dict(data)
        values["augmentation"] = Augmentation(**values.get("augmentation", {}))
        values["lesion_weighting"] = LesionWeighting(**values.get("lesion_weighting", {}))
        if values.get("trainable") is not None:
            values["trainable"] = tuple(values["trainable"])
        values["held_out"] = tuple(tuple(pair) for pair in values.get("held_out", ()))
        values["learning_rates"] = tuple((prefix, float(rate)) for prefix, rate
                                         in values.get("learning_rates", ()))
        return cls(**values)

    def warmup_epochs(self, config: SegmentationConfig) -> int:
        return self.tdl_warmup_epochs if config.tdl_supervised else 0


@dataclass(frozen=True)
class SegmentationTrainingResult:
    out_dir: Path
    best_checkpoint: Path | None
    weights_dir: Path | None
    best_dice: float | None  # the validation Dice that picked the best model: of ``selected_by``
    selected_by: str  # "tumor" or, when the tumor network is frozen, "liver"
    best_epoch: int | None
    global_step: int
    planned_steps: int
    stop_reason: str
    seconds_per_step: float | None
    history: list[dict[str, Any]]
    split: CaseSplit
    model: nn.Module  # the model after the last step (the best one is in best.pt), on the CPU


def stored_run(out_dir: str | Path) -> tuple[SegmentationConfig, SegmentationTrainingOptions]:
    """The config and options of the interrupted run in ``out_dir`` (for ``--resume``)."""
    stored = load_checkpoint(Path(out_dir) / LAST_CHECKPOINT, KIND)
    return (
        SegmentationConfig.from_dict(stored["config"], Path(out_dir) / LAST_CHECKPOINT),
        SegmentationTrainingOptions.from_dict(stored["options"]),
    )


def train_segmentation(
    records: Sequence[CaseRecord],
    config: SegmentationConfig,
    options: SegmentationTrainingOptions,
    out_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    resume: bool = False,
    log: Callable[[str], None] = print,
    on_step: Callable[[StepReport], None] | None = None,
    stop: StopRequest | None = None,
    command: str = "",
    initial_state: Mapping[str, torch.Tensor] | None = None,
    on_validation: Callable[[int, Mapping[str, float]], None] | None = None,
) -> SegmentationTrainingResult:
    """Train ``config`` on the training folds of ``records``; see the module doc for files.

    With ``resume`` the run continues from ``out_dir/last.pt``, whose config and options must
    equal these (apart from ``RUN_CONTROL`` fields). Under ``torchrun`` each process calls this
    with the same arguments. ``command`` is recorded in the weights' provenance.
    ``initial_state`` (a state dict of ``config``'s model) replaces the random initialisation:
    fine-tuning starts from trained weights. ``on_validation(epoch, metrics)`` hears each
    validation.
    """
    run = start_run(runtime, out_dir)
    split = split_cases([r.case_id for r in records], options.fold, options.n_folds,
                        options.split_seed)
    by_id = {record.case_id: record for record in records}
    train_set = SegmentationDataset([by_id[c] for c in split.train], config,
                                    augmentation=options.augmentation, seed=options.seed,
                                    lesion_weighting=options.lesion_weighting)
    val_set = SegmentationDataset([by_id[c] for c in split.validation], config,
                                  key_frames_only=True)

    def build() -> nn.Module:
        model = build_segmentation_model(config)
        if initial_state is not None:
            model.load_state_dict(initial_state)
        select_trainable(model, options.trainable)  # before DDP sees which parameters learn
        return model

    model, wrapped = run.place_model(build, options.seed, options.sync_batchnorm)
    optimizer = torch.optim.Adam(parameter_groups(model, options.learning_rate,
                                                  options.learning_rates))
    learning = learning_networks(unwrap_model(model))
    # The TDL warm-up trains the temporal network alone: nothing to do when it is frozen.
    warmup = options.warmup_epochs(config) if "temporal" in learning else 0
    # The best model is the one whose learning networks validate best.
    selected_by = "liver" if "liver" in learning and "tumor" not in learning else "tumor"

    def step(net: nn.Module, batch: dict[str, torch.Tensor], in_warmup: bool) -> StepOutput:
        if in_warmup:
            temporal_net = unwrap_model(net).temporal_net
            loss = F.l1_loss(learned_temporal_difference(unwrap_model(net), batch["frames"])
                             .float(), batch["fd"].float())
            return StepOutput(loss, {"temporal": float(loss.detach())}, outside_ddp=temporal_net)
        losses = ltdnet_loss(net(*model_inputs(batch)), batch, config,
                             options.lambda0, options.lambda1, options.bce_weight)
        return StepOutput(losses.total, losses.as_floats())

    def validate(net: nn.Module, in_warmup: bool) -> Validation | None:
        if in_warmup:
            return None
        scores = validation_dice(net, val_set, run.prepare, options.batch_size)
        return Validation(scores[f"{selected_by}_dice"], scores)

    task = TrainingTask(
        kind=KIND, step=step, validate=validate, prepare_batch=run.prepare,
        stored={"config": config.to_dict(), "options": options.to_dict(),
                "split": split.to_dict()},
    )
    result = run.run_loop(
        task, wrapped, optimizer, train_set, options,
        f"training {len(train_set)} samples of {len(split.train)} cases, validating "
        f"on {len(split.validation)} cases (fold {split.fold + 1}/{split.n_folds}); "
        f"device {run.context.device}, {run.context.world_size} process(es), "
        f"channels-last {run.channels_last}, bf16 {run.bf16}",
        epochs=warmup + options.epochs, warmup_epochs=warmup, patience=options.patience,
        resume=resume, log=log, on_step=on_step, stop=stop, on_validation=on_validation)

    out = run.out
    publish = run.best_to_publish(result)
    weights_dir = None if publish is None else _write_weights_folder(
        publish, config, out / WEIGHTS_DIR, command, len(records))
    summary = SegmentationTrainingResult(
        **run.result_fields(result, split, wrapped, weights_dir),
        best_dice=result.best_score,
        selected_by=selected_by,
        planned_steps=result.planned_steps,
        seconds_per_step=result.seconds_per_step,
    )
    if run.context.is_main:
        _write_summary(out / SUMMARY_FILE, summary, config, options)
    return summary


def learned_temporal_difference(model: nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """The TDL output alone, as :class:`DSALTDNet` computes it inside its forward (a sigmoid
    of the temporal network), for the warm-up that trains it on the frame difference."""
    return torch.sigmoid(model.temporal_net(frames))


def validation_dice(
    model: nn.Module,
    dataset: SegmentationDataset,
    prepare: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]],
    batch_size: int,
) -> dict[str, float]:
    """Mean per-case Dice of the tumor (and liver) masks at threshold 0.5 over ``dataset``'s
    key frames; ``model`` is in eval mode."""
    tumor_scores: list[float] = []
    liver_scores: list[float] = []
    for batch in DataLoader(dataset, batch_size=batch_size):
        batch = prepare(batch)
        outputs = model(*model_inputs(batch))
        tumor_masks = (outputs.tumor_logits.float() >= 0).cpu().numpy()[:, 0]
        truth_tumor = batch["tumor"].cpu().numpy()[:, 0] > 0.5
        tumor_scores += [dice(p, g) for p, g in zip(tumor_masks, truth_tumor, strict=True)]
        if outputs.liver_logits is not None:
            liver_masks = (outputs.liver_logits.float() >= 0).cpu().numpy()[:, 0]
            truth_liver = batch["liver"].cpu().numpy()[:, 0] > 0.5
            liver_scores += [dice(p, g) for p, g in zip(liver_masks, truth_liver, strict=True)]
    scores = {"tumor_dice": float(np.mean(tumor_scores))}
    if liver_scores:
        scores["liver_dice"] = float(np.mean(liver_scores))
    return scores


def _write_weights_folder(
    best_path: Path, config: SegmentationConfig, folder: Path, command: str, n_cases: int
) -> Path:
    best = load_checkpoint(best_path, KIND)
    model = build_segmentation_model(config)
    model.load_state_dict(best["model"])
    write_weights(folder, model, config, None, None, None,
                  Provenance(training_command=command, data_size=n_cases,
                             evaluation=validation_evaluation(best)))
    return folder


def _write_summary(
    path: Path,
    result: SegmentationTrainingResult,
    config: SegmentationConfig,
    options: SegmentationTrainingOptions,
) -> None:
    write_json(path, {
        "config": config.to_dict(),
        "options": options.to_dict(),
        "best_dice": result.best_dice,
        "selected_by": result.selected_by,
        "best_epoch": result.best_epoch,
        "global_step": result.global_step,
        "planned_steps": result.planned_steps,
        "stop_reason": result.stop_reason,
        "seconds_per_step": result.seconds_per_step,
        "split": {"fold": result.split.fold, "n_folds": result.split.n_folds,
                  "train_cases": len(result.split.train),
                  "validation_cases": len(result.split.validation)},
        "history": result.history,
    })
