"""The scope classifier: is this run a hepatic DSA run? One logit from the small maps of
:func:`dsaviewer.core.scope_input.scope_input`.

A plain VGG-like stack: ``depth`` stages of 3x3 convolution, batch norm, ReLU and 2x2 max
pooling, then global average and max pooling and one linear layer. Small on purpose: it must
run in a millisecond beside the segmentation, and what separates a liver run from a coronary
or renal one (the size, place and timing of the blush, the shape of the tree) is coarse.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ScopeNetConfig:
    in_channels: int = 6
    width: int = 16  # channels of the first stage; doubled per stage up to 4 x width
    depth: int = 4
    dropout: float = 0.2


class ScopeNet(nn.Module):
    """``forward(maps)`` ``(B, in_channels, H, W)`` -> logits ``(B,)`` of "hepatic DSA run"."""

    def __init__(self, config: ScopeNetConfig | None = None) -> None:
        super().__init__()
        config = config or ScopeNetConfig()
        self.config = config
        layers: list[nn.Module] = []
        channels = config.in_channels
        for stage in range(config.depth):
            out = config.width * min(2**stage, 4)
            layers += [
                nn.Conv2d(channels, out, 3, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            channels = out
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(2 * channels, 1)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        features = self.features(maps)
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3))], dim=1)
        return self.head(self.dropout(pooled)).squeeze(1)
