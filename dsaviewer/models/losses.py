"""The DSA-LTDNet losses: ``L_total = λ0·L1(TDL, FD) + λ1·L_LRS + L_seg``, with
``L_LRS`` and ``L_seg`` each ``a·BCE + (1−a)·Dice`` (a = 0.5, λ0 = 0.1, λ1 = 1 in the paper).

All losses are computed in float32, so they are safe under bf16/fp16 autocast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dsaviewer.models.ltdnet import SegmentationOutput
from dsaviewer.models.ltdnet_config import SegmentationConfig


def dice_loss(logits: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """``1 − soft Dice`` of ``sigmoid(logits)`` against ``target``, averaged over the batch.

    Dice is computed per sample over all non-batch dimensions:
    ``(2·Σ p·t + smooth) / (Σ p + Σ t + smooth)``. ``smooth`` keeps a key frame without
    tumor from giving 0/0, and scores an empty prediction on it as perfect.
    """
    _check_same_shape(logits, target)
    probability = torch.sigmoid(logits.float())
    target = target.float()
    dims = tuple(range(1, logits.ndim))
    overlap = (probability * target).sum(dims)
    total = probability.sum(dims) + target.sum(dims)
    return (1 - (2 * overlap + smooth) / (total + smooth)).mean()


def bce_dice_loss(
    logits: torch.Tensor, target: torch.Tensor, a: float = 0.5, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """``a·BCE + (1−a)·Dice`` (papers' Eq. 2 and 3); BCE is the mean over pixels, of each
    pixel's loss times ``weight`` when given (target-shaped, e.g. lesion-balanced weights)."""
    _check_same_shape(logits, target)
    if weight is not None:
        _check_same_shape(weight, target)
        weight = weight.float()
    bce = F.binary_cross_entropy_with_logits(logits.float(), target.float(), weight=weight)
    return a * bce + (1 - a) * dice_loss(logits, target)


@dataclass(frozen=True)
class LTDNetLoss:
    """The total loss and its unweighted parts; a part is None when the model lacks it."""

    total: torch.Tensor
    tumor: torch.Tensor
    liver: torch.Tensor | None
    temporal: torch.Tensor | None

    def as_floats(self) -> dict[str, float]:
        """The present parts as plain numbers, for logging."""
        parts = {
            "total": self.total,
            "tumor": self.tumor,
            "liver": self.liver,
            "temporal": self.temporal,
        }
        return {name: float(value.detach()) for name, value in parts.items() if value is not None}


def ltdnet_loss(
    outputs: SegmentationOutput,
    batch: Mapping[str, torch.Tensor],
    config: SegmentationConfig,
    lambda0: float = 0.1,
    lambda1: float = 1.0,
    a: float = 0.5,
) -> LTDNetLoss:
    """The paper's Eq. 4 for whatever sub-networks ``config`` has.

    ``batch`` holds ``(B, 1, H, W)`` targets: ``"tumor"`` always, ``"liver"`` when the model
    has a liver network, ``"fd"`` (the frame difference k−9 → k) when TDL is supervised, and
    optionally ``"tumor_weight"``, per-pixel weights of the tumor BCE.
    """
    tumor = bce_dice_loss(outputs.tumor_logits, _target(batch, "tumor", "the tumor mask"), a,
                          batch.get("tumor_weight"))
    total = tumor
    liver = None
    if outputs.liver_logits is not None:
        liver = bce_dice_loss(outputs.liver_logits, _target(batch, "liver", "the liver mask"), a)
        total = total + lambda1 * liver
    temporal = None
    if config.tdl_supervised:
        if outputs.temporal is None:
            raise ValueError("config.tdl_supervised is set but the outputs have no temporal map")
        fd = _target(batch, "fd", "the frame difference")
        _check_same_shape(outputs.temporal, fd)
        temporal = F.l1_loss(outputs.temporal.float(), fd.float())
        total = total + lambda0 * temporal
    return LTDNetLoss(total=total, tumor=tumor, liver=liver, temporal=temporal)


def _target(batch: Mapping[str, torch.Tensor], key: str, what: str) -> torch.Tensor:
    if key not in batch:
        raise ValueError(f"batch lacks {key!r} ({what}), which this model's loss needs")
    return batch[key]


def _check_same_shape(prediction: torch.Tensor, target: torch.Tensor) -> None:
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction shape {tuple(prediction.shape)} != target shape {tuple(target.shape)}"
        )
