"""Two runs of the same patient compared region by region: the run before embolisation and
its control run after.

The post-run's peak-opacity image is registered rigidly to the pre-run's (both show the
whole arterial tree however the blush changed; a single key frame of a run without blush
has little to lock on to), the pre-run's regions are carried onto the post-run, and each
region's time-density curve is measured in its own run. The tumor's blush reduction is
``1 - peak(post) / peak(pre)`` (and the same with the areas under the curves). Both runs'
times also run from their first contrast arrival, so they can be played side by side in
step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from dsaviewer.core.parametric import ParametricMaps
from dsaviewer.core.registration import register_rigid, warp_mask
from dsaviewer.core.time_density import curve_area, curve_peak, region_curves
from dsaviewer.errors import InputError

# The run's contrast "arrives" when the earliest few per mille of its pixels have: a single
# noisy pixel must not set it.
_FIRST_ARRIVAL_PERCENTILE = 0.5


@dataclass(frozen=True)
class RunCurves:
    """One run's side of a comparison."""

    times: np.ndarray  # (T,) s from the run's first frame
    first_arrival: float  # s from the first frame when contrast first arrives
    regions: dict[str, np.ndarray]  # name -> (H, W) bool, in this run's pixels
    curves: dict[str, np.ndarray]  # name -> (T,) opacity

    @property
    def times_since_arrival(self) -> np.ndarray:
        return self.times - self.first_arrival


@dataclass(frozen=True)
class RunComparison:
    pre: RunCurves
    post: RunCurves
    warp: np.ndarray  # 2 x 3: a pre-run pixel (x, y, 1) -> the post-run pixel
    region: str  # the region the ratios are of (the tumor)

    @property
    def peak_ratio(self) -> float:
        return _ratio(curve_peak(self.post.curves[self.region]),
                      curve_peak(self.pre.curves[self.region]))

    @property
    def auc_ratio(self) -> float:
        pre, post = self.pre, self.post
        return _ratio(curve_area(post.curves[self.region], post.times),
                      curve_area(pre.curves[self.region], pre.times))

    @property
    def blush_reduction_pct(self) -> float:
        """100 x (1 - peak ratio): 100 when the blush is gone, 0 when unchanged."""
        return 100.0 * (1.0 - self.peak_ratio)

    @property
    def auc_reduction_pct(self) -> float:
        return 100.0 * (1.0 - self.auc_ratio)


def frame_at(times_since_arrival: np.ndarray, moment: float) -> int:
    """The frame of a run shown at ``moment`` s since its first arrival in synchronised
    playback: the last frame taken at or before it (the first frame before the run starts)."""
    index = int(np.searchsorted(times_since_arrival, moment + 1e-9, side="right")) - 1
    return min(max(index, 0), len(times_since_arrival) - 1)


def first_arrival(maps: ParametricMaps) -> float:
    """When contrast first arrives anywhere in the run (s from its first frame)."""
    finite = maps.arrival[np.isfinite(maps.arrival)]
    if finite.size == 0:
        raise InputError("no contrast arrives anywhere in the run", "run")
    return float(np.percentile(finite, _FIRST_ARRIVAL_PERCENTILE))


def check_comparable(pre_shape: tuple[int, ...], post_shape: tuple[int, ...]) -> None:
    """InputError unless two runs' frames have one size (one projection, one detector)."""
    if tuple(pre_shape) != tuple(post_shape):
        raise InputError(
            f"the runs' frame sizes differ ({pre_shape[1]} x {pre_shape[0]} and "
            f"{post_shape[1]} x {post_shape[0]}); compare runs of one projection",
            "post run",
        )


def compare_runs(
    pre_frames: np.ndarray,
    pre_maps: ParametricMaps,
    post_frames: np.ndarray,
    post_maps: ParametricMaps,
    regions: Mapping[str, np.ndarray],
    white_levels: tuple[float, float],
    region: str = "tumor",
) -> RunComparison:
    """Compare two runs over ``regions`` (masks of the pre-run); ``white_levels`` of the pre-
    and post-run. Raises InputError when the frame sizes differ or ``region`` is missing."""
    check_comparable(pre_frames.shape[1:], post_frames.shape[1:])
    if region not in regions:
        raise InputError(f"no {region} region to compare", "regions")
    warp = register_rigid(np.nan_to_num(pre_maps.peak), np.nan_to_num(post_maps.peak))
    moved = {name: warp_mask(mask, warp) for name, mask in regions.items()}
    sides = []
    for frames, maps, masks, white in (
        (pre_frames, pre_maps, dict(regions), white_levels[0]),
        (post_frames, post_maps, moved, white_levels[1]),
    ):
        curves = region_curves(frames, masks, maps.contrast_dark, white)
        sides.append(RunCurves(maps.times, first_arrival(maps), masks, curves))
    return RunComparison(pre=sides[0], post=sides[1], warp=warp, region=region)


def _ratio(numerator: float, denominator: float) -> float:
    if not np.isfinite(denominator) or denominator <= 0:
        return float("nan")
    return numerator / denominator
