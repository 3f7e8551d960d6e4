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

Optionally (``tumor_measurements``) a third linear path reads what the image measures of the
predicted tumor: each intensity channel's (key frame, run maps) mean inside the tumor
probability minus its mean outside, and the log of the tumor's area fraction. These are the
quantities the response depends on (burden, vascularity); the ResNet can only learn them from
pixels, and on faint tumors it did not (RK/RR in docs/evaluation/runs-after-v9.md).
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


# Area fractions below this count as no tumor in the log-area measurement.
_AREA_FLOOR = 1e-3


def tumor_measurements(image: torch.Tensor) -> torch.Tensor:
    """``(B, M)`` measurements of the predicted tumor in a :func:`response_image`: for the key
    frame and each run map, the mean inside the tumor probability minus the mean outside it
    (0 where no tumor is predicted); last, ``log(area fraction + 1e-3)``."""
    probability = image[:, 2:3]
    intensities = torch.cat([image[:, 0:1], image[:, KEY_FRAME_CHANNELS:]], dim=1)
    inside_weight = probability.sum(dim=(2, 3))  # (B, 1)
    outside = 1.0 - probability
    outside_mean = (intensities * outside).sum(dim=(2, 3)) / (outside.sum(dim=(2, 3)) + 1.0)
    # The contrast averaged over the tumor's pixels; one pixel of slack keeps an empty
    # prediction at 0 rather than at minus the background.
    contrast = ((intensities - outside_mean[:, :, None, None]) * probability).sum(dim=(2, 3)) \
        / (inside_weight + 1.0)
    pixels = image.shape[2] * image.shape[3]
    area = torch.log(inside_weight / pixels + _AREA_FLOOR)
    return torch.cat([contrast, area], dim=1)


def tumor_measurement_count(image_channels: int) -> int:
    """Measurements :func:`tumor_measurements` gives for an image of ``image_channels``."""
    return image_channels - KEY_FRAME_CHANNELS + 2


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
        tumor_measurements: bool = False,
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
        self.measurement_linear = (nn.Linear(tumor_measurement_count(image_channels), 1)
                                   if tumor_measurements else None)

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
        if self.measurement_linear is not None:
            logits = logits + self.measurement_linear(tumor_measurements(image))
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
    # A linear path from the measured tumor contrast and area (configs before it: none).
    tumor_measurements: bool = False

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
