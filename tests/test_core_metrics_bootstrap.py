"""Percentile bootstrap: determinism, agreement of its two forms, coverage, strata."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsaviewer.core.bootstrap import bootstrap_ci
from dsaviewer.core.metrics_classification import roc_auc
from dsaviewer.errors import InputError

VALUES = np.random.default_rng(3).normal(0.75, 0.1, size=60)


def test_same_seed_same_interval_and_other_seed_another():
    first = bootstrap_ci(VALUES, seed=11)
    assert bootstrap_ci(VALUES, seed=11) == first
    assert bootstrap_ci(VALUES, seed=12) != first
    assert first.estimate == pytest.approx(VALUES.mean())
    assert first.low < first.estimate < first.high


def test_function_form_draws_the_same_resamples_as_the_values_form():
    from_values = bootstrap_ci(VALUES, seed=5, n_resamples=300)
    from_function = bootstrap_ci(
        lambda indices: VALUES[indices].mean(), len(VALUES), seed=5, n_resamples=300
    )
    assert from_function == pytest.approx(from_values)


def test_width_matches_the_normal_theory_interval_of_a_mean():
    values = np.random.default_rng(0).normal(10.0, 2.0, size=400)
    estimate, low, high = bootstrap_ci(values, n_resamples=2000, seed=1)
    expected_half_width = 1.96 * values.std(ddof=1) / math.sqrt(values.size)
    assert (high - low) / 2 == pytest.approx(expected_half_width, rel=0.1)
    assert (low + high) / 2 == pytest.approx(estimate, abs=0.1 * expected_half_width)


def test_95_percent_intervals_cover_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    covered = 0
    trials = 300
    for trial in range(trials):
        sample = rng.normal(1.0, 1.0, size=40)
        _, low, high = bootstrap_ci(sample, n_resamples=400, seed=trial)
        covered += low <= 1.0 <= high
    # Percentile intervals run slightly narrow at n = 40; +-4 binomial SDs around 0.94.
    assert 0.88 <= covered / trials <= 0.99


def test_strata_keep_every_class_size_in_every_resample():
    y = np.array([1] * 5 + [0] * 25)
    count_positives = lambda indices: float(y[indices].sum())  # noqa: E731
    stratified = bootstrap_ci(count_positives, len(y), strata=y, seed=0)
    assert stratified.low == stratified.high == 5.0
    free = bootstrap_ci(count_positives, len(y), seed=0)
    assert free.low < 5.0 < free.high


def test_resamples_without_a_class_are_left_out_of_an_auc_interval():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0])
    scores = np.linspace(1.0, 0.0, y.size)
    ci = bootstrap_ci(lambda idx: roc_auc(y[idx], scores[idx]), len(y), seed=0)
    assert (ci.estimate, ci.low, ci.high) == (1.0, 1.0, 1.0)
    never = bootstrap_ci(lambda idx: math.nan, 4, seed=0, n_resamples=10)
    assert math.isnan(never.low) and math.isnan(never.high)


def test_undefined_per_case_values_are_refused():
    with pytest.raises(InputError, match="nan or inf"):
        bootstrap_ci([0.5, math.nan, 0.7])
    with pytest.raises(InputError, match="n_cases"):
        bootstrap_ci(lambda idx: 0.0)
