"""ROC AUC, ROC curve, threshold metrics, calibration and DeLong's test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsaviewer.core.metrics_classification import (
    BinaryConfusion,
    calibration_bins,
    calibration_error_to_truth,
    calibration_to_truth,
    confusion_at_threshold,
    delong_test,
    roc_auc,
    roc_curve,
    youden_threshold,
)
from dsaviewer.errors import InputError


def tied_scores(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two correlated, heavily tied 5-point ratings of the same cases."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    y[:2], y[2:4] = True, False
    a = np.clip(np.round(y * 1.5 + rng.normal(1.5, 1.0, n)), 0, 4)
    b = np.clip(np.round(a * 0.5 + y * 0.5 + rng.normal(1.0, 1.0, n)), 0, 4)
    return y, a, b


def pairwise_kernel(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """psi(positive_i, negative_j): 1 if the positive scores higher, 1/2 on a tie."""
    pos, neg = scores[y][:, None], scores[~y][None, :]
    return (pos > neg) + 0.5 * (pos == neg)


@pytest.mark.parametrize("seed", range(4))
def test_auc_equals_brute_force_pair_count(seed):
    y, a, _ = tied_scores(seed)
    assert roc_auc(y, a) == pytest.approx(pairwise_kernel(y, a).mean())


def test_auc_reproduces_hanley_mcneil_1982_ct_ratings():
    # Hanley & McNeil, Radiology 1982, Table 1: 109 CT images rated 1-5; published AUC 0.893.
    normal_counts, abnormal_counts = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    ratings = np.repeat(np.tile(np.arange(1, 6), 2), normal_counts + abnormal_counts)
    y = np.repeat([0, 1], [58, 51])
    assert roc_auc(y, ratings) == pytest.approx(0.893, abs=5e-4)


def test_auc_is_nan_with_one_class():
    assert math.isnan(roc_auc([1, 1, 1], [0.2, 0.5, 0.9]))


def test_roc_curve_hand_example_and_area():
    y = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.9, 0.9, 0.5, 0.2, 0.1])
    curve = roc_curve(y, scores)
    np.testing.assert_allclose(curve.thresholds, [np.inf, 0.9, 0.5, 0.2, 0.1])
    np.testing.assert_allclose(curve.fpr, [0, 1 / 2, 1 / 2, 1, 1])
    np.testing.assert_allclose(curve.tpr, [0, 1 / 3, 2 / 3, 2 / 3, 1])


@pytest.mark.parametrize("seed", range(3))
def test_area_under_the_curve_points_equals_auc(seed):
    # Tied scores make diagonal steps, so the trapezoid area is the tie-corrected AUC.
    y, a, _ = tied_scores(seed)
    curve = roc_curve(y, a)
    area = float(np.sum(np.diff(curve.fpr) * (curve.tpr[1:] + curve.tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(y, a))


def test_threshold_metrics_call_scores_at_the_threshold_positive():
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    scores = np.array([0.9, 0.5, 0.2, 0.5, 0.4, 0.1, 0.0])
    confusion = confusion_at_threshold(y, scores, threshold=0.5)
    assert confusion == BinaryConfusion(tp=2, fp=1, tn=3, fn=1)
    assert confusion.accuracy == pytest.approx(5 / 7)
    assert confusion.sensitivity == pytest.approx(2 / 3)
    assert confusion.specificity == pytest.approx(3 / 4)
    assert confusion.ppv == pytest.approx(2 / 3)
    assert confusion.npv == pytest.approx(3 / 4)


def test_calibration_bins_hand_example():
    bins = calibration_bins([0, 1, 0, 1, 1], [0.05, 0.15, 0.15, 0.95, 1.0], n_bins=10)
    assert bins.counts.tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert bins.mean_predicted[[0, 1, 9]] == pytest.approx([0.05, 0.15, 0.975])
    assert bins.observed_rate[[0, 1, 9]] == pytest.approx([0.0, 0.5, 1.0])
    assert np.isnan(bins.observed_rate[2])
    assert bins.expected_calibration_error == pytest.approx((0.05 + 2 * 0.35 + 2 * 0.025) / 5)


def test_calibration_refuses_values_outside_unit_interval():
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        calibration_bins([0, 1], [0.5, 1.2])


def test_calibration_error_to_truth_hand_example():
    # Bins of the predictions: 0.3 and 0.3 share bin 3 (true 0.2 and 0.4: errors cancel
    # within the bin, as in the ECE); 0.85 alone in bin 8 with true 0.65.
    error = calibration_error_to_truth([0.2, 0.4, 0.65], [0.3, 0.3, 0.85], n_bins=10)
    assert error == pytest.approx(0.2 / 3)



def test_calibration_to_truth_gives_the_floor_and_the_error_of_one_cohort():
    # True probabilities 0.2, 0.4, 0.65 fall in bins 2, 4, 6 alone; outcomes 0, 1, 1 leave
    # gaps 0.2, 0.6, 0.35 to them. The predictions' error against the truth is the example's.
    figures = calibration_to_truth([0, 1, 1], [0.2, 0.4, 0.65], [0.3, 0.3, 0.85], n_bins=10)
    assert figures.ece_of_truth == pytest.approx(1.15 / 3)
    assert figures.error_to_truth == pytest.approx(0.2 / 3)

def test_a_perfectly_calibrated_model_scores_zero_against_truth_but_not_on_outcomes():
    rng = np.random.default_rng(3)
    truth = rng.uniform(0.05, 0.95, 300)
    outcomes = (rng.random(300) < truth).astype(int)
    assert calibration_error_to_truth(truth, truth) == 0.0
    # 300 outcomes carry sampling noise of the size of a 0.05 ECE target.
    assert calibration_bins(outcomes, truth).expected_calibration_error > 0.02
    with pytest.raises(InputError, match="true probabilities"):
        calibration_error_to_truth([0.5, 1.5], [0.5, 0.5])


def test_delong_hand_example():
    # Positives score (3, 1) and (3, 2), negatives (2, 0) and (1, 0) under models a and b.
    # a: AUC 3/4, placements of positives (1, 1/2) and of negatives (1/2, 1); b is perfect.
    # var(a - b) = var(1, 1/2)/2 + var(1/2, 1)/2 = 0.125/2 + 0.125/2; z = -0.25 / sqrt(0.125).
    result = delong_test([1, 1, 0, 0], [3, 1, 2, 0], [3, 2, 1, 0])
    assert (result.auc_a, result.auc_b) == (0.75, 1.0)
    assert result.z == pytest.approx(-0.25 / math.sqrt(0.125))
    assert result.p_value == pytest.approx(0.4795001221869535)


@pytest.mark.parametrize("seed", range(4))
def test_delong_matches_the_1988_definition_computed_by_brute_force(seed):
    y, a, b = tied_scores(seed)
    psi_a, psi_b = pairwise_kernel(y, a), pairwise_kernel(y, b)
    n_pos, n_neg = psi_a.shape
    # Structural components: each positive's and each negative's mean kernel value.
    s10 = np.cov([psi_a.mean(axis=1), psi_b.mean(axis=1)])
    s01 = np.cov([psi_a.mean(axis=0), psi_b.mean(axis=0)])
    s = s10 / n_pos + s01 / n_neg
    z = (psi_a.mean() - psi_b.mean()) / math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    result = delong_test(y, a, b)
    assert result.auc_a == pytest.approx(psi_a.mean())
    assert result.auc_b == pytest.approx(psi_b.mean())
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))


def test_delong_is_antisymmetric_and_null_for_identical_scores():
    y, a, b = tied_scores(7)
    forward, backward = delong_test(y, a, b), delong_test(y, b, a)
    assert backward.z == pytest.approx(-forward.z)
    assert backward.p_value == pytest.approx(forward.p_value)
    same = delong_test(y, a, a)
    assert (same.z, same.p_value) == (0.0, 1.0)


def test_delong_needs_two_cases_of_each_class():
    with pytest.raises(InputError, match="at least 2 positive"):
        delong_test([1, 0, 0], [0.9, 0.1, 0.2], [0.8, 0.3, 0.1])


def test_youden_threshold_is_the_midpoint_below_the_best_roc_point():
    # J at 0.9, 0.5, 0.2, 0.1: -1/6, +1/6, -1/3, 0 -> between 0.5 and the next score 0.2.
    y = np.array([1, 0, 1, 0, 1])
    scores = np.array([0.9, 0.9, 0.5, 0.2, 0.1])
    threshold = youden_threshold(y, scores)
    assert threshold == pytest.approx(0.35)
    assert confusion_at_threshold(y, scores, threshold) == confusion_at_threshold(y, scores, 0.5)


def test_youden_threshold_separates_separable_classes():
    y = np.array([0, 0, 1, 1])
    threshold = youden_threshold(y, np.array([0.1, 0.3, 0.6, 0.8]))
    assert threshold == pytest.approx(0.45)
    confusion = confusion_at_threshold(y, np.array([0.1, 0.3, 0.6, 0.8]), threshold)
    assert confusion.sensitivity == 1.0 and confusion.specificity == 1.0


def test_youden_threshold_needs_both_classes():
    with pytest.raises(InputError, match="both positive and negative"):
        youden_threshold(np.array([1, 1]), np.array([0.2, 0.7]))
