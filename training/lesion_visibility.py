"""Can a labelled lesion be seen in what the model reads? A check of the labels, not of a model.

A lesion's contrast is the mean of the frame inside it minus the mean of a 3-px ring around
it. The same shape placed at every free position of the perfused liver (no labelled tumor
within 3 px) gives the contrasts that the background alone produces: vessels, parenchymal
blush, noise. The lesion's score ``z`` is its contrast in robust standard deviations (1.4826
MAD) from their median, in the frame of the stack k-9..k (the frames TDL reads) where it
stands out most. An observer who is told where to look cannot tell a lesion with
``|z| < 3`` from background; no model should be expected to find it. A reader who must
search the run for it needs more: among the thousands of places a lesion could be, noise and
vessels alone reach 3 SDs somewhere, and Rose's criterion puts what can be found at an
unknown place at about 5 (``|z| >= 5``: "findable"). Where the liver has too few free
positions the exposed field stands in; a lesion too large to be placed anywhere else (``z``
infinite) counts as visible and findable.

The tumor Dice ceiling of a case is the Dice of a prediction that finds every visible lesion
exactly and nothing else: ``2|V| / (|T| + |V|)``, V the visible lesions' pixels; the search
ceiling counts the findable ones only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.binary_masks import label_components
from training.dataset import CaseRecord

Z_VISIBLE = 3.0  # seen when told where to look
Z_FINDABLE = 5.0  # found by searching (Rose's criterion)
STACK = 10  # frames k-9..k, what TDL reads
RING_PX = 3
RING_KERNEL = np.ones((2 * RING_PX + 1,) * 2, np.uint8)
MIN_POSITIONS = 30  # background placements a robust spread needs
# After subtraction the collimated edge and the black beyond the field read 0 (of 255).
FIELD_LEVEL = 3


@dataclass(frozen=True)
class LesionVisibility:
    area_px: int
    z: float  # inf: too large to place elsewhere; nan: no exposed pixels to measure

    @property
    def visible(self) -> bool:
        return self.stands_out(Z_VISIBLE)

    @property
    def findable(self) -> bool:
        return self.stands_out(Z_FINDABLE)

    def stands_out(self, z_min: float) -> bool:
        return not math.isnan(self.z) and abs(self.z) >= z_min


@dataclass(frozen=True)
class CaseVisibility:
    case_id: str
    tumor_px: int
    lesions: tuple[LesionVisibility, ...]  # in label_components order, as evaluate-seg lists them

    @property
    def dice_ceiling(self) -> float:
        """Every visible lesion found exactly (the reader told where to look)."""
        return self.ceiling_at(Z_VISIBLE)

    @property
    def search_ceiling(self) -> float:
        """Every findable lesion found exactly (the reader searching the run)."""
        return self.ceiling_at(Z_FINDABLE)

    def ceiling_at(self, z_min: float) -> float:
        kept = sum(lesion.area_px for lesion in self.lesions if lesion.stands_out(z_min))
        return 1.0 if self.tumor_px == 0 else 2 * kept / (self.tumor_px + kept)


def case_visibility(record: CaseRecord) -> CaseVisibility:
    """The visibility of each lesion labelled on ``record``'s key frame."""
    key = next(label for label in record.labelled if label.frame_index == record.key_frame)
    frames = record.clip[max(0, record.key_frame - STACK + 1):record.key_frame + 1]
    frames = frames.astype(np.float32)
    tumor = np.asarray(key.tumor, bool)
    exposed = frames[-1] > FIELD_LEVEL
    near_tumor = cv2.dilate(tumor.astype(np.uint8), RING_KERNEL) > 0
    field = cv2.erode(exposed.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    free_liver = np.asarray(key.liver, bool) & field & ~near_tumor
    free_field = field & ~near_tumor
    count, labels = label_components(tumor)
    lesions = []
    for index in range(1, count + 1):
        lesion = labels == index
        z = lesion_z(frames, lesion, exposed, (free_liver, free_field))
        lesions.append(LesionVisibility(int(lesion.sum()), z))
    return CaseVisibility(record.case_id, int(tumor.sum()), tuple(lesions))


def lesion_z(
    frames: np.ndarray, lesion: np.ndarray, exposed: np.ndarray,
    free_regions: tuple[np.ndarray, ...],
) -> float:
    """The lesion's contrast in robust SDs of the same shape's contrast at the free positions
    of the first of ``free_regions`` that has :data:`MIN_POSITIONS` of them."""
    ys, xs = np.nonzero(lesion)
    top, left = ys.min() - RING_PX, xs.min() - RING_PX
    bottom, right = ys.max() + RING_PX + 1, xs.max() + RING_PX + 1
    inner = np.zeros((bottom - top, right - left), np.uint8)
    inner[ys - top, xs - left] = 1
    ring = (cv2.dilate(inner, RING_KERNEL) > 0) & (inner == 0)
    footprint = ((inner > 0) | ring).astype(np.float32)
    # Correlating with this zero-sum kernel gives the contrast at every placement at once.
    kernel = (inner / inner.sum() - ring / ring.sum()).astype(np.float32)
    positions = None
    for region in free_regions:
        covered = cv2.filter2D(region.astype(np.float32), -1, footprint,
                               borderType=cv2.BORDER_CONSTANT)
        candidate = covered >= footprint.sum() - 0.5
        if candidate.sum() >= MIN_POSITIONS:
            positions = candidate
            break
    if positions is None:
        return math.inf
    # The lesion's own contrast from its exposed pixels only: the black beyond a collimator
    # next to it is not contrast.
    around = (cv2.dilate(lesion.astype(np.uint8), RING_KERNEL) > 0) & ~lesion & exposed
    inside = lesion & exposed
    if not inside.any() or around.sum() < 3:
        return math.nan
    scores = []
    for frame in frames:
        background = cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_CONSTANT)[positions]
        median = float(np.median(background))
        spread = 1.4826 * float(np.median(np.abs(background - median))) + 1e-6
        scores.append((frame[inside].mean() - frame[around].mean() - median) / spread)
    return float(scores[int(np.argmax(np.abs(scores)))])
