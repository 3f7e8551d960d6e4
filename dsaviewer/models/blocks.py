"""The building blocks every U-Net variant here is made of.

The double 3×3 convolution, the pooling step down, the up-sampling step with its skip
concatenation and the encoder are written once; the variants differ only in what they plug
into them (an attention gate on the skips, a context block at the bottleneck, nested skips).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

import torch
from torch import nn

NORMS = ("batch", "instance", "group")
UPSAMPLES = ("transpose", "bilinear")

# Builds the module applied to a skip tensor before concatenation: (skip channels, norm) ->
# module whose forward is (skip, gating) -> gated skip.
SkipGateFactory = Callable[[int, str], nn.Module]
# Builds the module applied at the deepest stage: (channels) -> module (B,C,H,W) -> (B,C,H,W).
BottleneckFactory = Callable[[int], nn.Module]


def norm_layer(norm: str, channels: int) -> nn.Module:
    """The normalisation named by ``norm`` for ``channels`` feature maps."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "group":
        # At most 8 groups, and only a count that divides the channels (narrow test networks).
        return nn.GroupNorm(math.gcd(channels, 8), channels)
    raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")


def check_architecture(base_width: int, depth: int, norm: str, upsample: str) -> None:
    """Raise ValueError when a U-Net's shape parameters cannot build a network."""
    if base_width < 1:
        raise ValueError(f"base_width must be at least 1, got {base_width}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if upsample not in UPSAMPLES:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")


def stage_widths(base_width: int, depth: int) -> list[int]:
    """Channel count of each resolution stage, full resolution first, doubling per stage."""
    return [base_width * 2**stage for stage in range(depth + 1)]


def check_spatial_size(x: torch.Tensor, depth: int) -> None:
    """Raise ValueError unless H and W survive ``depth`` halvings exactly."""
    # Under tracing (ONNX export) the sizes are symbolic; the check would only warn there.
    if torch.jit.is_tracing():
        return
    factor = 2**depth
    height, width = x.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(
            f"input size {height}×{width} is not divisible by 2**depth = {factor}; "
            "resize or pad the image first"
        )


class DoubleConv(nn.Sequential):
    """Two rounds of 3×3 convolution, normalisation and ReLU (the U-Net stage)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch") -> None:
        # No conv bias: every normalisation here has its own affine shift.
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            norm_layer(norm, out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Halve the resolution by 2×2 max pooling, then a :class:`DoubleConv`."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch") -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels, norm))


def upsample_layer(in_channels: int, out_channels: int, mode: str = "transpose") -> nn.Module:
    """Double the resolution and map ``in_channels`` to ``out_channels``.

    ``transpose`` learns the up-sampling (2×2 transposed convolution); ``bilinear``
    interpolates and then mixes channels with a 1×1 convolution, which avoids the
    checkerboard pattern transposed convolutions can leave.
    """
    if mode == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
    if mode == "bilinear":
        return nn.Sequential(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(in_channels, out_channels, 1),
        )
    raise ValueError(f"upsample must be one of {UPSAMPLES}, got {mode!r}")


class Up(nn.Module):
    """Up-sample the deeper features, concatenate the (optionally gated) skip, DoubleConv."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        norm: str = "batch",
        upsample: str = "transpose",
        skip_gate: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.up = upsample_layer(in_channels, out_channels, upsample)
        self.skip_gate = skip_gate
        self.conv = DoubleConv(2 * out_channels, out_channels, norm)

    def forward(self, deeper: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        upsampled = self.up(deeper)
        if self.skip_gate is not None:
            skip = self.skip_gate(skip, upsampled)
        return self.conv(torch.cat([skip, upsampled], dim=1))


class Encoder(nn.Module):
    """The contracting path: returns the features of every stage, full resolution first."""

    def __init__(self, in_channels: int, widths: list[int], norm: str = "batch") -> None:
        super().__init__()
        self.stem = DoubleConv(in_channels, widths[0], norm)
        self.downs = nn.ModuleList(
            Down(shallower, deeper, norm) for shallower, deeper in pairwise(widths)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for down in self.downs:
            features.append(down(features[-1]))
        return features
