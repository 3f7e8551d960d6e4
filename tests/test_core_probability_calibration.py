"""Platt scaling of the response probability: the fit recovers a known miscalibration, and
the map keeps every ranking and call."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.probability_calibration import fit_platt, platt


def test_the_fit_recovers_a_known_miscalibration() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(0.02, 0.98, 20000)
    labels = (rng.random(truth.size) < truth).astype(float)
    # An overconfident model: its logit is twice the true one, shifted.
    logit = np.log(truth / (1 - truth))
    shown = 1 / (1 + np.exp(-(2.0 * logit + 0.5)))
    slope, intercept = fit_platt(shown, labels)
    assert slope == pytest.approx(0.5, abs=0.03)
    assert intercept == pytest.approx(-0.25, abs=0.05)
    np.testing.assert_allclose(platt(shown, slope, intercept), truth, atol=0.03)


def test_a_fit_to_true_probabilities_recovers_the_miscalibration_exactly() -> None:
    truth = np.linspace(0.02, 0.98, 200)
    logit = np.log(truth / (1 - truth))
    shown = 1 / (1 + np.exp(-(0.8 * logit - 0.3)))
    slope, intercept = fit_platt(shown, truth)
    assert slope == pytest.approx(1.25, abs=1e-6)
    assert intercept == pytest.approx(0.375, abs=1e-6)


def test_labels_outside_zero_to_one_are_refused() -> None:
    with pytest.raises(ValueError, match="within"):
        fit_platt(np.array([0.2, 0.4]), np.array([0.0, 1.5]))


def test_the_map_keeps_the_order_and_the_identity_changes_nothing() -> None:
    p = np.array([0.01, 0.2, 0.5, 0.7, 0.99])
    mapped = platt(p, 0.6, -0.3)
    assert np.all(np.diff(mapped) > 0)
    np.testing.assert_allclose(platt(p, 1.0, 0.0), p, atol=1e-9)
    assert isinstance(platt(0.3, 1.0, 0.0), float)


def test_one_class_cannot_be_calibrated() -> None:
    with pytest.raises(ValueError, match="both classes"):
        fit_platt(np.array([0.2, 0.4]), np.array([1.0, 1.0]))
