"""The colour-coded image of parametric DSA: hue from a time map (e.g. time to peak), brightness
from the peak opacity, black where no contrast arrives; and a colour bar in seconds."""

from __future__ import annotations

import cv2
import numpy as np

# Early (red) to late (blue) along OpenCV's turbo map, reversed so arterial filling is warm.
_COLOURMAP = cv2.COLORMAP_TURBO
# Brightness reaches full at this percentile of the peak opacity: a few saturated vessels
# must not leave the parenchyma dark.
_BRIGHT_PERCENTILE = 95.0
_MIN_BRIGHTNESS = 0.25  # faint pixels stay visible in colour


def time_range(values: np.ndarray) -> tuple[float, float]:
    """A display range for a time map: its 1st to 99th percentile (0..1 when it is empty)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = (float(v) for v in np.percentile(finite, (1.0, 99.0)))
    return (low, high) if high > low else (low, low + 1.0)


def colour_lut() -> np.ndarray:
    """The 256 BGR colours from early (index 0) to late (255)."""
    ramp = np.arange(255, -1, -1, dtype=np.uint8).reshape(256, 1)
    return cv2.applyColorMap(ramp, _COLOURMAP).reshape(256, 3)


def colour_coded(
    times: np.ndarray,
    peak: np.ndarray | None = None,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """BGR uint8 image of a time map: colour = time within ``value_range`` (default:
    :func:`time_range`), brightness = ``peak`` (when given), black where ``times`` is NaN."""
    low, high = value_range or time_range(times)
    finite = np.isfinite(times)
    position = np.clip((np.nan_to_num(times, nan=low) - low) / (high - low), 0.0, 1.0)
    image = colour_lut()[np.rint(position * 255).astype(np.uint8)].astype(np.float32)
    if peak is not None:
        values = np.nan_to_num(peak, nan=0.0)
        top = np.percentile(values[finite], _BRIGHT_PERCENTILE) if finite.any() else 1.0
        relative = np.clip(values / max(float(top), 1e-9), 0.0, 1.0)
        brightness = _MIN_BRIGHTNESS + (1.0 - _MIN_BRIGHTNESS) * relative
        image *= brightness[..., None]
    image[~finite] = 0
    return image.astype(np.uint8)


def with_colour_bar(
    image: np.ndarray, value_range: tuple[float, float], unit: str = "s"
) -> np.ndarray:
    """``image`` with a labelled vertical colour bar to its right (BGR uint8)."""
    height = image.shape[0]
    scale = max(height / 1000.0, 0.4)
    bar_width, text_width = round(40 * scale), round(150 * scale)
    margin = round(30 * scale)
    panel = np.zeros((height, bar_width + text_width + margin, 3), np.uint8)
    top, bottom = margin, height - margin
    rows = np.linspace(0.0, 1.0, max(bottom - top, 2))
    # Early at the top, late at the bottom, as the labels read.
    panel[top:bottom, margin // 2 : margin // 2 + bar_width] = colour_lut()[
        np.rint(rows * 255).astype(np.uint8)
    ][:, None, :]
    low, high = value_range
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, max(1, round(2 * scale))
    for fraction in np.linspace(0.0, 1.0, 5):
        y = round(top + fraction * (bottom - top - 1))
        label = f"{low + fraction * (high - low):.1f} {unit}"
        x = margin // 2 + bar_width + round(8 * scale)
        cv2.putText(panel, label, (x, y + round(8 * scale)), font, 0.7 * scale, (255, 255, 255),
                    thickness, cv2.LINE_AA)
    return np.hstack([image, panel])
