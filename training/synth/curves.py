"""Smooth random curves and shapes in world coordinates, shared by the anatomy builders."""

from __future__ import annotations

import numpy as np


def smooth_function(
    control_x: np.ndarray, control_y: np.ndarray, x: np.ndarray, smoothing: float
) -> np.ndarray:
    """y(x) through control points, piecewise linear then Gaussian-smoothed over
    ``smoothing`` world units: a smooth curve with no overshoot (unlike a cubic spline)."""
    step = float(x[1] - x[0]) if x.size > 1 else 1.0
    pad = int(np.ceil(3 * smoothing / step))
    padded_x = np.concatenate(
        [x[0] - step * np.arange(pad, 0, -1), x, x[-1] + step * np.arange(1, pad + 1)]
    )
    y = np.interp(padded_x, control_x, control_y)
    return gaussian_smooth(y, smoothing / step, closed=False)[pad : pad + x.size]


def gaussian_smooth(values: np.ndarray, sigma: float, closed: bool) -> np.ndarray:
    """Smooth along axis 0 (a sequence of scalars or points); ``closed`` wraps around."""
    if sigma <= 0:
        return values.copy()
    radius = int(np.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    mode = "wrap" if closed else "edge"
    pad_width = [(radius, radius)] + [(0, 0)] * (values.ndim - 1)
    padded = np.pad(values, pad_width, mode=mode)
    if values.ndim == 1:
        return np.convolve(padded, kernel, mode="valid")
    return np.stack(
        [np.convolve(padded[:, i], kernel, mode="valid") for i in range(values.shape[1])], axis=1
    )


def resample_closed(polygon: np.ndarray, n_points: int) -> np.ndarray:
    """``n_points`` spread evenly by arc length along a closed polygon."""
    closed = np.vstack([polygon, polygon[:1]])
    lengths = np.hypot(*np.diff(closed, axis=0).T)
    arc = np.concatenate([[0.0], np.cumsum(lengths)])
    targets = np.linspace(0.0, arc[-1], n_points, endpoint=False)
    return np.stack(
        [np.interp(targets, arc, closed[:, 0]), np.interp(targets, arc, closed[:, 1])], 1
    )


def periodic_noise(
    rng: np.random.Generator, n_points: int, amplitude: float, harmonics: tuple[int, int]
) -> np.ndarray:
    """A smooth random periodic signal: a few sinusoids of the given harmonic range with
    amplitudes falling as 1/k, scaled to the given RMS amplitude."""
    t = np.linspace(0.0, 2 * np.pi, n_points, endpoint=False)
    signal = np.zeros(n_points)
    for k in range(harmonics[0], harmonics[1] + 1):
        signal += rng.normal(0.0, 1.0 / k) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    rms = float(np.sqrt(np.mean(signal**2))) or 1.0
    return signal * (amplitude / rms)


def blob_polygon(
    rng: np.random.Generator,
    center: np.ndarray,
    radius: float,
    aspect: float,
    lobulation: float,
    n_points: int = 64,
) -> np.ndarray:
    """A closed irregular roundish outline: an ellipse of mean radius ``radius`` and
    axis ratio ``aspect`` at a random angle, its radius modulated by ``lobulation`` (relative
    RMS) over harmonics 2-5."""
    t = np.linspace(0.0, 2 * np.pi, n_points, endpoint=False)
    modulation = 1.0 + periodic_noise(rng, n_points, lobulation, (2, 5))
    angle = rng.uniform(0, np.pi)
    a, b = radius * np.sqrt(aspect), radius / np.sqrt(aspect)
    x, y = a * np.cos(t) * modulation, b * np.sin(t) * modulation
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([center[0] + cos * x - sin * y, center[1] + sin * x + cos * y], axis=1)
