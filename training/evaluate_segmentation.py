"""Segmentation metrics of DSA-Net Table 2 over a set of cases, each with a bootstrap 95 % CI
(cases resampled), on the key frames, with or without Lambert post-processing.

Rows and how they are read (all at probability 0.5):

- Dice, accuracy: per case (pixel accuracy), averaged over cases.
- Dice with the missed lesions found: each case's Dice had every ground-truth lesion the
  prediction does not touch been segmented exactly (its pixels moved from false negatives to
  true positives). Its distance to the Dice is what missed lesions cost; the rest is borders
  and false positives.
- Patient-level sensitivity, specificity, PPV, NPV: the pixel rates of each patient's key
  frame, averaged over patients. The paper's values (specificity 98.4 %, NPV 98.3 % with
  every patient having a tumor) can only be read this way; a patient where a rate is
  undefined (PPV without predicted tumor pixels) is left out of that row and counted.
- Tumor presence sensitivity, specificity, PPV, NPV: per patient, "any tumor" in prediction
  vs ground truth (:func:`patient_level_confusion`); specificity needs tumor-free cases.
- Lesion-level sensitivity and false-positive ratio: lesions (8-connected components) pooled
  over all cases; a ground-truth lesion is found when a predicted one overlaps it.
- HD95 and ASSD (pixels of the model image): over cases where both masks are non-empty; the
  cases where exactly one is empty (infinite distance) are counted beside.
- Liver Dice: models with a liver network.
- Lesion-level sensitivity by size: the same pooled rate within classes of ground-truth
  lesion diameter (of the disc of equal area, in pixels of the image scored, the model's
  unless ``evaluate-seg --score-size``): small nodules are where a model of a 256-px image
  fails first, and the mean over all lesions hides it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from dsaviewer.core.bootstrap import ConfidenceInterval, bootstrap_ci
from dsaviewer.core.metrics_classification import BinaryConfusion, confusion_from_labels
from dsaviewer.core.metrics_detection import (
    LesionDetection,
    lesion_detection,
    pool_lesion_detections,
    sensitivity_by_size,
)
from dsaviewer.core.metrics_segmentation import (
    average_symmetric_surface_distance,
    dice,
    hd95,
    pixel_accuracy,
)
from training.dataset import CaseRecord
from training.report import format_interval, markdown_table
from training.seg_predictions import KeyFramePrediction

# Diameter classes of ground-truth lesions, px of the image scored: at 256 px over a
# 30-40 cm field, 8 px is about 1 cm.
LESION_DIAMETER_EDGES_PX = (8.0, 16.0, 32.0)


@dataclass(frozen=True)
class CaseSegmentation:
    """The metrics of one case's key frame."""

    case_id: str
    dice: float
    accuracy: float
    pixels: BinaryConfusion
    lesions: LesionDetection
    hd95: float
    assd: float
    liver_dice: float | None

    @property
    def tumor_present(self) -> bool:
        return self.pixels.tp + self.pixels.fn > 0

    @property
    def tumor_predicted(self) -> bool:
        return self.pixels.tp + self.pixels.fp > 0

    @property
    def dice_with_missed_found(self) -> float:
        """The Dice had every missed ground-truth lesion been segmented exactly."""
        missed = sum(lesion.area_px for lesion in self.lesions.lesions if not lesion.detected)
        tp, fp, fn = self.pixels.tp + missed, self.pixels.fp, self.pixels.fn - missed
        return 1.0 if tp + fp + fn == 0 else 2.0 * tp / (2 * tp + fp + fn)


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    interval: ConfidenceInterval
    percent: bool
    n_used: int  # cases the estimate rests on
    note: str = ""


@dataclass(frozen=True)
class SegmentationEvaluation:
    postprocessed: bool
    rows: tuple[MetricRow, ...]
    cases: tuple[CaseSegmentation, ...]
    # Lesion-level sensitivity per diameter class: evaluate_segmentation fills it, the
    # per-family tables (summarise_cases alone) do not need it.
    by_size: tuple[MetricRow, ...] = ()

    def row(self, key: str) -> MetricRow:
        return next(row for row in self.rows if row.key == key)

    def to_dict(self) -> dict[str, object]:
        return {
            "postprocessed": self.postprocessed,
            "metrics": {row.key: {"label": row.label, **row.interval._asdict(),
                                  "n_used": row.n_used, "note": row.note} for row in self.rows},
            "lesion_sensitivity_by_size": {
                row.key: {"label": row.label, **row.interval._asdict(), "note": row.note}
                for row in self.by_size},
            "cases": [_case_dict(case) for case in self.cases],
        }


