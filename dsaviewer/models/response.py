"""DSA-Net Model 2: responder / non-responder to the first TACE from the key frame, the
predicted tumor mask and the clinical variables.

A ResNet18 reads the image [KF, KF·Pred, Pred], and optionally (``reads_run_maps``) the two
maps of the whole run the liver network reads (``dsaviewer.core.run_maps``: the maximum and
mean enhancement over frame 0) after them. The key frame and the mask show a tumor's
vascularity only where the mask found it; a faint tumor the segmentation misses looks like a
small burden, which leaves the paper's model over-predicting response in hypovascular and
infiltrative runs (docs/evaluation/runs-after-v9.md). An MLP reads the clinical vector (values
followed by presence indicators, built by ``dsaviewer.core.clinical_features``); their
features are concatenated and final linear layers give one logit. Optionally
(``clinical_linear``) a linear map of the clinical vector is added to that logit: the model
then contains a logistic regression on the clinical variables, which the MLP and the image
refine, instead of having to rebuild it through dropout and ReLUs (measured on generated data,
docs/evaluation.md: a logistic regression on the clinical vector alone did better than the
network without this path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dsaviewer.models.config_io import config_from_dict, config_to_dict
from dsaviewer.models.ltdnet_config import RUN_MAP_CHANNELS
from dsaviewer.models.resnet import ResNet18

# [KF, KF·Pred, Pred]
KEY_FRAME_CHANNELS = 3


def response_image(
    key_frame: torch.Tensor, tumor_probability: torch.Tensor, run_maps: torch.Tensor | None = None
) -> torch.Tensor:
    """The image Model 2 reads: [KF, KF·Pred, Pred], each ``(B, 1, H, W)``, followed by the
    ``(B, RUN_MAP_CHANNELS, H, W)`` run maps where the model reads them."""
    if key_frame.shape != tumor_probability.shape or key_frame.shape[1:2] != (1,):
        raise ValueError(
            "key frame and tumor probability must both be (B, 1, H, W), got "
            f"{tuple(key_frame.shape)} and {tuple(tumor_probability.shape)}"
        )
    channels = [key_frame, key_frame * tumor_probability, tumor_probability]
    if run_maps is not None:
        expected = (key_frame.shape[0], RUN_MAP_CHANNELS, *key_frame.shape[2:])
        if tuple(run_maps.shape) != expected:
            raise ValueError(f"run maps must be {expected}, got {tuple(run_maps.shape)}")
        channels.append(run_maps)
    return torch.cat(channels, dim=1)


def response_image_channels(reads_run_maps: bool) -> int:
    """Channels of :func:`response_image` with or without the run maps."""
    return KEY_FRAME_CHANNELS + (RUN_MAP_CHANNELS if reads_run_maps else 0)


class ResponseNet(nn.Module):
    """``forward(image, clinical)`` → responder logits ``(B,)``.

    ``image``: ``(B, image_channels, H, W)``, normally :func:`response_image`.
    ``clinical``: ``(B, clinical_features)``; None stands for a batch whose clinical
    variables are all missing (an all-zero vector: zero values, zero presence indicators).
    ``clinical_features = 0`` builds the image-only model of the paper's comparison.
    """

    def __init__(
        self,
        clinical_features: int,
        image_channels: int = 3,
        width: int = 64,
        clinical_hidden: int = 32,
        fusion_hidden: int = 64,
        dropout: float = 0.2,
        clinical_linear: bool = False,
    ) -> None:
        super().__init__()
        if clinical_linear and not clinical_features:
            raise ValueError("a linear clinical path needs clinical features")
        self.clinical_features = clinical_features
        self.image_encoder = ResNet18(image_channels, width)
        self.clinical_encoder: nn.Module | None = None
        fused = self.image_encoder.feature_dim
        if clinical_features:
            self.clinical_encoder = nn.Sequential(
                nn.Linear(clinical_features, clinical_hidden),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(clinical_hidden, clinical_hidden),
                nn.ReLU(inplace=True),
            )
            fused += clinical_hidden
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(fused, fusion_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(fusion_hidden, 1),
        )
        self.clinical_linear = nn.Linear(clinical_features, 1) if clinical_linear else None

    def forward(self, image: torch.Tensor, clinical: torch.Tensor | None = None) -> torch.Tensor:
        features = [self.image_encoder(image)]
        if self.clinical_encoder is not None:
            if clinical is None:
                clinical = image.new_zeros(image.shape[0], self.clinical_features)
            if tuple(clinical.shape) != (image.shape[0], self.clinical_features):
                raise ValueError(
                    f"clinical must be ({image.shape[0]}, {self.clinical_features}), "
                    f"got {tuple(clinical.shape)}"
                )
            features.append(self.clinical_encoder(clinical))
        elif clinical is not None:
            raise ValueError("clinical values given to a model built without a clinical branch")
        logits = self.classifier(torch.cat(features, dim=1))
        if self.clinical_linear is not None:
            logits = logits + self.clinical_linear(clinical)
        return logits.squeeze(1)


@dataclass(frozen=True)
class ResponseConfig:
    """The architecture of one :class:`ResponseNet`, stored beside its weights."""

    clinical_features: int
    image_channels: int = 3
    width: int = 64
    clinical_hidden: int = 32
    fusion_hidden: int = 64
    dropout: float = 0.2
    image_size: int = 256
    clinical_linear: bool = False  # a logistic-regression path from the clinical vector
    # Whether the image goes on with the run maps (configs stored before it existed: no).
    reads_run_maps: bool = False

    def __post_init__(self) -> None:
        for name in ("image_channels", "width", "clinical_hidden", "fusion_hidden", "image_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.clinical_features < 0:
            raise ValueError(f"clinical_features must be ≥ 0, got {self.clinical_features}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.clinical_linear and not self.clinical_features:
            raise ValueError("clinical_linear needs clinical features")
        expected = response_image_channels(self.reads_run_maps)
        if self.image_channels != expected:
            reads = "reading" if self.reads_run_maps else "not reading"
            raise ValueError(f"a response model {reads} the run maps reads {expected} image "
                             f"channels, not {self.image_channels}")

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | Path | None = None) -> ResponseConfig:
        """Inverse of :meth:`to_dict`; raises InputError naming ``source`` on bad data."""
        return config_from_dict(cls, data, source)
