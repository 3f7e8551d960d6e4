"""The setup both trainings share, so that segmentation and response training differ only in
their task (the model, the step, the validation, what is stored with the checkpoint).

:func:`start_run` joins the processes of a torchrun launch and sets the CPU threads;
:meth:`TrainingRun.place_model` builds the model under the run's seed on the device (wrapped
for DDP); :meth:`TrainingRun.run_loop` turns the run options into the loop's settings and runs
it; :meth:`TrainingRun.best_to_publish` says whether a weights folder may be written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.data import Dataset

from training.ddp import DistributedContext, init_distributed, unwrap_model, wrap_model
from training.device import RuntimeOptions, configure_threads, prepare_batch_tensor, prepare_model
from training.loop import TrainingLoop
from training.loop_contract import (
    BEST_CHECKPOINT,
    LoopResult,
    LoopSettings,
    StepReport,
    StopRequest,
    TrainingTask,
)
from training.splits import CaseSplit

# Option fields a resumed run may change; the others must match the checkpoint.
RUN_CONTROL = ("time_budget_minutes", "log_every", "checkpoint_every", "workers")
BatchPreparer = Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]


class RunOptions(Protocol):
    """The fields both trainings' options have."""

    epochs: int
    batch_size: int
    learning_rate: float
    seed: int
    fold: int
    n_folds: int
    max_steps: int | None
    time_budget_minutes: float | None
    log_every: int
    checkpoint_every: int
    workers: int
    RUN_CONTROL: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]: ...


def check_run_options(options: RunOptions) -> None:
    """ValueError naming the first shared option out of range."""
    for name in ("epochs", "batch_size", "n_folds", "log_every", "checkpoint_every"):
        if getattr(options, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(options, name)}")
    if options.workers < 0:
        raise ValueError(f"workers must not be negative, got {options.workers}")
    if not options.learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {options.learning_rate}")
    if not 0 <= options.fold < options.n_folds:
        raise ValueError(f"fold must be in 0..{options.n_folds - 1}, got {options.fold}")
    if options.max_steps is not None and options.max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, got {options.max_steps}")
    if options.time_budget_minutes is not None and options.time_budget_minutes <= 0:
        raise ValueError("time_budget_minutes must be positive")


def batch_preparer(device: torch.device, channels_last: bool) -> BatchPreparer:
    """Moves every tensor of a batch to ``device`` in the memory format the model uses."""

    def prepare(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: prepare_batch_tensor(tensor, device, channels_last)
                for name, tensor in batch.items()}

    return prepare


@dataclass(frozen=True)
class TrainingRun:
    """One training process's place in the run: its device, memory format and output."""

    context: DistributedContext
    runtime: RuntimeOptions
    out: Path
    channels_last: bool

    @property
    def bf16(self) -> bool:
        return self.runtime.use_bf16(self.context.device)

    @property
    def prepare(self) -> BatchPreparer:
        return batch_preparer(self.context.device, self.channels_last)

    def place_model(
        self, build: Callable[[], nn.Module], seed: int, sync_batchnorm: bool
    ) -> tuple[nn.Module, nn.Module]:
        """``(model, wrapped)``: ``build()`` under ``seed`` on the device, and the same model
        wrapped for DDP when the run has several processes."""
        torch.manual_seed(seed)
        model = prepare_model(build(), self.context.device, self.channels_last)
        return model, wrap_model(model, self.context, sync_batchnorm)

    def run_loop(
        self,
        task: TrainingTask,
        wrapped: nn.Module,
        optimizer: torch.optim.Optimizer,
        train_set: Dataset,
        options: RunOptions,
        description: str,
        *,
        epochs: int,
        warmup_epochs: int = 0,
        patience: int | None = None,
        resume: bool = False,
        log: Callable[[str], None] = print,
        on_step: Callable[[StepReport], None] | None = None,
        stop: StopRequest | None = None,
        on_validation: Callable[[int, Mapping[str, float]], None] | None = None,
    ) -> LoopResult:
        """Train ``wrapped`` on ``train_set`` for ``epochs`` (warm-up included), resuming from
        ``out/last.pt`` when asked; ``description`` opens the log."""
        settings = LoopSettings(
            epochs=epochs,
            batch_size=options.batch_size,
            seed=options.seed,
            warmup_epochs=warmup_epochs,
            max_steps=options.max_steps,
            time_budget_s=None if options.time_budget_minutes is None
            else 60.0 * options.time_budget_minutes,
            log_every=options.log_every,
            checkpoint_every=options.checkpoint_every,
            workers=options.workers,
            patience=patience,
        )
        loop = TrainingLoop(task, wrapped, optimizer, train_set, settings, self.context,
                            self.out, bf16=self.bf16, log=log, on_step=on_step, stop=stop,
                            on_validation=on_validation)
        loop.begin(resume, options.to_dict(), options.RUN_CONTROL, description)
        return loop.run()

    def result_fields(
        self, result: LoopResult, split: CaseSplit, wrapped: nn.Module, weights_dir: Path | None
    ) -> dict[str, Any]:
        """The fields both trainings' results share, the model moved to the CPU."""
        best = self.out / BEST_CHECKPOINT
        return {"out_dir": self.out, "best_checkpoint": best if best.is_file() else None,
                "weights_dir": weights_dir, "best_epoch": result.best_epoch,
                "global_step": result.global_step, "stop_reason": result.stop_reason,
                "history": result.history, "split": split,
                "model": unwrap_model(wrapped).cpu()}

    def best_to_publish(self, result: LoopResult) -> Path | None:
        """The best checkpoint when this process should write the weights folder from it: the
        main process, a best model exists, and the run was not interrupted."""
        best = self.out / BEST_CHECKPOINT
        if self.context.is_main and best.is_file() and result.stop_reason != "interrupted":
            return best
        return None


def start_run(runtime: RuntimeOptions | None, out_dir: str | Path) -> TrainingRun:
    """Join the torchrun processes (if any), set the CPU threads, choose the memory format."""
    runtime = runtime or RuntimeOptions()
    context = init_distributed(runtime.device)
    configure_threads(runtime.threads, context.local_world_size)
    return TrainingRun(context, runtime, Path(out_dir),
                       runtime.use_channels_last(context.device))


def validation_evaluation(best: Mapping[str, Any]) -> dict[str, Any]:
    """The validation metrics of a best checkpoint, named for a weights manifest."""
    evaluation = {f"validation_{k}": v for k, v in best["metrics"].items()
                  if k.startswith("val_")}
    evaluation["fold"] = best["split"]["fold"]
    return evaluation

