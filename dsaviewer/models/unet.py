"""The classic U-Net (Ronneberger et al. 2015), the backbone of DSA-LTDNet's three sub-networks."""

from __future__ import annotations

import torch
from torch import nn

from dsaviewer.models.blocks import (
    BottleneckFactory,
    Encoder,
    SkipGateFactory,
    Up,
    check_architecture,
    check_spatial_size,
    stage_widths,
)


class UNet(nn.Module):
    """Encoder–decoder with skip concatenation; returns logits ``(B, out_channels, H, W)``.

    Stage ``s`` has ``base_width * 2**s`` channels; H and W must be divisible by
    ``2**depth``. ``bottleneck`` and ``skip_gate`` build the optional modules the variants
    plug in (the context block, the attention gates); plain U-Net leaves them out.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_width: int = 8,
        depth: int = 4,
        norm: str = "batch",
        upsample: str = "transpose",
        bottleneck: BottleneckFactory | None = None,
        skip_gate: SkipGateFactory | None = None,
    ) -> None:
        super().__init__()
        check_architecture(base_width, depth, norm, upsample)
        self.depth = depth
        widths = stage_widths(base_width, depth)
        self.encoder = Encoder(in_channels, widths, norm)
        self.bottleneck = nn.Identity() if bottleneck is None else bottleneck(widths[-1])
        self.ups = nn.ModuleList(
            Up(
                deeper,
                shallower,
                norm,
                upsample,
                skip_gate=None if skip_gate is None else skip_gate(shallower, norm),
            )
            for deeper, shallower in zip(widths[:0:-1], widths[-2::-1], strict=True)
        )
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_spatial_size(x, self.depth)
        *skips, deepest = self.encoder(x)
        x = self.bottleneck(deepest)
        for up, skip in zip(self.ups, reversed(skips), strict=True):
            x = up(x, skip)
        return self.head(x)
