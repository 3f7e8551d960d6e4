"""torch networks shared by inference and training: DSA-LTDNet and its ablations (Model 1),
the response-prediction network (Model 2), their backbones and losses."""

from dsaviewer.models.attention_unet import AttentionGate, AttentionUNet
from dsaviewer.models.backbones import BACKBONES, build_backbone
from dsaviewer.models.context_unet import ContextAggregation, ContextUNet
from dsaviewer.models.factory import (
    build_response_model,
    build_segmentation_model,
    count_parameters,
)
from dsaviewer.models.losses import LTDNetLoss, bce_dice_loss, dice_loss, ltdnet_loss
from dsaviewer.models.ltdnet import DSALTDNet, SegmentationOutput
from dsaviewer.models.ltdnet_config import (
    ABLATIONS,
    LIVER_INPUTS,
    RUN_MAP_CHANNELS,
    TEMPORAL_MODES,
    SegmentationConfig,
)
from dsaviewer.models.resnet import ResNet18
from dsaviewer.models.response import (
    ResponseConfig,
    ResponseNet,
    response_image,
    response_image_channels,
    tumor_measurements,
)
from dsaviewer.models.unet import UNet
from dsaviewer.models.unet_plusplus import UNetPlusPlus

__all__ = [
    "ABLATIONS",
    "BACKBONES",
    "LIVER_INPUTS",
    "RUN_MAP_CHANNELS",
    "TEMPORAL_MODES",
    "AttentionGate",
    "AttentionUNet",
    "ContextAggregation",
    "ContextUNet",
    "DSALTDNet",
    "LTDNetLoss",
    "ResNet18",
    "ResponseConfig",
    "ResponseNet",
    "SegmentationConfig",
    "SegmentationOutput",
    "UNet",
    "UNetPlusPlus",
    "bce_dice_loss",
    "build_backbone",
    "build_response_model",
    "build_segmentation_model",
    "count_parameters",
    "dice_loss",
    "ltdnet_loss",
    "response_image",
    "response_image_channels",
    "tumor_measurements",
]