def case_segmentation(
    case_id: str,
    tumor: np.ndarray,
    truth_tumor: np.ndarray,
    liver: np.ndarray | None = None,
    truth_liver: np.ndarray | None = None,
) -> CaseSegmentation:
    """The metrics of one key frame from boolean masks (prediction, ground truth)."""
    tumor, truth_tumor = np.asarray(tumor, bool), np.asarray(truth_tumor, bool)
    return CaseSegmentation(
        case_id=case_id,
        dice=dice(tumor, truth_tumor),
        accuracy=pixel_accuracy(tumor, truth_tumor),
        pixels=confusion_from_labels(truth_tumor.ravel(), tumor.ravel()),
        lesions=lesion_detection(tumor, truth_tumor),
        hd95=hd95(tumor, truth_tumor),
        assd=average_symmetric_surface_distance(tumor, truth_tumor),
        liver_dice=None if liver is None or truth_liver is None else dice(liver, truth_liver),
    )


def evaluate_segmentation(
    records: Sequence[CaseRecord],
    predictions: Mapping[str, KeyFramePrediction],
    postprocess: bool,
    n_resamples: int = 1000,
    seed: int = 0,
) -> SegmentationEvaluation:
    """Score the key-frame predictions of ``records`` (see the module doc for the rows)."""
    cases = []
    for record in records:
        truth = next(label for label in record.labelled if label.frame_index == record.key_frame)
        tumor, liver = predictions[record.case_id].masks(postprocess)
        cases.append(case_segmentation(record.case_id, tumor, truth.tumor, liver, truth.liver))
    summary = summarise_cases(cases, postprocess, n_resamples, seed)
    return replace(summary, by_size=sensitivity_by_size_rows(cases, n_resamples, seed))


def summarise_cases(
    cases: Sequence[CaseSegmentation], postprocessed: bool, n_resamples: int = 1000,
    seed: int = 0,
) -> SegmentationEvaluation:
    """The Table 2 rows of per-case metrics."""
    if not cases:
        raise ValueError("no cases to evaluate")
    n = len(cases)

    def mean_row(key: str, label: str, values: Sequence[float | None], percent: bool,
                 what_is_left_out: str = "") -> MetricRow:
        finite = [v for v in values if v is not None and math.isfinite(v)]
        left_out = n - len(finite)
        note = f"{left_out} case(s) {what_is_left_out}" if left_out and what_is_left_out else ""
        if not finite:
            return MetricRow(key, label, ConfidenceInterval(math.nan, math.nan, math.nan),
                             percent, 0, note)
        return MetricRow(key, label, bootstrap_ci(finite, n_resamples=n_resamples, seed=seed),
                         percent, len(finite), note)

    def pooled_row(key: str, label: str, statistic: Callable[[np.ndarray], float],
                   percent: bool = True, note: str = "") -> MetricRow:
        interval = bootstrap_ci(statistic, n, n_resamples=n_resamples, seed=seed)
        return MetricRow(key, label, interval, percent, n, note)

    presence_truth = np.array([case.tumor_present for case in cases])
    presence_predicted = np.array([case.tumor_predicted for case in cases])

    def presence(rate: str) -> Callable[[np.ndarray], float]:
        return lambda idx: getattr(
            confusion_from_labels(presence_truth[idx], presence_predicted[idx]), rate)

    def lesions(rate: str) -> Callable[[np.ndarray], float]:
        return lambda idx: getattr(pool_lesion_detections(cases[i].lesions for i in idx), rate)

    pooled = pool_lesion_detections(case.lesions for case in cases)
    rows = [
        mean_row("dice", "Dice", [c.dice for c in cases], False),
        mean_row("dice_missed_found", "Dice with the missed lesions found",
                 [c.dice_with_missed_found for c in cases], False),
        mean_row("accuracy", "Accuracy", [c.accuracy for c in cases], True),
        mean_row("patient_sensitivity", "Patient-level sensitivity",
                 [c.pixels.sensitivity for c in cases], True, "without tumor left out"),
        mean_row("patient_specificity", "Patient-level specificity",
                 [c.pixels.specificity for c in cases], True, "without background left out"),
        mean_row("patient_ppv", "Patient-level PPV", [c.pixels.ppv for c in cases], True,
                 "without predicted tumor left out"),
        mean_row("patient_npv", "Patient-level NPV", [c.pixels.npv for c in cases], True,
                 "predicted all tumor left out"),
        pooled_row("lesion_sensitivity", "Lesion-level sensitivity",
                   lesions("sensitivity"),
                   note=f"{pooled.n_detected} of {pooled.n_gt} lesions"),
        pooled_row("false_positive_ratio", "False-positive ratio",
                   lesions("false_positive_ratio"),
                   note=f"{pooled.n_false_positive} of {pooled.n_predicted} predicted lesions"),
        pooled_row("presence_sensitivity", "Tumor presence sensitivity",
                   presence("sensitivity"),
                   note=f"{int(presence_truth.sum())} of {n} cases have a tumor"),
        pooled_row("presence_specificity", "Tumor presence specificity",
                   presence("specificity")),
        pooled_row("presence_ppv", "Tumor presence PPV", presence("ppv")),
        pooled_row("presence_npv", "Tumor presence NPV", presence("npv")),
        mean_row("hd95", "HD95 (px)", [c.hd95 for c in cases], False,
                 "with an empty mask left out"),
        mean_row("assd", "ASSD (px)", [c.assd for c in cases], False,
                 "with an empty mask left out"),
    ]
    if any(case.liver_dice is not None for case in cases):
        rows.append(mean_row("liver_dice", "Liver Dice", [c.liver_dice for c in cases], False))
    return SegmentationEvaluation(postprocessed, tuple(rows), tuple(cases))


