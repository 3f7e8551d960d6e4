"""Response-model metrics of DSA-Net Table 3: ROC AUC, accuracy, sensitivity, specificity,
PPV and NPV at the operating threshold, each with a bootstrap 95 % CI (resampled within each
class, so every resample has both), the ROC curve, calibration, DeLong's test between two
models scored on the same cases, and, for synthetic data, the Bayes-optimal AUC: the AUC of
the true response probabilities, the ceiling any model of this data can reach. For synthetic
data the calibration is also measured against the true probabilities, and the true
probabilities' own expected calibration error on the same outcomes is given as the floor the
outcomes' sampling noise puts under any model's (a perfectly calibrated model does not
score 0 on a few hundred cases).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dsaviewer.core.bootstrap import ConfidenceInterval, bootstrap_ci
from dsaviewer.core.metrics_classification import (
    CalibrationBins,
    DeLongResult,
    RocCurve,
    calibration_bins,
    calibration_to_truth,
    confusion_at_threshold,
    delong_test,
    roc_auc,
    roc_curve,
)
from training.report import format_interval, format_value, markdown_table

RATES = ("accuracy", "sensitivity", "specificity", "ppv", "npv")
_LABELS = {"auc": "AUC", "accuracy": "Accuracy", "sensitivity": "Sensitivity",
           "specificity": "Specificity", "ppv": "PPV", "npv": "NPV",
           "bayes_auc": "Bayes-optimal AUC (true probabilities)"}
_CALIBRATION_LABELS = {
    "ece": "Expected calibration error",
    "ece_of_truth": "ECE of the true probabilities (the floor these outcomes allow)",
    "calibration_error_to_truth": "Calibration error against the true probabilities",
}


@dataclass(frozen=True)
class ResponseEvaluation:
    name: str
    n_cases: int
    n_responders: int
    threshold: float
    metrics: Mapping[str, ConfidenceInterval]  # "auc" and RATES, maybe "bayes_auc"
    roc: RocCurve
    calibration: CalibrationBins
    # Synthetic data only (None otherwise): see calibration_figures.
    ece_of_truth: float | None = None
    calibration_error_to_truth: float | None = None

    def calibration_figures(self) -> dict[str, float]:
        """The ECE on the outcomes and, for synthetic data, the true probabilities' ECE on the
        same outcomes and the model's calibration error against the true probabilities."""
        figures = {"ece": self.calibration.expected_calibration_error}
        if self.ece_of_truth is not None:
            figures["ece_of_truth"] = self.ece_of_truth
        if self.calibration_error_to_truth is not None:
            figures["calibration_error_to_truth"] = self.calibration_error_to_truth
        return figures

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name, "n_cases": self.n_cases, "n_responders": self.n_responders,
            "threshold": self.threshold,
            "metrics": {key: ci._asdict() for key, ci in self.metrics.items()},
            "expected_calibration_error": self.calibration.expected_calibration_error,
            "ece_of_true_probabilities": self.ece_of_truth,
            "calibration_error_to_true_probabilities": self.calibration_error_to_truth,
            "roc": {"fpr": self.roc.fpr.tolist(), "tpr": self.roc.tpr.tolist()},
            "calibration": {
                "edges": self.calibration.edges.tolist(),
                "mean_predicted": self.calibration.mean_predicted.tolist(),
                "observed_rate": self.calibration.observed_rate.tolist(),
                "counts": self.calibration.counts.tolist(),
            },
        }


def evaluate_response(
    name: str,
    labels: Sequence[int] | np.ndarray,
    probabilities: Sequence[float] | np.ndarray,
    threshold: float = 0.5,
    true_probabilities: Sequence[float] | np.ndarray | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
) -> ResponseEvaluation:
    """Score predicted response probabilities against the observed responses (1 responder)."""
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"{p.size} probabilities for {y.size} labels")

    def interval(statistic) -> ConfidenceInterval:
        return bootstrap_ci(statistic, y.size, n_resamples=n_resamples, seed=seed, strata=y)

    metrics = {"auc": interval(lambda idx: roc_auc(y[idx], p[idx]))}
    for rate in RATES:
        metrics[rate] = interval(
            lambda idx, rate=rate: getattr(confusion_at_threshold(y[idx], p[idx], threshold),
                                           rate))
    floor = to_truth = None
    if true_probabilities is not None:
        truth = np.asarray(true_probabilities, dtype=float)
        if truth.shape != y.shape:
            raise ValueError(f"{truth.size} true probabilities for {y.size} labels")
        metrics["bayes_auc"] = interval(lambda idx: roc_auc(y[idx], truth[idx]))
        against_truth = calibration_to_truth(y, truth, p, n_bins)
        floor, to_truth = against_truth.ece_of_truth, against_truth.error_to_truth
    return ResponseEvaluation(
        name=name,
        n_cases=int(y.size),
        n_responders=int(y.sum()),
        threshold=threshold,
        metrics=metrics,
        roc=roc_curve(y, p),
        calibration=calibration_bins(y, p, n_bins),
        ece_of_truth=floor,
        calibration_error_to_truth=to_truth,
    )


def compare_models(
    labels: Sequence[int] | np.ndarray,
    probabilities_a: Sequence[float] | np.ndarray,
    probabilities_b: Sequence[float] | np.ndarray,
) -> DeLongResult:
    """DeLong's test of equal AUCs for two models scored on the same cases."""
    return delong_test(np.asarray(labels, dtype=int), np.asarray(probabilities_a, dtype=float),
                       np.asarray(probabilities_b, dtype=float))


def response_markdown(
    evaluations: Sequence[ResponseEvaluation],
    comparisons: Sequence[tuple[str, str, DeLongResult]] = (),
    title: str = "Response prediction",
) -> str:
    first = evaluations[0]
    thresholds = ", ".join(f"{e.threshold:.3g}" for e in evaluations)
    text = (f"# {title}\n\n{first.n_cases} cases, {first.n_responders} responders; rates at "
            f"each model's operating threshold ({thresholds}).\n\n")
    keys = [key for key in ("auc", *RATES, "bayes_auc") if key in first.metrics]
    rows = [[_LABELS[key], *[format_interval(e.metrics[key], percent=True) if key in e.metrics
                             else "n/a" for e in evaluations]] for key in keys]
    for key, label in _CALIBRATION_LABELS.items():
        if key in first.calibration_figures():
            rows.append([label, *[format_value(e.calibration_figures()[key])
                                  for e in evaluations]])
    text += markdown_table(["Metric (95 % CI)", *[e.name for e in evaluations]], rows)
    if comparisons:
        text += "\n## DeLong's test\n\n" + markdown_table(
            ["Model A", "Model B", "AUC A", "AUC B", "z", "p"],
            [[a, b, format_value(r.auc_a), format_value(r.auc_b), format_value(r.z, digits=2),
              format_value(r.p_value, digits=4)] for a, b, r in comparisons],
        )
    return text
