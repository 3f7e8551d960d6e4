"""Choosing the device: the best available by default, a named one on request, clear errors."""

from __future__ import annotations

import pytest
import torch

from dsaviewer.errors import InputError
from dsaviewer.inference.device import describe_torch_device, resolve_torch_device


def test_auto_prefers_cuda_then_mps_then_cpu() -> None:
    device = resolve_torch_device(None)
    assert resolve_torch_device("auto") == device
    if torch.cuda.is_available():
        assert device.type == "cuda"
        assert describe_torch_device(device) == (
            f"cuda:{device.index} ({torch.cuda.get_device_name(device.index)})")
    elif torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device == torch.device("cpu") and describe_torch_device(device) == "CPU"


def test_cpu_can_always_be_chosen() -> None:
    assert resolve_torch_device(" CPU ") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(InputError, match="CUDA was asked for") as caught:
        resolve_torch_device("cuda:0")
    assert caught.value.source == "device"


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cpu:0:1", "tpu"])
def test_malformed_device_names_are_refused(name) -> None:
    with pytest.raises(InputError, match="unknown device"):
        resolve_torch_device(name)
