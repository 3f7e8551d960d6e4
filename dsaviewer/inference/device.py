"""Which torch device runs the models: CUDA when present, else Apple MPS, else the CPU, unless
the user names one. torch is imported inside the functions: the GUI starts without it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dsaviewer.errors import InputError

if TYPE_CHECKING:
    import torch

AUTO = "auto"
_DEVICE_PATTERN = re.compile(r"^(cpu|mps|cuda)(?::(\d+))?$")


def resolve_torch_device(requested: str | None = None) -> torch.device:
    """The device for ``requested`` ("auto"/None, "cpu", "cuda", "cuda:N" or "mps");
    InputError when it is malformed or not available on this machine."""
    import torch

    choice = (requested or AUTO).strip().lower()
    if choice == AUTO:
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    match = _DEVICE_PATTERN.match(choice)
    if match is None:
        raise InputError(
            f"unknown device {requested!r}: use auto, cpu, cuda, cuda:N or mps", "device"
        )
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise InputError(
                "CUDA was asked for, but this torch build or machine has no CUDA GPU", "device"
            )
        number = int(index) if index is not None else torch.cuda.current_device()
        if number >= torch.cuda.device_count():
            raise InputError(
                f"cuda:{number} was asked for, but there are {torch.cuda.device_count()} "
                "CUDA GPUs",
                "device",
            )
        return torch.device("cuda", number)
    if kind == "mps" and not _mps_available():
        raise InputError("MPS was asked for, but this machine has no Apple GPU", "device")
    return torch.device(kind)


def describe_torch_device(device: torch.device) -> str:
    """A label for reports: "CPU", "cuda:0 (NVIDIA RTX A4000)", "mps (Apple GPU)"."""
    import torch

    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return "CPU"


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
