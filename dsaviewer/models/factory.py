"""Building models from their stored configs, and counting their parameters.

A weights file holds ``{"config": config.to_dict(), "state_dict": model.state_dict()}``:
plain dicts, strings, numbers and tensors only, so ``torch.load(weights_only=True)`` reads it
and the model comes back through these factories.
"""

from __future__ import annotations

from torch import nn

from dsaviewer.models.ltdnet import DSALTDNet
from dsaviewer.models.ltdnet_config import SegmentationConfig
from dsaviewer.models.response import ResponseConfig, ResponseNet


def build_segmentation_model(config: SegmentationConfig) -> DSALTDNet:
    """The segmentation model ``config`` describes (see ``ABLATIONS`` for the named ones)."""
    return DSALTDNet(config)


def build_response_model(config: ResponseConfig) -> ResponseNet:
    """The response-prediction model ``config`` describes."""
    return ResponseNet(
        config.clinical_features,
        image_channels=config.image_channels,
        width=config.width,
        clinical_hidden=config.clinical_hidden,
        fusion_hidden=config.fusion_hidden,
        dropout=config.dropout,
        clinical_linear=config.clinical_linear,
        tumor_measurements=config.tumor_measurements,
    )


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters, only those that require grad unless told otherwise."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
