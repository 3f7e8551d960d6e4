"""Platt scaling of a model's probability: ``sigmoid(slope * logit(p) + intercept)``.

A network trained with dropout and early stopping on one generator's cases is often over- or
under-confident on others; two numbers fitted on a calibration fold that the model was not
trained on (``python -m training calibrate-response``) make its probabilities mean what they
say without changing which cases rank above which. With ``slope > 0`` the map is increasing,
so an operating threshold mapped through it keeps every call the same.
"""

from __future__ import annotations

import numpy as np

IDENTITY = (1.0, 0.0)
_EPSILON = 1e-6


def platt(probability: float | np.ndarray, slope: float, intercept: float
          ) -> float | np.ndarray:
    """``sigmoid(slope * logit(p) + intercept)``, elementwise; a float for a float."""
    p = np.clip(np.asarray(probability, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    logit = slope * np.log(p / (1.0 - p)) + intercept
    result = 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))
    return float(result) if np.ndim(result) == 0 else result


def model_scale_threshold(threshold: float, calibration: tuple[float, float] | None) -> float:
    """The threshold on the model's own probability whose calibrated value is ``threshold``
    (the inverse of :func:`platt`): what a stored threshold means once its calibration is
    dropped or replaced."""
    if calibration is None or tuple(calibration) == IDENTITY:
        return float(threshold)  # exactly as stored: the logit round trip moves the last bit
    slope, intercept = calibration
    return float(platt(threshold, 1.0 / slope, -intercept / slope))


def fit_platt(probabilities: np.ndarray, labels: np.ndarray, iterations: int = 100
              ) -> tuple[float, float]:
    """(slope, intercept) minimising the log loss of :func:`platt` on ``labels``, by Newton's
    method from the identity. ``labels`` are outcomes (0/1) or, where they are known (the
    generator's cases), the true probabilities in [0, 1]: a fit to those is free of the
    outcomes' sampling noise. ValueError unless the labels differ (both classes present)."""
    y = np.asarray(labels, dtype=np.float64)
    if y.size and not (np.isfinite(y).all() and y.min() >= 0.0 and y.max() <= 1.0):
        raise ValueError("calibration labels must lie within [0, 1]")
    if y.size < 2 or y.min() == y.max():
        raise ValueError("calibration needs cases of both classes")
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _EPSILON, 1.0 - _EPSILON)
    x = np.stack([np.log(p / (1.0 - p)), np.ones_like(p)], axis=1)
    beta = np.array(IDENTITY, dtype=np.float64)
    for _ in range(iterations):
        q = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -50.0, 50.0)))
        gradient = x.T @ (q - y)
        hessian = (x * (q * (1.0 - q))[:, None]).T @ x + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])
