"""Parametric (colour-coded) DSA: per-pixel timing and amount of contrast over a run.

Each pixel's opacity curve is its change from the pre-contrast baseline (the mean of the
first tenth of the frames, at least one), signed so that contrast is positive whatever the
display polarity, in fractions of full white, averaged over its 3 x 3 neighbourhood (the
parenchymal blush is a few grey levels: alone, a pixel's noise hides it) and smoothed over
time with a [1, 2, 1] kernel.
From it, with the run's real frame times:

- ``peak``: the largest smoothed opacity;
- ``ttp``: time to peak, refined between frames by a parabola through the peak and its
  neighbours (frame steps of 0.2-0.7 s would otherwise band the colour-coded image);
- ``arrival``: when the curve first reaches ``ARRIVAL_FRACTION`` of its peak, interpolated
  linearly between frames;
- ``auc``: the area under the positive part of the curve (trapezoids, opacity x s);
- ``mtt``: a mean-transit-time estimate, the curve's first moment (its time centroid)
  minus the arrival. Contrast still present at the run's end truncates it, as it does the
  AUC: both describe the run as acquired.

All times are seconds from the first frame. Pixels outside the exposed field, and those whose
peak stays within the noise (``NOISE_FACTOR`` x the smoothed noise SD), are NaN in every map:
no contrast arrives there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.polarity import contrast_is_dark
from dsaviewer.core.preprocess import FieldBox, as_frame_stack, find_field
from dsaviewer.errors import InputError

MAP_NAMES = ("arrival", "ttp", "peak", "auc", "mtt")
ARRIVAL_FRACTION = 0.2
# Smoothed noise goes above 2 SD about once in 30 frames; 5 SD is contrast, not noise.
NOISE_FACTOR = 5.0
# The [1, 2, 1] / 4 kernel leaves 6 / 16 of white noise's variance.
_SMOOTHED_VARIANCE = 6.0 / 16.0
SPATIAL_BOX = 3  # px, the side of the neighbourhood each pixel's curve averages
# Noise is measured on a central crop of the field at most this many pixels across.
_NOISE_CROP = 128
# Quantisation alone leaves 1 / sqrt(12) of a grey level; a clean run is not noise-free.
_MIN_NOISE_GREY = 0.5


@dataclass(frozen=True)
class ParametricMaps:
    """Per-pixel maps at the frame size, float32, NaN where no contrast arrives."""

    arrival: np.ndarray  # s
    ttp: np.ndarray  # s
    peak: np.ndarray  # opacity, fraction of full white
    auc: np.ndarray  # opacity x s
    mtt: np.ndarray  # s
    times: np.ndarray  # (T,) s, the frame times used
    field: FieldBox
    contrast_dark: bool  # the display polarity found: contrast darkens the image
    noise_sd: float  # opacity SD of one frame's noise, as estimated from the run

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in MAP_NAMES}


def frame_times(
    count: int, times_s: np.ndarray | None = None, fps: float | None = None
) -> np.ndarray:
    """The ``count`` frame times in s: ``times_s`` when given, else evenly spaced at ``fps``.

    Raises InputError when neither is usable or the times do not increase.
    """
    if times_s is not None:
        times = np.asarray(times_s, dtype=np.float64)
        if times.shape != (count,):
            raise InputError(f"{times.size} frame times given for {count} frames", "frame times")
        if count > 1 and not np.all(np.diff(times) > 0):
            raise InputError("the frame times do not increase from frame to frame", "frame times")
        return times
    if fps is None or not fps > 0:
        raise InputError("the run states neither frame times nor a frame rate", "frame times")
    return np.arange(count, dtype=np.float64) / float(fps)


def baseline_count(count: int) -> int:
    """How many of a run's first frames make its pre-contrast baseline: a tenth, at least one
    (contrast reaches the hepatic arteries a few frames into a run, never in its first tenth
    in the runs this viewer reads)."""
    return max(1, count // 10)


def opacity_curves(
    frames: np.ndarray,
    field: FieldBox,
    contrast_dark: bool,
    white_level: float,
) -> np.ndarray:
    """Smoothed opacity, ``(T, h, w)`` float32 over the field box (see the module text)."""
    stack = frames[:, field.y0 : field.y1, field.x0 : field.x1]
    count = stack.shape[0]
    n_baseline = baseline_count(count)
    baseline = np.zeros(stack.shape[1:], np.float32)
    for frame in stack[:n_baseline]:
        cv2.accumulate(frame.astype(np.float32), baseline)
    # opacity = sign x (frame - baseline) / white: one multiply-add per frame.
    scale = (-1.0 if contrast_dark else 1.0) / white_level
    shift = baseline * np.float32(-scale / n_baseline)

    def opacity(index: int) -> np.ndarray:
        values = cv2.scaleAdd(stack[index].astype(np.float32), scale, shift)
        return cv2.blur(values, (SPATIAL_BOX, SPATIAL_BOX))

    curves = np.empty((count, *stack.shape[1:]), np.float32)
    if count < 3:
        for index in range(count):
            curves[index] = opacity(index)
        return curves
    # [1, 2, 1] / 4 over a rolling window of three frames (the ends repeat their frame):
    # the stack is written once, which is what this step's time is made of.
    previous, current = opacity(0), opacity(0)
    for index in range(count):
        following = opacity(index + 1) if index + 1 < count else current
        cv2.addWeighted(previous, 0.25, following, 0.25, 0.0, dst=curves[index])
        cv2.scaleAdd(current, 0.5, curves[index], dst=curves[index])
        previous, current = current, following
    return curves


def parametric_maps(
    frames: np.ndarray,
    times_s: np.ndarray | None = None,
    fps: float | None = None,
    field: FieldBox | None = None,
    white_level: float | None = None,
    contrast_dark: bool | None = None,
) -> ParametricMaps:
    """Arrival, time to peak, peak, AUC and MTT maps of a run (see the module text).

    ``times_s`` are the frames' times (e.g. ``Video.times_s()``), else ``fps`` spaces them
    evenly. ``field`` (default: found), ``white_level`` (default: the dtype's, 1.0 for
    floats) and ``contrast_dark`` (default: found from the run) may be given when known.
    Raises InputError for fewer than two frames or unusable times.
    """
    stack = as_frame_stack(frames)
    count = stack.shape[0]
    if count < 2:
        raise InputError("parametric maps need at least two frames", "frames")
    times = frame_times(count, times_s, fps)
    white = float(white_level) if white_level is not None else _dtype_white(stack)
    field = field or find_field(stack, white)
    dark = contrast_is_dark(stack, field) if contrast_dark is None else contrast_dark
    curves = opacity_curves(stack, field, dark, white)
    noise_sd = _noise_sd(stack, field, white)
    # A smoothed frame's noise plus the baseline's (the mean of the first tenth of frames).
    curve_sd = noise_sd * np.sqrt(_SMOOTHED_VARIANCE + 1.0 / baseline_count(count))

    inner = _curve_maps(curves, times, float(NOISE_FACTOR * curve_sd))
    full = {}
    for name, values in inner.items():
        plane = np.full(stack.shape[1:], np.nan, np.float32)
        plane[field.y0 : field.y1, field.x0 : field.x1] = values
        full[name] = plane
    return ParametricMaps(
        **full, times=times, field=field, contrast_dark=dark, noise_sd=float(noise_sd)
    )


def _curve_maps(curves: np.ndarray, times: np.ndarray, threshold: float) -> dict[str, np.ndarray]:
    count, height, width = curves.shape
    if count > 255:
        raise InputError(f"parametric maps take at most 255 frames, the run has {count}", "frames")
    # Trapezoid weights: each frame stands for half the interval on either side.
    steps = np.diff(times)
    weights = np.zeros(count)
    weights[:-1] += steps / 2.0
    weights[1:] += steps / 2.0

    # One pass of whole-frame OpenCV operations (vectorised, threaded), no per-pixel Python.
    # The peak's frame index only ever grows, so "index where higher" is a running maximum.
    peak = curves[0].copy()
    peak_index = np.zeros((height, width), np.uint8)
    area = np.zeros((height, width), np.float32)
    moment = np.zeros((height, width), np.float32)
    positive = np.empty((height, width), np.float32)
    for index in range(count):
        curve = curves[index]
        if index:
            higher = cv2.compare(curve, peak, cv2.CMP_GT)
            cv2.max(peak_index, cv2.bitwise_and(higher, index), dst=peak_index)
            cv2.max(peak, curve, dst=peak)
        cv2.max(curve, 0.0, dst=positive)
        cv2.scaleAdd(positive, float(weights[index]), area, dst=area)
        cv2.scaleAdd(positive, float(weights[index] * times[index]), moment, dst=moment)

    # The first frame at or above the arrival level: a running minimum of "index where
    # reached, else 255".
    level = peak * np.float32(ARRIVAL_FRACTION)
    first = np.full((height, width), 255, np.uint8)
    for index in range(count):
        reached = cv2.compare(curves[index], level, cv2.CMP_GE)
        cv2.min(first, cv2.bitwise_or(cv2.bitwise_not(reached), index), dst=first)

    # Sub-frame refinement only where contrast arrives: a fraction of the field.
    valid = peak > threshold
    pixels = np.flatnonzero(valid)
    flat = curves.reshape(count, -1)
    maps = {name: np.full((height, width), np.nan, np.float32) for name in MAP_NAMES}
    maps["peak"][valid] = peak[valid]
    maps["auc"][valid] = area[valid]
    ttp = _refined_peak_time(flat, peak_index.ravel()[pixels].astype(np.intp), pixels, times)
    arrival = _arrival(flat, first.ravel()[pixels].astype(np.intp), pixels, level.ravel()[pixels],
                       times)
    maps["ttp"].ravel()[pixels] = ttp
    maps["arrival"].ravel()[pixels] = arrival
    maps["mtt"].ravel()[pixels] = moment.ravel()[pixels] / area.ravel()[pixels] - arrival
    return maps


def _refined_peak_time(
    flat: np.ndarray, index: np.ndarray, pixels: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """The vertex of the parabola through the peak frame and its neighbours, in s; a peak at
    either end of the run stays on its frame."""
    count = flat.shape[0]
    peak_time = times[index]
    if count < 3:
        return peak_time
    inner = np.clip(index, 1, count - 2)
    left, middle, right = (_gather(flat, inner + shift, pixels) for shift in (-1, 0, 1))
    curvature = (left - 2.0 * middle + right).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    offset = np.where(inner == index, np.clip(offset, -0.5, 0.5), 0.0)
    # Frame units to seconds on the side the vertex lies (frame steps may differ).
    step = np.where(
        offset >= 0,
        times[np.minimum(index + 1, count - 1)] - times[index],
        times[index] - times[np.maximum(index - 1, 0)],
    )
    return peak_time + offset * step


def _arrival(
    flat: np.ndarray, first: np.ndarray, pixels: np.ndarray, level: np.ndarray, times: np.ndarray
) -> np.ndarray:
    """The time each curve reaches ``level``, linearly interpolated before frame ``first``
    (the first frame at or above it); a curve already there at the first frame arrives then."""
    before_index = np.maximum(first - 1, 0)
    before, after = _gather(flat, before_index, pixels), _gather(flat, first, pixels)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip((level - before) / (after - before), 0.0, 1.0)
    fraction = np.where(first > 0, np.nan_to_num(fraction, nan=1.0), 0.0)
    return times[before_index] + fraction * (times[first] - times[before_index])


def _gather(flat: np.ndarray, frame: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """``flat[frame, pixels]`` through one linear index (numpy's 2-D fancy indexing is
    several times slower)."""
    return flat.ravel().take(frame * flat.shape[1] + pixels)


def _noise_sd(stack: np.ndarray, field: FieldBox, white: float) -> float:
    """One frame's noise SD in opacity units after the spatial averaging, from the
    differences between adjacent frames of a central crop of the field: most pixels change by
    noise alone, so the median absolute difference (robust to the vessels that do fill)
    measures it. A contiguous crop, because detector blur correlates neighbouring pixels'
    noise and the averaging removes less of it than of independent noise."""
    side = min(_NOISE_CROP, field.height, field.width)
    y0 = field.y0 + (field.height - side) // 2
    x0 = field.x0 + (field.width - side) // 2
    box = (SPATIAL_BOX, SPATIAL_BOX)
    crops = [cv2.blur(frame[y0 : y0 + side, x0 : x0 + side].astype(np.float32), box)
             for frame in stack]
    differences = np.abs(np.diff(np.stack(crops), axis=0)).ravel()
    # |a - b| of two N(0, s) samples has median 0.954 s.
    sd = float(np.median(differences)) / 0.954 if differences.size else 0.0
    # The quantisation floor, averaged like the noise.
    return max(sd, _MIN_NOISE_GREY / SPATIAL_BOX) / white


def _dtype_white(stack: np.ndarray) -> float:
    if np.issubdtype(stack.dtype, np.floating):
        return 1.0
    if stack.dtype == np.uint8:
        return 255.0
    top = int(stack.max()) if stack.size else 1
    return float((1 << max(top, 1).bit_length()) - 1)
