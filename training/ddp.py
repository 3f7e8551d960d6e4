"""Multi-GPU and multi-node training with DistributedDataParallel, launched by ``torchrun``.

``torchrun --nproc_per_node 4 -m training train-seg …`` (add ``--nnodes``/``--rdzv-endpoint``
for several machines) sets RANK, WORLD_SIZE and LOCAL_RANK; :func:`init_distributed` reads
them, picks NCCL for CUDA and gloo otherwise, and gives each process its own GPU. Without
those variables everything here is a no-op and training runs as one process.

Conventions the training loops follow: the global batch size is split evenly over the
processes, every process sees a disjoint shard of each epoch (DistributedSampler), only rank 0
validates, logs and writes files, and decisions that end a run (time budget, Ctrl-C, early
stopping) are agreed through :meth:`DistributedContext.any`, so no process is left waiting in a
collective the others never reach.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from training.device import select_device

_TIMEOUT = timedelta(minutes=30)  # rank 0 validates alone while the others wait


@dataclass(frozen=True)
class DistributedContext:
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def any(self, flag: bool) -> bool:
        """True on every process when ``flag`` is true on any process."""
        if not self.is_distributed:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self._collective_device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def broadcast_float(self, value: float) -> float:
        """Rank 0's ``value`` on every process."""
        if not self.is_distributed:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self._collective_device)
        dist.broadcast(tensor, src=0)
        return float(tensor.item())

    def barrier(self) -> None:
        if self.is_distributed:
            dist.barrier()

    @property
    def _collective_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def init_distributed(device: str | None = "auto") -> DistributedContext:
    """Join the process group ``torchrun`` describes, or a single-process context without it."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext(0, 1, 0, 1, select_device(device))
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))
    chosen = select_device(device, local_rank=local_rank)
    if not dist.is_initialized():
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=_TIMEOUT)
    return DistributedContext(rank, world_size, local_rank, local_world_size, chosen)


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def distributed_processes(device: str | None = "auto") -> Iterator[DistributedContext]:
    """:func:`init_distributed` for the block, and :func:`shutdown_distributed` however it
    ends (a command that fails must not leave the process group behind)."""
    context = init_distributed(device)
    try:
        yield context
    finally:
        shutdown_distributed()


def wrap_model(model: nn.Module, context: DistributedContext, sync_batchnorm: bool) -> nn.Module:
    """``model`` (already on the context's device) in DDP when distributed, else unchanged.

    ``sync_batchnorm`` pools BatchNorm statistics over the GPUs (CUDA only): the paper's batch
    of 8 split over many GPUs leaves each too few samples for stable statistics.
    """
    if not context.is_distributed:
        return model
    if sync_batchnorm and context.device.type == "cuda":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    device_ids = [context.device.index] if context.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def average_gradients(module: nn.Module, context: DistributedContext) -> None:
    """Average ``module``'s gradients over the processes, for a step that runs a part of the
    model outside its DDP wrapper (the TDL warm-up trains the temporal network alone; DDP's
    hooks stay idle when its own forward was not called)."""
    if not context.is_distributed:
        return
    for parameter in module.parameters():
        if parameter.grad is not None:
            dist.all_reduce(parameter.grad)
            parameter.grad /= context.world_size


def unwrap_model(model: nn.Module) -> nn.Module:
    """The plain module inside a DDP wrapper (what checkpoints store)."""
    return model.module if isinstance(model, DistributedDataParallel) else model
