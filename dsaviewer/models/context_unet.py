"""U-Net with Pang et al.'s spatial and channel context aggregation at the deepest stage.

"Correlation Matters" (Pang et al.): self-attention over positions and over channels, each
added back to its input with a learnable weight that starts at zero, so training begins from
the plain U-Net and lets the network decide how much global context to mix in:
``X̂ = (α·X'_s + X) + (β·X'_c + X)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dsaviewer.models.unet import UNet


class ContextAggregation(nn.Module):
    """Position self-attention plus channel self-attention, shape-preserving.

    Spatial: queries and keys are ReLU(1×1 conv) projections to ``channels // reduction``
    channels, the values a 1×1 conv; each position becomes the softmax-weighted sum of the
    values at all positions. Channel: queries, keys and values are the feature maps
    themselves; each channel becomes the softmax-weighted sum of all channels (the paper's
    ``X' = FM`` read with row-normalised weights, as in DANet, so every output channel's
    weights sum to one).
    """

    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        inner = max(channels // reduction, 1)
        self.query = nn.Sequential(nn.Conv2d(channels, inner, 1), nn.ReLU())
        self.key = nn.Sequential(nn.Conv2d(channels, inner, 1), nn.ReLU())
        self.value = nn.Conv2d(channels, channels, 1)
        self.alpha = nn.Parameter(torch.zeros(1))
        self.beta = nn.Parameter(torch.zeros(1))

    def spatial_context(self, x: torch.Tensor) -> torch.Tensor:
        """X'_s: every position as an attention-weighted mix of the values at all positions."""
        batch, channels, height, width = x.shape
        query = self.query(x).flatten(2)  # (B, C', N)
        key = self.key(x).flatten(2)  # (B, C', N)
        value = self.value(x).flatten(2)  # (B, C, N)
        attention = torch.softmax(query.transpose(1, 2) @ key, dim=-1)  # (B, N, N)
        return (value @ attention.transpose(1, 2)).reshape(batch, channels, height, width)

    def channel_context(self, x: torch.Tensor) -> torch.Tensor:
        """X'_c: every channel as an attention-weighted mix of all channels."""
        batch, channels, height, width = x.shape
        flat = x.flatten(2)  # (B, C, N)
        attention = torch.softmax(flat @ flat.transpose(1, 2), dim=-1)  # (B, C, C)
        return (attention @ flat).reshape(batch, channels, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spatial = self.alpha * self.spatial_context(x) + x
        channel = self.beta * self.channel_context(x) + x
        return spatial + channel


class ContextUNet(UNet):
    """:class:`UNet` (same architecture arguments) with a :class:`ContextAggregation` block on
    its deepest features."""

    def __init__(self, in_channels: int, out_channels: int, **architecture: Any) -> None:
        super().__init__(in_channels, out_channels, bottleneck=ContextAggregation, **architecture)
