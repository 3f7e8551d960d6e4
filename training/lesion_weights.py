"""Per-pixel weights for the tumor BCE that give a small lesion as much say as a large one.

With a·BCE + (1-a)·Dice over the whole image, a 6-px nodule next to a 40-px mass is a few
dozen pixels among 65,536 and a sliver of the Dice: missing it costs the loss almost nothing.
On the broad sets the misses are what the tumor Dice loses most (docs/evaluation/
runs-after-v6.md: found perfectly, they would lift it from 0.75 to 0.87), and most of them
are small. So each labelled lesion, and a margin around it where its border is decided,
weighs ``reference area / its area`` (at least 1, at most ``max_weight``), the reference
being the disc of ``reference_diameter_px``. The background weighs 1.

Tried once (16 px, at most 10x, 600 steps from v6's segmentation): it found no more small
lesions and cost tumor Dice (docs/evaluation/runs-after-v6.md); the option stays for longer
runs and other settings, off by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.binary_masks import label_components


@dataclass(frozen=True)
class LesionWeighting:
    """Off when ``reference_diameter_px`` is 0 (the papers' unweighted BCE)."""

    reference_diameter_px: float = 0.0  # pixels of the model input; smaller lesions weigh more
    max_weight: float = 10.0
    margin_px: int = 2  # the weight also covers this ring outside the lesion

    def __post_init__(self) -> None:
        if not (math.isfinite(self.reference_diameter_px) and self.reference_diameter_px >= 0):
            raise ValueError(
                f"reference_diameter_px must be >= 0, got {self.reference_diameter_px}")
        if not (math.isfinite(self.max_weight) and self.max_weight >= 1):
            raise ValueError(f"max_weight must be >= 1, got {self.max_weight}")
        if self.margin_px < 0:
            raise ValueError(f"margin_px must not be negative, got {self.margin_px}")

    @property
    def enabled(self) -> bool:
        return self.reference_diameter_px > 0


def lesion_balanced_weights(tumor: np.ndarray, weighting: LesionWeighting) -> np.ndarray:
    """float32 weights of ``tumor``'s shape (see the module doc); where the margins of two
    lesions overlap, the larger weight."""
    mask = np.asarray(tumor) > 0.5
    weights = np.ones(mask.shape, np.float32)
    if not weighting.enabled:
        return weights
    count, labels = label_components(mask)
    if count == 0:
        return weights
    areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
    reference_area = math.pi * (weighting.reference_diameter_px / 2) ** 2
    per_lesion = np.clip(reference_area / areas, 1.0, weighting.max_weight).astype(np.float32)
    # Dilate each weight with a max filter so its margin takes it; the largest weight wins
    # where margins meet, and lesion pixels keep their own weight even when a neighbour's
    # margin is heavier.
    lesion_weight = np.zeros(mask.shape, np.float32)
    lesion_weight[labels > 0] = per_lesion[labels[labels > 0] - 1]
    if weighting.margin_px > 0:
        size = 2 * weighting.margin_px + 1
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        around = cv2.dilate(lesion_weight, kernel)
        lesion_weight = np.where(mask, lesion_weight, around)
    return np.maximum(weights, lesion_weight)
