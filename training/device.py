"""Where and how fast training runs: the torch device, CPU threads, channels-last memory and
bf16 autocast.

The device rule is the viewer's (:func:`dsaviewer.inference.device.resolve_torch_device`:
CUDA, else Apple MPS, else the CPU, unless named), so a model trains where it would run.

Measured through the training loop on the 2-core AMD EPYC (AVX-512 BF16) development
machine, batch 8, 256 px, base width 8, median s/step, float32 -> channels-last + bf16:
full DSA-LTDNet 1.69 -> 0.82 (1 thread), 1.15 -> 0.61 (2 threads); key frame only 0.65 ->
0.27 (1 thread), 0.49 -> 0.22 (2 threads); losses and validation Dice of a short run agree.
Both are therefore on by default on CUDA and on CPUs with native bf16; MPS keeps float32
(its bf16 kernels vary by macOS version). On a CPU shared with other jobs, 2 threads were up
to 4x slower than 1 (OpenMP oversubscription): pass ``threads=1`` there.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from dsaviewer.inference.device import describe_torch_device, resolve_torch_device

__all__ = [
    "RuntimeOptions",
    "autocast",
    "configure_threads",
    "describe_torch_device",
    "prepare_batch_tensor",
    "prepare_model",
    "select_device",
]


@dataclass(frozen=True)
class RuntimeOptions:
    """How a training or evaluation run uses its device. None means "the device's default"."""

    device: str = "auto"
    threads: int | None = None  # CPU threads for torch; None: all cores this process may use
    channels_last: bool | None = None
    bf16: bool | None = None

    def use_channels_last(self, device: torch.device) -> bool:
        # Default on CUDA only. On CPU, torch 2.13's oneDNN backward of a 1x1 stride-2
        # convolution with few channels in channels-last (ResNet18's shortcut at width 4)
        # corrupts the heap on AVX2-only CPUs such as AMD EPYC, and the gain there is ~10 %.
        return self.channels_last if self.channels_last is not None else device.type == "cuda"

    def use_bf16(self, device: torch.device) -> bool:
        if self.bf16 is not None:
            return self.bf16
        if device.type == "cuda":
            return torch.cuda.is_bf16_supported()
        return device.type == "cpu" and _cpu_has_fast_bf16()


def select_device(requested: str | None = "auto", local_rank: int | None = None) -> torch.device:
    """The device for ``requested`` (auto, cpu, cuda, cuda:N, mps; InputError if unusable).

    Under ``torchrun`` each process passes its ``local_rank``: "auto" or "cuda" then means
    that process's own GPU.
    """
    device = resolve_torch_device(requested)
    if device.type == "cuda" and local_rank is not None and requested in (None, "auto", "cuda"):
        device = torch.device("cuda", local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def configure_threads(threads: int | None = None, processes_per_machine: int = 1) -> int:
    """Set torch's intra-op CPU threads; the default shares this process's CPUs evenly among
    the training processes of the machine. Returns the count set."""
    if threads is None:
        available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        threads = max(1, (available or os.cpu_count() or 1) // max(1, processes_per_machine))
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    return threads


def prepare_model(model: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    """Move ``model`` to ``device``, in channels-last memory format if asked."""
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if channels_last else model


def prepare_batch_tensor(
    tensor: torch.Tensor, device: torch.device, channels_last: bool
) -> torch.Tensor:
    """Move an image batch ``(B, C, H, W)`` to ``device`` in the memory format the model uses."""
    tensor = tensor.to(device, non_blocking=True)
    if channels_last and tensor.ndim == 4:
        tensor = tensor.contiguous(memory_format=torch.channels_last)
    return tensor


def _cpu_has_fast_bf16() -> bool:
    # oneDNN's own test (AVX-512 BF16 / AMX or AVX-512 BW): without it bf16 is emulated and
    # slower than float32. Private but long-standing; float32 if it ever disappears.
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """bf16 autocast on ``device`` when ``enabled`` (the losses compute in float32 anyway)."""
    if not enabled:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
        yield
