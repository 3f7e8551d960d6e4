"""Attention U-Net (Oktay et al. 2018): a U-Net whose skip connections pass attention gates."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsaviewer.models.blocks import norm_layer
from dsaviewer.models.unet import UNet


class AttentionGate(nn.Module):
    """Additive attention: weights each skip pixel by a [0, 1] coefficient computed from the
    skip and the decoder's up-sampled features (the gating signal) at the same resolution."""

    def __init__(self, channels: int, norm: str = "batch") -> None:
        super().__init__()
        inner = max(channels // 2, 1)
        self.skip_projection = nn.Sequential(
            nn.Conv2d(channels, inner, 1, bias=False), norm_layer(norm, inner)
        )
        self.gating_projection = nn.Sequential(
            nn.Conv2d(channels, inner, 1, bias=False), norm_layer(norm, inner)
        )
        self.coefficient = nn.Sequential(
            nn.ReLU(inplace=True), nn.Conv2d(inner, 1, 1), nn.Sigmoid()
        )

    def forward(self, skip: torch.Tensor, gating: torch.Tensor) -> torch.Tensor:
        weights = self.coefficient(self.skip_projection(skip) + self.gating_projection(gating))
        return skip * weights


class AttentionUNet(UNet):
    """:class:`UNet` (same architecture arguments) with an :class:`AttentionGate` on every
    skip connection."""

    def __init__(self, in_channels: int, out_channels: int, **architecture: Any) -> None:
        super().__init__(in_channels, out_channels, skip_gate=AttentionGate, **architecture)
