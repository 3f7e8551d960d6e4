"""The epoch / step loop both training commands share: batching, the learning-rate schedule,
bf16 autocast, progress and ETA, validation and the best model, checkpoints, exact resume,
time budgets, Ctrl-C / SIGTERM and distributed agreement on all of it.

What is trained and how it is validated come in as two functions (:class:`TrainingTask`,
with the other types the loop and the commands exchange, in ``training.loop_contract``), so
the segmentation and response commands only say what differs.

Schedule: the learning rate stays at its initial value during the warm-up (the TDL
pre-training on the frame difference), then follows a cosine from it to 0 over the remaining
planned steps (CosineAnnealingLR's closed form, stepped per batch so short budgeted runs
anneal too). The plan, ``min(max_steps, epochs x steps per epoch)``, is fixed by the first
start and kept by every resume. The warm-up lasts ``warmup_epochs`` but at most a fifth of
the plan, so a short budgeted run still trains the whole model.

Resume is exact: ``last.pt`` holds the model, optimiser, scheduler, torch RNG and the position
(epoch, batch within it); the epoch's order comes from the sampler's (seed, epoch) and
augmentation from (seed, epoch, item), so a resumed run takes the same steps as one that
never stopped. It is bitwise on the CPU; CUDA kernels may differ in the last bits.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from dsaviewer.errors import InputError
from training.checkpoint import (
    capture_rng_state,
    check_resumable,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from training.ddp import DistributedContext, average_gradients, unwrap_model
from training.device import autocast
from training.loop_contract import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    LOG_FILE,
    LoopResult,
    LoopSettings,
    StepReport,
    StopRequest,
    TrainingTask,
)
from training.torch_data import ResumableSampler
from training.trainable import train_mode

WARMUP_SHARE_OF_PLAN = 5


def cosine_after_warmup(warmup_steps: int, planned_steps: int) -> Callable[[int], float]:
    """Learning-rate factor of step ``s``: 1 during warm-up, then cosine from 1 to 0."""
    annealed = max(1, planned_steps - warmup_steps)

    def factor(step: int) -> float:
        if step < warmup_steps:
            return 1.0
        progress = min(1.0, (step - warmup_steps) / annealed)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class TrainingLoop:
    def __init__(
        self,
        task: TrainingTask,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        dataset: Dataset,
        settings: LoopSettings,
        context: DistributedContext,
        out_dir: Path,
        bf16: bool,
        log: Callable[[str], None] = print,
        on_step: Callable[[StepReport], None] | None = None,
        stop: StopRequest | None = None,
        on_validation: Callable[[int, Mapping[str, float]], None] | None = None,
    ) -> None:
        if settings.batch_size % context.world_size:
            raise ValueError(
                f"batch size {settings.batch_size} does not split over "
                f"{context.world_size} processes"
            )
        self.task, self.model, self.optimizer = task, model, optimizer
        self.dataset, self.settings, self.context = dataset, settings, context
        self.out_dir, self.bf16, self.log = Path(out_dir), bf16, log
        self.on_step, self.stop = on_step, stop or StopRequest()
        self.on_validation = on_validation
        self.per_process_batch = settings.batch_size // context.world_size
        self.sampler = ResumableSampler(dataset, context.rank, context.world_size, settings.seed)
        shard = self.sampler.num_samples
        # Equal steps keep BatchNorm statistics and the loss scale steady; a shard smaller
        # than a batch still trains, in one short batch.
        self.drop_last = shard >= self.per_process_batch
        self.steps_per_epoch = (
            shard // self.per_process_batch if self.drop_last
            else math.ceil(shard / self.per_process_batch)
        )
        if self.steps_per_epoch == 0:
            raise ValueError("the training set is empty")
        planned = settings.epochs * self.steps_per_epoch
        self.planned_steps = min(planned, settings.max_steps or planned)
        self._make_scheduler()
        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.best_score: float | None = None
        self.best_epoch: int | None = None
        self.validations_since_best = 0
        self.history: list[dict[str, Any]] = []

    # -- resume ----------------------------------------------------------------------------

    def begin(
        self,
        resume: bool,
        options: Mapping[str, Any],
        run_control: tuple[str, ...],
        start_message: str,
    ) -> None:
        """Resume from ``out_dir``'s last checkpoint, which must come from the same config,
        options (but ``run_control``) and split; or start afresh, refusing to overwrite an
        earlier run. Every process returns together."""
        last = self.out_dir / LAST_CHECKPOINT
        if resume:
            stored = load_checkpoint(last, self.task.kind)
            check_resumable(stored, self.task.stored["config"], options, run_control,
                            self.task.stored["split"], last)
            self.resume_from(stored)
        else:
            if self.context.any(self.context.is_main and last.exists()):
                raise InputError("holds an earlier run: pass --resume to continue it, or "
                                 "choose another output folder", self.out_dir)
            if self.context.is_main:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                self.log(start_message)
        self.context.barrier()

    def resume_from(self, stored: Mapping[str, Any]) -> None:
        """Continue where the checkpoint ``stored`` (a ``last.pt``) stopped."""
        progress = stored["progress"]
        if progress["steps_per_epoch"] != self.steps_per_epoch:
            raise ValueError(
                f"the checkpoint ran {progress['steps_per_epoch']} steps an epoch, this "
                f"data and batch size give {self.steps_per_epoch}: resume on the same data"
            )
        unwrap_model(self.model).load_state_dict(stored["model"])
        self.planned_steps = progress["planned_steps"]
        self._make_scheduler()
        # After the scheduler, whose construction resets the learning rate to its start.
        self.optimizer.load_state_dict(stored["optimizer"])
        self.scheduler.load_state_dict(stored["scheduler"])
        self.epoch = progress["epoch"]
        self.step_in_epoch = progress["step_in_epoch"]
        self.global_step = progress["global_step"]
        self.best_score = progress["best_score"]
        self.best_epoch = progress["best_epoch"]
        self.validations_since_best = progress["validations_since_best"]
        self.history = list(stored["history"])
        restore_rng_state(stored["rng"])

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> LoopResult:
        settings = self.settings
        started = time.monotonic()
        step_times: deque[float] = deque(maxlen=50)
        if self.global_step:
            self._print(f"resuming at epoch {self.epoch + 1}, step {self.global_step}"
                        f"/{self.planned_steps}")
        stop_reason = "finished"
        train_mode(self.model)
        while self.global_step < self.planned_steps and self.epoch < settings.epochs:
            epoch = self.epoch
            sums: dict[str, float] = {}
            counted = 0
            for batch in self._loader(epoch):
                tick = time.monotonic()
                parts = self._train_step(batch)
                self.step_in_epoch += 1
                self.global_step += 1
                for name, value in parts.items():
                    sums[name] = sums.get(name, 0.0) + value
                counted += 1
                step_times.append(time.monotonic() - tick)
                self._report(epoch, parts, step_times)
                if self.global_step >= self.planned_steps:
                    break
                over_time = (settings.time_budget_s is not None
                             and time.monotonic() - started >= settings.time_budget_s)
                if self.context.any(self.stop.requested or over_time):
                    stop_reason = "time_budget" if over_time else "interrupted"
                    break
                if self.global_step % settings.checkpoint_every == 0:
                    self._save_last()
            if stop_reason == "interrupted":
                self._save_last()
                # The command says whether and how it continues (only some have --resume).
                self._print(f"stopped at step {self.global_step}; checkpoint saved")
                break
            # Here the epoch is complete, the plan is done or the time is up: validate.
            epoch_done = self.step_in_epoch >= self.steps_per_epoch
            self._remember_training(epoch, sums, counted)
            if self._validate(epoch):
                stop_reason = "early_stopping"
            if epoch_done:
                self.epoch += 1
                self.step_in_epoch = 0
            self._save_last()
            if stop_reason != "finished":
                break
        seconds = sorted(step_times)[len(step_times) // 2] if step_times else None
        return LoopResult(self.global_step, self.planned_steps, self.best_score, self.best_epoch,
                          self.history, stop_reason, seconds)

    # -- pieces ----------------------------------------------------------------------------

    @property
    def warmup_steps(self) -> int:
        by_epochs = self.settings.warmup_epochs * self.steps_per_epoch
        return min(by_epochs, self.planned_steps // WARMUP_SHARE_OF_PLAN)

    @property
    def in_warmup(self) -> bool:
        """Whether the next step is a warm-up step."""
        return self.global_step < self.warmup_steps

    def _make_scheduler(self) -> None:
        for group in self.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"]
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, cosine_after_warmup(self.warmup_steps, self.planned_steps)
        )

    def _loader(self, epoch: int) -> DataLoader:
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        self.sampler.start_epoch(epoch, skip=self.step_in_epoch * self.per_process_batch)
        return DataLoader(
            self.dataset,
            batch_size=self.per_process_batch,
            sampler=self.sampler,
            num_workers=self.settings.workers,
            drop_last=self.drop_last,
            pin_memory=self.context.device.type == "cuda",
            # Workers' seeds come from here, not from the global generator the RNG state
            # of a checkpoint restores.
            generator=torch.Generator().manual_seed(self.settings.seed * 100_003 + epoch),
        )

    def _train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        batch = self.task.prepare_batch(batch)
        warmup = self.in_warmup
        with autocast(self.context.device, self.bf16):
            output = self.task.step(self.model, batch, warmup)
        if not torch.isfinite(output.loss.detach()):
            raise FloatingPointError(
                f"the loss became {float(output.loss)} at step {self.global_step + 1}; "
                "lower the learning rate or turn bf16 off"
            )
        self.optimizer.zero_grad(set_to_none=True)
        output.loss.backward()
        if output.outside_ddp is not None:
            average_gradients(output.outside_ddp, self.context)
        self.optimizer.step()
        self.scheduler.step()
        return dict(output.parts)

    def _report(self, epoch: int, parts: Mapping[str, float], step_times: deque[float]) -> None:
        every = self.settings.log_every
        if self.on_step is None and (not self.context.is_main or self.global_step % every):
            return
        seconds = sorted(step_times)[len(step_times) // 2]
        report = StepReport(
            epoch=epoch,
            epochs=self.settings.epochs,
            step_in_epoch=self.step_in_epoch,
            steps_per_epoch=self.steps_per_epoch,
            global_step=self.global_step,
            planned_steps=self.planned_steps,
            parts=parts,
            learning_rate=self.optimizer.param_groups[0]["lr"],
            seconds_per_step=seconds,
            eta_s=seconds * (self.planned_steps - self.global_step),
        )
        if self.on_step is not None:
            self.on_step(report)
        if self.context.is_main and self.global_step % every == 0:
            losses = " ".join(f"{name} {value:.4f}" for name, value in parts.items())
            self._print(
                f"epoch {epoch + 1}/{report.epochs} step {report.global_step}/"
                f"{report.planned_steps} {losses} lr {report.learning_rate:.2e} "
                f"{seconds:.2f} s/step ETA {_duration(report.eta_s)}"
            )

    def _remember_training(self, epoch: int, sums: Mapping[str, float], counted: int) -> None:
        entry = {"epoch": epoch + 1, "step": self.global_step,
                 "phase": "warmup" if self.global_step <= self.warmup_steps else "train",
                 "lr": self.optimizer.param_groups[0]["lr"]}
        if counted:
            entry.update({f"train_{name}": value / counted for name, value in sums.items()})
        self.history.append(entry)

    def _validate(self, epoch: int) -> bool:
        """Validate on rank 0, keep the best model; True when early stopping says stop."""
        score = math.nan
        if self.context.is_main:
            plain = unwrap_model(self.model)
            plain.eval()
            # float32, as the viewer runs the model (bf16 logits would tie and move AUCs).
            with torch.no_grad():
                # Validating after the last warm-up step would score an untrained tumor net.
                result = self.task.validate(plain, self.global_step <= self.warmup_steps)
            train_mode(plain)
            if result is not None:
                score = result.score
                self.history[-1].update({f"val_{k}": v for k, v in result.metrics.items()})
                self._print(f"epoch {epoch + 1} validation: " + " ".join(
                    f"{k} {v:.4f}" for k, v in result.metrics.items()))
                if self.on_validation is not None:
                    self.on_validation(epoch + 1, result.metrics)
        score = self.context.broadcast_float(score)
        if math.isnan(score):
            return False
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_epoch = score, epoch + 1
            self.validations_since_best = 0
            if self.context.is_main:
                self._save_best()
        else:
            self.validations_since_best += 1
        patience = self.settings.patience
        return patience is not None and self.validations_since_best > patience

    def _save_last(self) -> None:
        if not self.context.is_main:
            return
        save_checkpoint(self.out_dir / LAST_CHECKPOINT, {
            "kind": self.task.kind,
            **self.task.stored,
            "model": _cpu_state(unwrap_model(self.model)),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "progress": {
                "epoch": self.epoch,
                "step_in_epoch": self.step_in_epoch,
                "steps_per_epoch": self.steps_per_epoch,
                "global_step": self.global_step,
                "planned_steps": self.planned_steps,
                "best_score": self.best_score,
                "best_epoch": self.best_epoch,
                "validations_since_best": self.validations_since_best,
            },
            "rng": capture_rng_state(),
            "history": self.history,
        })

    def _save_best(self) -> None:
        save_checkpoint(self.out_dir / BEST_CHECKPOINT, {
            "kind": self.task.kind,
            **self.task.stored,
            "model": _cpu_state(unwrap_model(self.model)),
            "epoch": self.best_epoch,
            "global_step": self.global_step,
            "metrics": dict(self.history[-1]),
        })

    def _print(self, message: str) -> None:
        if not self.context.is_main:
            return
        self.log(message)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.out_dir / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"time": time.time(), "message": message}) + "\n")


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