def _size_labels(edges: Sequence[float]) -> list[str]:
    bounds = [f"{e:g}" for e in edges]
    return ([f"< {bounds[0]} px"] + [f"{a}-{b} px" for a, b in zip(bounds, bounds[1:],
                                                                 strict=False)]
            + [f">= {bounds[-1]} px"])


def sensitivity_by_size_rows(
    cases: Sequence[CaseSegmentation], n_resamples: int = 1000, seed: int = 0,
    edges: Sequence[float] = LESION_DIAMETER_EDGES_PX,
) -> tuple[MetricRow, ...]:
    """Lesion-level sensitivity per diameter class, pooled over ``cases``; the CI resamples
    cases, as the other rows do. A class without lesions gets no row."""
    # (case, class, [lesions, found]): the resamples only sum counts.
    counts = np.array([[(c.n_gt, c.n_detected) for c in sensitivity_by_size(case.lesions.lesions,
                                                                            edges)]
                       for case in cases]).reshape(len(cases), len(edges) + 1, 2)
    rows = []
    for index, label in enumerate(_size_labels(edges)):
        lesions, found = counts[:, index, 0], counts[:, index, 1]
        if not lesions.sum():
            continue
        interval = bootstrap_ci(
            lambda idx, n=lesions, f=found: f[idx].sum() / n[idx].sum() if n[idx].sum()
            else math.nan, len(cases), n_resamples=n_resamples, seed=seed)
        rows.append(MetricRow(f"diameter {label}", f"Lesion-level sensitivity, diameter {label}",
                              interval, True, len(cases),
                              f"{found.sum()} of {lesions.sum()} lesions"))
    return tuple(rows)


def segmentation_markdown(
    evaluations: Sequence[SegmentationEvaluation], title: str, description: str = ""
) -> str:
    """One table, a column per evaluation (raw, post-processed)."""
    headers = ["Metric (95 % CI)"] + [
        "post-processed" if e.postprocessed else "raw" for e in evaluations
    ] + ["note"]
    rows = []
    for row in evaluations[0].rows:
        cells = [format_interval(e.row(row.key).interval, row.percent) for e in evaluations]
        notes = "; ".join(dict.fromkeys(e.row(row.key).note for e in evaluations if
                                        e.row(row.key).note))
        rows.append([row.label, *cells, notes])
    for row in evaluations[0].by_size:
        others = [next((r for r in e.by_size if r.key == row.key), None) for e in evaluations]
        rows.append([row.label, *(format_interval(r.interval, True) if r else "" for r in others),
                     "; ".join(dict.fromkeys(r.note for r in others if r))])
    text = f"# {title}\n\n"
    if description:
        text += description + "\n\n"
    return text + f"{len(evaluations[0].cases)} cases.\n\n" + markdown_table(headers, rows)


def _case_dict(case: CaseSegmentation) -> dict[str, object]:
    return {
        "case_id": case.case_id, "dice": case.dice, "accuracy": case.accuracy,
        "pixels": {"tp": case.pixels.tp, "fp": case.pixels.fp, "tn": case.pixels.tn,
                   "fn": case.pixels.fn},
        "lesions": {"n_gt": case.lesions.n_gt, "n_detected": case.lesions.n_detected,
                    "n_predicted": case.lesions.n_predicted,
                    "n_false_positive": case.lesions.n_false_positive,
                    "ground_truth": [[lesion.area_px, lesion.detected]
                                     for lesion in case.lesions.lesions]},
        "hd95": case.hd95, "assd": case.assd, "liver_dice": case.liver_dice,
    }
