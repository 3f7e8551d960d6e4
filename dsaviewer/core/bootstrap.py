"""Percentile bootstrap 95 % confidence intervals over cases, as DSA-Net reports for every
metric. Cases are the resampling unit (never pixels or lesions), and the same seed always
gives the same interval."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from dsaviewer.errors import InputError


class ConfidenceInterval(NamedTuple):
    estimate: float  # the statistic on all cases, not the mean of the resamples
    low: float
    high: float


def bootstrap_ci(
    data: Sequence[float] | np.ndarray | Callable[[np.ndarray], float],
    n_cases: int | None = None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    strata: Sequence[int] | np.ndarray | None = None,
) -> ConfidenceInterval:
    """Percentile bootstrap interval of a statistic over cases.

    ``data`` is either per-case values (the statistic is their mean, e.g. per-case Dice) or
    a function of an array of case indices (with repeats) returning the statistic of those
    cases, e.g. ``lambda idx: roc_auc(y[idx], s[idx])`` or pooled lesion sensitivity; the
    function form needs ``n_cases``. Resamples where the function returns nan (say, no
    positive case drawn) are left out of the percentiles; if all are, low and high are nan.

    ``strata`` (one label per case) resamples within each stratum, keeping its size — use
    the class labels for AUC so every resample has both classes.
    """
    if not 0.0 < level < 1.0:
        raise InputError(f"must be within (0, 1), got {level}", "confidence level")
    if n_resamples < 1:
        raise InputError(f"must be at least 1, got {n_resamples}", "number of resamples")
    if callable(data):
        if n_cases is None or n_cases < 1:
            raise InputError("a statistic function needs n_cases >= 1", "number of cases")
        statistic = data
    else:
        values = np.asarray(data, dtype=float)
        if values.ndim != 1 or values.size == 0:
            raise InputError(
                f"must be a non-empty list of values, got shape {values.shape}", "per-case values"
            )
        if not np.isfinite(values).all():
            raise InputError(
                f"{int((~np.isfinite(values)).sum())} values are nan or inf; leave undefined "
                "cases out first (see metrics_segmentation.mean_of_finite)",
                "per-case values",
            )
        if n_cases is not None and n_cases != values.size:
            raise InputError(f"{values.size} values for {n_cases} cases", "per-case values")
        n_cases = values.size
        statistic = None

    resampled = _resample_indices(n_cases, n_resamples, seed, strata)
    if statistic is None:
        estimate = float(values.mean())
        replicates = values[resampled].mean(axis=1)
    else:
        estimate = float(statistic(np.arange(n_cases)))
        replicates = np.array([float(statistic(indices)) for indices in resampled])
    replicates = replicates[~np.isnan(replicates)]
    if replicates.size == 0:
        return ConfidenceInterval(estimate, math.nan, math.nan)
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return ConfidenceInterval(estimate, float(low), float(high))


def _resample_indices(
    n_cases: int, n_resamples: int, seed: int, strata: Sequence[int] | np.ndarray | None
) -> np.ndarray:
    """(n_resamples, n_cases) case indices drawn with replacement."""
    rng = np.random.default_rng(seed)
    if strata is None:
        return rng.integers(0, n_cases, size=(n_resamples, n_cases))
    groups = np.asarray(strata)
    if groups.shape != (n_cases,):
        raise InputError(
            f"needs one label per case ({n_cases}), got shape {groups.shape}", "strata"
        )
    columns = []
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        columns.append(members[rng.integers(0, members.size, size=(n_resamples, members.size))])
    return np.concatenate(columns, axis=1)
