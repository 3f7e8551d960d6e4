"""Detection metrics of DSA-Net Table 2: lesion-level sensitivity and false-positive ratio
within a case, and patient-level tumour presence over cases.

A lesion is an 8-connected component of a tumour mask. A ground-truth lesion and a predicted
component *match* when their IoU exceeds ``min_iou``; the default 0.0 means any shared pixel
(the rule of Lambert et al.: a true positive has non-zero intersection with the ground
truth). Pass e.g. ``min_iou=0.1`` for the stricter rule some challenges use.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dsaviewer.core.binary_masks import as_mask, as_mask_pair, label_components
from dsaviewer.core.metrics_classification import BinaryConfusion, confusion_from_labels
from dsaviewer.errors import InputError


@dataclass(frozen=True)
class GroundTruthLesion:
    """One ground-truth lesion: its size and whether a predicted component matched it."""

    area_px: int
    detected: bool

    @property
    def diameter_px(self) -> float:
        """Diameter of the disc of the same area: the size a reader would call it."""
        return 2.0 * math.sqrt(self.area_px / math.pi)


@dataclass(frozen=True)
class LesionDetection:
    """Lesion counts of one case, or of many pooled with :func:`pool_lesion_detections`."""

    n_gt: int  # ground-truth lesions
    n_detected: int  # ground-truth lesions matched by at least one predicted component
    n_predicted: int  # predicted components
    n_false_positive: int  # predicted components matching no ground-truth lesion
    # Each ground-truth lesion of one case (lesion_detection lists them), so sensitivity can
    # be read by lesion size; pooled counts leave it empty, as bootstraps pool thousands of times.
    lesions: tuple[GroundTruthLesion, ...] = ()

    @property
    def sensitivity(self) -> float:
        """Detected / ground-truth lesions; nan without ground-truth lesions."""
        return self.n_detected / self.n_gt if self.n_gt else math.nan

    @property
    def false_positive_ratio(self) -> float:
        """False-positive / predicted components; nan without predicted components."""
        return self.n_false_positive / self.n_predicted if self.n_predicted else math.nan


def lesion_detection(pred: np.ndarray, gt: np.ndarray, min_iou: float = 0.0) -> LesionDetection:
    """Match the predicted components of one case against its ground-truth lesions."""
    p, g = as_mask_pair(pred, gt)
    if not 0.0 <= min_iou < 1.0:
        raise InputError(f"must be within [0, 1), got {min_iou}", "minimum lesion IoU")
    n_pred, pred_labels = label_components(p)
    n_gt, gt_labels = label_components(g)
    if n_pred == 0 or n_gt == 0:
        areas = np.bincount(gt_labels.ravel(), minlength=n_gt + 1)[1:]
        return LesionDetection(n_gt=n_gt, n_detected=0, n_predicted=n_pred, n_false_positive=n_pred,
                               lesions=tuple(GroundTruthLesion(int(a), False) for a in areas))
    # Pixel counts of every (gt label, pred label) pair, background row/column included.
    joint = np.bincount(
        gt_labels.ravel().astype(np.int64) * (n_pred + 1) + pred_labels.ravel(),
        minlength=(n_gt + 1) * (n_pred + 1),
    ).reshape(n_gt + 1, n_pred + 1)
    intersection = joint[1:, 1:]
    gt_area = joint[1:, :].sum(axis=1)
    pred_area = joint[:, 1:].sum(axis=0)
    union = gt_area[:, None] + pred_area[None, :] - intersection
    matches = (intersection > 0) & (intersection > min_iou * union)
    detected = matches.any(axis=1)
    return LesionDetection(
        n_gt=n_gt,
        n_detected=int(detected.sum()),
        n_predicted=n_pred,
        n_false_positive=int((~matches.any(axis=0)).sum()),
        lesions=tuple(GroundTruthLesion(int(area), bool(found))
                      for area, found in zip(gt_area, detected, strict=True)),
    )


def pool_lesion_detections(per_case: Iterable[LesionDetection]) -> LesionDetection:
    """Sum the counts of many cases: lesion-level rates are over all lesions, not per case.
    The per-lesion list is not carried over (read sizes per case: :func:`sensitivity_by_size`)."""
    cases = list(per_case)
    return LesionDetection(
        n_gt=sum(case.n_gt for case in cases),
        n_detected=sum(case.n_detected for case in cases),
        n_predicted=sum(case.n_predicted for case in cases),
        n_false_positive=sum(case.n_false_positive for case in cases),
    )


def sensitivity_by_size(
    lesions: Iterable[GroundTruthLesion], diameter_edges_px: Sequence[float]
) -> list[LesionDetection]:
    """The lesions split into size classes by their diameter (class i: edges[i-1] <= d <
    edges[i]; len(edges) + 1 classes), each as the detection counts of its lesions alone
    (predicted components belong to no class: they are left at 0)."""
    edges = list(diameter_edges_px)
    if any(b <= a for a, b in zip(edges, edges[1:], strict=False)) or any(e <= 0 for e in edges):
        raise InputError(f"must be positive and increasing, got {edges}", "lesion size classes")
    classes: list[list[GroundTruthLesion]] = [[] for _ in range(len(edges) + 1)]
    for lesion in lesions:
        classes[bisect.bisect_right(edges, lesion.diameter_px)].append(lesion)
    return [LesionDetection(n_gt=len(c), n_detected=sum(x.detected for x in c), n_predicted=0,
                            n_false_positive=0, lesions=tuple(c)) for c in classes]


def patient_level_confusion(
    pred_masks: Iterable[np.ndarray], gt_masks: Iterable[np.ndarray], min_area_px: int = 1
) -> BinaryConfusion:
    """Per case, "tumour present" in ground truth vs prediction, as a confusion matrix
    (read sensitivity, specificity, PPV, NPV from it). A mask shows a tumour when it has at
    least ``min_area_px`` foreground pixels."""
    if min_area_px < 1:
        raise InputError(f"must be at least 1, got {min_area_px}", "minimum tumour area")
    preds, gts = list(pred_masks), list(gt_masks)
    if len(preds) != len(gts):
        raise InputError(f"{len(preds)} predicted masks for {len(gts)} cases", "predicted masks")
    predicted, truth = [], []
    for index, (pred, gt) in enumerate(zip(preds, gts, strict=True)):
        p = as_mask(pred, f"predicted mask of case {index}")
        g = as_mask(gt, f"ground-truth mask of case {index}")
        predicted.append(int(np.count_nonzero(p)) >= min_area_px)
        truth.append(int(np.count_nonzero(g)) >= min_area_px)
    return confusion_from_labels(np.array(truth, dtype=bool), np.array(predicted, dtype=bool))
