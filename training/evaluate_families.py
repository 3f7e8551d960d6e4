"""Per-family tables: the segmentation and response metrics over the cases of each broad-mix
family value (``family=value``), with bootstrap 95 % CIs. A value held out of training is
marked, so the table shows held-out families beside the seen ones."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dsaviewer.core.bootstrap import ConfidenceInterval, bootstrap_ci
from dsaviewer.core.metrics_classification import (
    calibration_bins,
    calibration_to_truth,
    roc_auc,
)
from training.evaluate_segmentation import CaseSegmentation, summarise_cases
from training.report import format_interval, markdown_table

SEG_KEYS = ("dice", "liver_dice", "lesion_sensitivity", "false_positive_ratio")
_NAN = ConfidenceInterval(math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class FamilyRow:
    group: str  # "family=value", or "all"
    n_cases: int
    held_out: bool
    metrics: Mapping[str, ConfidenceInterval]

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group,
            "n_cases": self.n_cases,
            "held_out": self.held_out,
            **{
                key: {"estimate": ci.estimate, "low": ci.low, "high": ci.high}
                for key, ci in self.metrics.items()
            },
        }


def segmentation_by_family(
    cases: Sequence[CaseSegmentation],
    groups: Mapping[str, Sequence[str]],
    held_out: Collection[str] = (),
    n_resamples: int = 1000,
    seed: int = 0,
    postprocessed: bool = True,
) -> list[FamilyRow]:
    """Tumor Dice, liver Dice, lesion sensitivity and FP ratio per group of case ids
    (``cases``: one evaluation's, raw or ``postprocessed``)."""
    by_id = {case.case_id: case for case in cases}
    rows = []
    for group, case_ids in groups.items():
        chosen = [by_id[c] for c in case_ids if c in by_id]
        if not chosen:
            continue
        evaluation = summarise_cases(chosen, postprocessed, n_resamples, seed)
        present = {row.key: row.interval for row in evaluation.rows}
        metrics = {key: present.get(key, _NAN) for key in SEG_KEYS}
        rows.append(FamilyRow(group, len(chosen), group in held_out, metrics))
    return rows


def response_by_family(
    case_ids: Sequence[str],
    labels: np.ndarray,
    probabilities: np.ndarray,
    true_probabilities: np.ndarray | None,
    groups: Mapping[str, Sequence[str]],
    held_out: Collection[str] = (),
    n_resamples: int = 1000,
    seed: int = 0,
) -> list[FamilyRow]:
    """AUC, Bayes AUC (when the true probabilities are known) and expected calibration
    error (10 bins) per group; AUC needs both classes in a group, else it is NaN. With the
    true probabilities also the signed bias, mean predicted minus mean true probability: a
    calibration error says how far a group's probabilities are off, the bias which way (a
    map fitted to the whole mix can leave one phenotype over- and another under-predicted)."""
    index = {case_id: i for i, case_id in enumerate(case_ids)}
    rows = []
    for group, members in groups.items():
        idx = np.array([index[c] for c in members if c in index], dtype=int)
        if idx.size == 0:
            continue
        y, p = labels[idx], probabilities[idx]
        both = 0 < int(y.sum()) < y.size

        def auc_of(scores: np.ndarray, y: np.ndarray = y, both: bool = both) -> ConfidenceInterval:
            if not both:
                return _NAN
            return bootstrap_ci(lambda i: roc_auc(y[i], scores[i]), y.size,
                                n_resamples=n_resamples, seed=seed, strata=y)

        metrics = {"auc": auc_of(p)}
        if true_probabilities is not None:
            metrics["bayes_auc"] = auc_of(true_probabilities[idx])
        metrics["ece"] = _estimate(calibration_bins(y, p, 10).expected_calibration_error)
        if true_probabilities is not None:
            against_truth = calibration_to_truth(y, true_probabilities[idx], p, 10)
            metrics["ece_of_truth"] = _estimate(against_truth.ece_of_truth)
            metrics["calibration_error_to_truth"] = _estimate(against_truth.error_to_truth)
            metrics["bias_to_truth"] = bootstrap_ci(p - true_probabilities[idx],
                                                    n_resamples=n_resamples, seed=seed)
        rows.append(FamilyRow(group, int(idx.size), group in held_out, metrics))
    return rows


def family_markdown(rows: Sequence[FamilyRow], keys: Sequence[tuple[str, str, bool]]) -> str:
    """A table, a row per group; ``keys``: (metric key, column title, percent)."""
    headers = ["family=value", "cases", "held out", *[title for _, title, _ in keys]]
    body = [
        [row.group, str(row.n_cases), "yes" if row.held_out else "",
         *[_cell(row.metrics.get(key, _NAN), percent) for key, _, percent in keys]]
        for row in rows
    ]
    return markdown_table(headers, body)


SEG_COLUMNS = (("dice", "tumor Dice", False), ("liver_dice", "liver Dice", False),
               ("lesion_sensitivity", "lesion sens.", True),
               ("false_positive_ratio", "FP ratio", True))
RESPONSE_COLUMNS = (("auc", "AUC", False), ("bayes_auc", "Bayes AUC", False),
                    ("ece", "ECE", False), ("ece_of_truth", "ECE of the true probabilities", False),
                    ("calibration_error_to_truth", "calibration error to them", False),
                    ("bias_to_truth", "bias to them (predicted - true)", False))


def _estimate(value: float) -> ConfidenceInterval:
    """A figure given without an interval (a binned calibration error's bootstrap is biased)."""
    return ConfidenceInterval(value, math.nan, math.nan)


def _cell(interval: ConfidenceInterval, percent: bool) -> str:
    return "–" if math.isnan(interval.estimate) else format_interval(interval, percent)
