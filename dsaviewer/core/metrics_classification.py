"""Metrics of a binary classifier over cases: the confusion matrix and the rates read from it,
ROC AUC and curve, calibration bins, and DeLong's test between two correlated AUCs.

Used for the response model (responder = positive) and, through :class:`BinaryConfusion`,
for patient-level tumour detection. A rate whose denominator is zero is ``nan``, never 0 or 1,
so an undefined value cannot pass for a measured one. ``scores`` are "higher means more
likely positive"; a case is called positive when ``score >= threshold``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsaviewer.errors import InputError


@dataclass(frozen=True)
class BinaryConfusion:
    """Counts of a 2x2 confusion matrix and the rates derived from them."""

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def sensitivity(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return _ratio(self.tn, self.tn + self.fp)

    @property
    def ppv(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def npv(self) -> float:
        return _ratio(self.tn, self.tn + self.fn)

    @property
    def accuracy(self) -> float:
        return _ratio(self.tp + self.tn, self.n)


def confusion_from_labels(y_true: np.ndarray, y_pred: np.ndarray) -> BinaryConfusion:
    """Confusion matrix of binary truths against binary predictions (0/1 or bool)."""
    truth = _binary_labels(y_true, "true labels")
    predicted = _binary_labels(y_pred, "predicted labels")
    if truth.shape != predicted.shape:
        raise InputError(
            f"{predicted.size} predictions for {truth.size} true labels", "predicted labels"
        )
    return BinaryConfusion(
        tp=int(np.count_nonzero(truth & predicted)),
        fp=int(np.count_nonzero(~truth & predicted)),
        tn=int(np.count_nonzero(~truth & ~predicted)),
        fn=int(np.count_nonzero(truth & ~predicted)),
    )


def confusion_at_threshold(
    y_true: np.ndarray, scores: np.ndarray, threshold: float = 0.5
) -> BinaryConfusion:
    """Confusion matrix when a case is called positive at ``score >= threshold``."""
    truth, values = _labels_and_scores(y_true, scores)
    return confusion_from_labels(truth, values >= threshold)


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve, P(score_pos > score_neg) + ½·P(tie), from the Mann–Whitney
    U statistic on midranks (exact with ties). nan when either class is absent."""
    truth, values = _labels_and_scores(y_true, scores)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    rank_sum = float(_midranks(values)[truth].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


@dataclass(frozen=True, eq=False)
class RocCurve:
    """ROC points, one per distinct score plus the origin: ``fpr[i], tpr[i]`` are the rates
    when calling positive at ``score >= thresholds[i]`` (thresholds descending, the first +inf).
    """

    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray


def roc_curve(y_true: np.ndarray, scores: np.ndarray) -> RocCurve:
    """The empirical ROC curve; both classes must be present."""
    truth, values = _labels_and_scores(y_true, scores)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InputError("an ROC curve needs both positive and negative cases", "true labels")
    order = np.argsort(-values, kind="stable")
    sorted_values, sorted_truth = values[order], truth[order]
    # Last index of each run of equal scores: all tied cases switch to positive together.
    run_ends = np.flatnonzero(np.diff(sorted_values) != 0)
    run_ends = np.append(run_ends, sorted_values.size - 1)
    true_positives = np.cumsum(sorted_truth)[run_ends]
    false_positives = (run_ends + 1) - true_positives
    return RocCurve(
        fpr=np.concatenate([[0.0], false_positives / n_neg]),
        tpr=np.concatenate([[0.0], true_positives / n_pos]),
        thresholds=np.concatenate([[np.inf], sorted_values[run_ends]]),
    )


def youden_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The operating point that maximises Youden's J = sensitivity + specificity − 1 on these
    cases: the midpoint between the score that reaches the best ROC point and the next lower
    one, so that both the cases it was chosen on and nearby unseen scores fall on the same
    side. Both classes must be present."""
    curve = roc_curve(y_true, scores)
    best = int(np.argmax(curve.tpr - curve.fpr))
    if best == 0:  # calling nobody positive is best: only a threshold above every score
        return float(np.nextafter(curve.thresholds[1], np.inf))
    if best + 1 < curve.thresholds.size:
        return float((curve.thresholds[best] + curve.thresholds[best + 1]) / 2.0)
    return float(curve.thresholds[best])


@dataclass(frozen=True, eq=False)
class CalibrationBins:
    """Reliability-diagram data over equal-width probability bins. Empty bins hold nan."""

    edges: np.ndarray  # n_bins + 1 values from 0 to 1
    mean_predicted: np.ndarray
    observed_rate: np.ndarray  # fraction of positives in the bin
    counts: np.ndarray

    @property
    def expected_calibration_error(self) -> float:
        """Σ_b (n_b / N)·|observed_b − predicted_b| over non-empty bins."""
        used = self.counts > 0
        gaps = np.abs(self.observed_rate[used] - self.mean_predicted[used])
        return float((self.counts[used] * gaps).sum() / self.counts.sum())


def calibration_bins(
    y_true: np.ndarray, probabilities: np.ndarray, n_bins: int = 10
) -> CalibrationBins:
    """Bin predicted probabilities into ``n_bins`` equal-width bins on [0, 1] (1.0 falls in
    the last bin) and compare each bin's mean prediction with its observed positive rate."""
    truth, values = _labels_and_scores(y_true, probabilities)
    if n_bins < 1:
        raise InputError(f"must be at least 1, got {n_bins}", "number of bins")
    if values.size and (values.min() < 0.0 or values.max() > 1.0):
        raise InputError("must lie within [0, 1]", "probabilities")
    index = np.minimum((values * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(index, weights=values, minlength=n_bins) / counts
        observed_rate = np.bincount(index, weights=truth.astype(float), minlength=n_bins) / counts
    return CalibrationBins(
        edges=np.linspace(0.0, 1.0, n_bins + 1),
        mean_predicted=mean_predicted,
        observed_rate=observed_rate,
        counts=counts,
    )


def calibration_error_to_truth(
    true_probabilities: np.ndarray, probabilities: np.ndarray, n_bins: int = 10
) -> float:
    """The expected calibration error measured against the true probabilities of simulated
    cases instead of their 0/1 outcomes: Σ_b (n_b / N)·|mean true_b − mean predicted_b| over
    the same equal-width bins of the predictions. The outcomes' sampling noise, which on a
    few hundred cases is as large as the miscalibration one wants to see, drops out."""
    truth = np.asarray(true_probabilities, dtype=float)
    values = np.asarray(probabilities, dtype=float)
    if truth.shape != values.shape or values.ndim != 1 or values.size == 0:
        raise InputError(f"{values.size} probabilities for {truth.size} true probabilities",
                         "probabilities")
    for name, array in (("probabilities", values), ("true probabilities", truth)):
        if not (np.isfinite(array).all() and array.min() >= 0.0 and array.max() <= 1.0):
            raise InputError("must lie within [0, 1]", name)
    if n_bins < 1:
        raise InputError(f"must be at least 1, got {n_bins}", "number of bins")
    index = np.minimum((values * n_bins).astype(np.int64), n_bins - 1)
    gaps = np.abs(np.bincount(index, weights=truth - values, minlength=n_bins))
    return float(gaps.sum() / values.size)



@dataclass(frozen=True)
class CalibrationToTruth:
    """How a simulated cohort's calibration reads once its true probabilities are known."""

    ece_of_truth: float  # the true probabilities' own ECE on these outcomes: the noise floor
    error_to_truth: float  # the predictions' calibration error against the true probabilities


def calibration_to_truth(
    y_true: np.ndarray, true_probabilities: np.ndarray, probabilities: np.ndarray,
    n_bins: int = 10,
) -> CalibrationToTruth:
    """Both figures that put an outcome-based ECE of simulated cases in context: an ECE near
    the floor is all these outcomes can show, whatever the model."""
    floor = calibration_bins(y_true, true_probabilities, n_bins).expected_calibration_error
    return CalibrationToTruth(
        ece_of_truth=floor,
        error_to_truth=calibration_error_to_truth(true_probabilities, probabilities, n_bins),
    )

@dataclass(frozen=True)
class DeLongResult:
    """DeLong's test of H0: AUC_a = AUC_b for two scores of the same cases."""

    auc_a: float
    auc_b: float
    se_difference: float
    z: float
    p_value: float  # two-sided


def delong_test(y_true: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray) -> DeLongResult:
    """DeLong, DeLong & Clarke-Pearson (1988) test between two correlated ROC AUCs, with the
    midrank algorithm of Sun & Xu (2014), O(N log N). Needs at least two cases of each class.
    When the difference has zero variance (e.g. identical scores), z is 0 with p = 1 if the
    AUCs are equal, else ±inf with p = 0."""
    truth, a = _labels_and_scores(y_true, scores_a)
    _, b = _labels_and_scores(truth, scores_b)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos < 2 or n_neg < 2:
        raise InputError(
            f"DeLong's test needs at least 2 positive and 2 negative cases, got {n_pos} and "
            f"{n_neg}",
            "true labels",
        )
    # Positives first: the structural components below index them that way.
    order = np.concatenate([np.flatnonzero(truth), np.flatnonzero(~truth)])
    positive_parts, negative_parts, aucs = [], [], []
    for values in (a[order], b[order]):
        ranks_all = _midranks(values)
        ranks_pos = _midranks(values[:n_pos])
        ranks_neg = _midranks(values[n_pos:])
        aucs.append((ranks_all[:n_pos].sum() / n_pos - (n_pos + 1) / 2.0) / n_neg)
        # Per-case placement values: the fraction of the other class each case outranks.
        positive_parts.append((ranks_all[:n_pos] - ranks_pos) / n_neg)
        negative_parts.append(1.0 - (ranks_all[n_pos:] - ranks_neg) / n_pos)
    covariance = np.cov(positive_parts) / n_pos + np.cov(negative_parts) / n_neg
    variance = float(covariance[0, 0] + covariance[1, 1] - 2.0 * covariance[0, 1])
    difference = float(aucs[0] - aucs[1])
    if variance <= 1e-15:
        z = 0.0 if abs(difference) <= 1e-15 else math.copysign(math.inf, difference)
        se = 0.0
    else:
        se = math.sqrt(variance)
        z = difference / se
    return DeLongResult(
        auc_a=float(aucs[0]),
        auc_b=float(aucs[1]),
        se_difference=se,
        z=z,
        p_value=math.erfc(abs(z) / math.sqrt(2.0)),
    )


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else math.nan


def _midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of the ranks they span."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def _binary_labels(labels: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1:
        raise InputError(f"must be one value per case, got shape {array.shape}", name)
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise InputError("must be 0/1 or boolean", name)
    return array.astype(bool)


def _labels_and_scores(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    truth = _binary_labels(y_true, "true labels")
    values = np.asarray(scores, dtype=float)
    if values.shape != truth.shape:
        raise InputError(f"{values.size} scores for {truth.size} true labels", "scores")
    if not np.isfinite(values).all():
        raise InputError("must all be finite numbers", "scores")
    return truth, values
