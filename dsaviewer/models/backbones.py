"""The segmentation backbones by name, so a config string picks the network."""

from __future__ import annotations

from typing import Any

from torch import nn

from dsaviewer.models.attention_unet import AttentionUNet
from dsaviewer.models.context_unet import ContextUNet
from dsaviewer.models.unet import UNet
from dsaviewer.models.unet_plusplus import UNetPlusPlus

# Every class takes (in_channels, out_channels, base_width, depth, norm, upsample).
BACKBONES: dict[str, type[nn.Module]] = {
    "unet": UNet,
    "attention_unet": AttentionUNet,
    "unet_plusplus": UNetPlusPlus,
    "context_unet": ContextUNet,
}


def build_backbone(
    name: str, in_channels: int, out_channels: int, **architecture: Any
) -> nn.Module:
    """The backbone called ``name``, returning logits ``(B, out_channels, H, W)``;
    ``architecture``: base_width, depth, norm, upsample (see :class:`UNet`)."""
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
    return BACKBONES[name](in_channels, out_channels, **architecture)
