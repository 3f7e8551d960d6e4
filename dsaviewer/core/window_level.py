"""Window/level (grey-value windowing) as DICOM viewers do it, free of Qt.

A window is the grey range ``(low, high)`` mapped from black to white. Its default comes from
the clip's own values; a right-drag moves it the way Weasis, Horos and syngo do: horizontal
motion changes the width (right widens, lowering contrast), vertical motion the level (down
raises the centre, darkening the image).
"""

from __future__ import annotations

import numpy as np

from dsaviewer.core.preprocess import FieldBox

# A drag across this many screen pixels changes width or level by the full value range, so a
# window can be swept from one end of the range to the other within a typical image view.
DRAG_PIXELS_PER_RANGE = 512.0
# The narrowest window, as a fraction of the value range: a zero width would divide by zero.
MIN_WIDTH_FRACTION = 1e-3


def default_window(frames: np.ndarray, field: FieldBox | None = None) -> tuple[float, float]:
    """The 1st and 99.5th percentiles of the clip inside the exposed ``field`` (a sparse
    sample, for speed): the black collimator border, burned-in text and hot pixels would
    otherwise take part of the grey range from the anatomy."""
    stack = np.asarray(frames)
    if field is not None:
        stack = stack[(..., *field.slices)]
    sample = stack[..., ::4, ::4]
    low, high = np.percentile(sample, [1.0, 99.5])
    if high <= low:
        high = low + 1.0
    return float(low), float(high)


def dragged_window(
    window: tuple[float, float], dx_px: float, dy_px: float, value_range: float
) -> tuple[float, float]:
    """The window after a right-drag of (dx, dy) screen pixels (y grows downwards).

    ``value_range`` is the span of representable grey values (255 for 8-bit video) and sets
    the sensitivity. The width never drops below :data:`MIN_WIDTH_FRACTION` of it.
    """
    low, high = window
    step = value_range / DRAG_PIXELS_PER_RANGE
    width = max(high - low + dx_px * step, value_range * MIN_WIDTH_FRACTION)
    centre = (low + high) / 2.0 + dy_px * step
    return centre - width / 2.0, centre + width / 2.0


def grey_histogram(frames: np.ndarray, bins: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Bin centres and counts of the clip's grey values (every 4th row and column of every
    frame), for the window/level histogram: computed once per clip, not per shown frame."""
    sample = np.asarray(frames)[..., ::4, ::4]
    low, high = float(sample.min()), float(sample.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(sample, bins=bins, range=(low, high))
    return (edges[:-1] + edges[1:]) / 2.0, counts


def apply_window(
    frame: np.ndarray, window: tuple[float, float], inverted: bool = False
) -> np.ndarray:
    """``frame`` as 8-bit display grey: ``low`` black, ``high`` white (the reverse when
    ``inverted``), clipped outside the window."""
    low, high = window
    scale = 255.0 / max(high - low, 1e-12)
    grey = np.clip((np.asarray(frame, dtype=np.float32) - low) * scale, 0, 255).astype(np.uint8)
    return 255 - grey if inverted else grey
