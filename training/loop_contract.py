"""What a training command and :class:`training.loop.TrainingLoop` exchange: the loop's
settings, the task (how one step runs and how a model is validated), the reports it gives
back, the stop request Ctrl-C and callers share, and the names of the files of a run folder.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

LAST_CHECKPOINT = "last.pt"
BEST_CHECKPOINT = "best.pt"
LOG_FILE = "log.jsonl"


@dataclass(frozen=True)
class LoopSettings:
    epochs: int  # including warm-up epochs
    batch_size: int  # global: split evenly over the processes of a distributed run
    seed: int = 0
    warmup_epochs: int = 0
    max_steps: int | None = None
    time_budget_s: float | None = None
    log_every: int = 10
    checkpoint_every: int = 100  # steps between mid-epoch checkpoints (and at every epoch end)
    workers: int = 0
    patience: int | None = None  # validations without improvement before stopping early

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(
                f"warmup_epochs must be in 0..epochs-1, got {self.warmup_epochs} of {self.epochs}"
            )
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")
        if self.log_every < 1 or self.checkpoint_every < 1:
            raise ValueError("log_every and checkpoint_every must be at least 1")


@dataclass(frozen=True)
class StepOutput:
    """What a task's step gives the loop: the loss to minimise and its parts for logging.

    ``outside_ddp`` names a sub-module the step ran without the DDP wrapper; the loop
    averages its gradients over the processes itself.
    """

    loss: torch.Tensor
    parts: Mapping[str, float]
    outside_ddp: nn.Module | None = None


@dataclass(frozen=True)
class Validation:
    """One validation: ``score`` decides the best model (higher is better)."""

    score: float
    metrics: Mapping[str, float]


@dataclass
class TrainingTask:
    """What differs between the segmentation and the response training.

    ``step(model, batch, warmup)`` runs the forward pass on a batch already on the device;
    ``validate(model, warmup)`` runs on rank 0 with the plain (unwrapped) model in eval mode,
    in float32, and returns None when it has nothing to say (during warm-up).
    """

    kind: str
    step: Callable[[nn.Module, dict[str, torch.Tensor], bool], StepOutput]
    validate: Callable[[nn.Module, bool], Validation | None]
    prepare_batch: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]]
    stored: Mapping[str, Any] = field(default_factory=dict)  # config, options, split, ...


@dataclass(frozen=True)
class StepReport:
    epoch: int
    epochs: int
    step_in_epoch: int
    steps_per_epoch: int
    global_step: int
    planned_steps: int
    parts: Mapping[str, float]
    learning_rate: float
    seconds_per_step: float
    eta_s: float


@dataclass(frozen=True)
class LoopResult:
    global_step: int
    planned_steps: int
    best_score: float | None
    best_epoch: int | None
    history: list[dict[str, Any]]
    stop_reason: str  # "finished", "early_stopping", "time_budget", "interrupted"
    seconds_per_step: float | None


class StopRequest:
    """A request to stop after the current step, saving a checkpoint first.

    Set by :meth:`handle_signals` on Ctrl-C / SIGTERM (a second Ctrl-C aborts at once) or
    by anyone holding it, e.g. a test's step callback.
    """

    def __init__(self) -> None:
        self.reason: str | None = None

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str = "interrupted") -> None:
        self.reason = self.reason or reason

    @contextlib.contextmanager
    def handle_signals(self) -> Iterator[None]:
        """Turn SIGINT and SIGTERM into stop requests while the block runs (main thread)."""

        def on_signal(number: int, frame: Any) -> None:
            if self.requested and number == signal.SIGINT:
                raise KeyboardInterrupt
            self.request("interrupted")

        previous = {number: signal.signal(number, on_signal)
                    for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
