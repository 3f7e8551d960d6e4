"""RGBA images of the viewer's overlays, built once per result rather than once per frame.

Each overlay is a ``(H, W, 4)`` uint8 image at the original frame size, row-major like the
frames, so it lies exactly on them. Opacity is not baked in: the viewer fades a whole layer,
so the alpha here only says where the overlay is (and, for the heat map, how strong).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import cv2
import numpy as np

from dsaviewer.errors import InputError

TUMOR_RGB = (0, 255, 255)  # cyan
LIVER_RGB = (0, 200, 0)  # green
# The frame-difference map is scaled to this percentile of its non-zero values, so a few
# pixels of catheter motion do not wash the tumour stain out of the colour scale.
_HEAT_PERCENTILE = 99.5


# The frame difference of a still run is not zero: quantum noise and small breathing shifts
# leave a few grey levels everywhere, painted red across the whole field. By default only
# change above a quarter of the full-colour level is shown; the viewer lets the user move
# this lower limit.
DEFAULT_HEAT_LOWER = 0.25


@dataclass(frozen=True)
class HeatMap:
    """A scalar map coloured for display; ``scale_max`` is the value shown at full colour.
    ``levels_rgba`` holds every level (alpha = level); :attr:`rgba`, what is painted, hides
    the levels below ``lower`` (a fraction of ``scale_max``)."""

    levels_rgba: np.ndarray
    scale_max: float
    lower: float = DEFAULT_HEAT_LOWER

    @cached_property
    def rgba(self) -> np.ndarray:
        if self.lower <= 0:
            return self.levels_rgba
        shown = self.levels_rgba.copy()
        shown[shown[..., 3] < round(self.lower * 255), 3] = 0
        return shown

    def with_lower(self, lower: float) -> HeatMap:
        """The same map with another lower display limit (0 shows every level)."""
        if not 0 <= lower < 1:
            raise ValueError(f"the lower limit is a fraction in [0, 1), not {lower}")
        if float(lower) == self.lower:
            return self  # keeps the image already cut, which the viewer paints on its UI thread
        return replace(self, lower=float(lower))


def mask_rgba(mask: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """``rgb`` at full alpha where ``mask`` is set, transparent elsewhere."""
    binary = np.asarray(mask)
    if binary.ndim != 2:
        raise InputError(f"must be a 2-D mask, not shape {binary.shape}", "overlay mask")
    rgba = np.zeros((*binary.shape, 4), dtype=np.uint8)
    rgba[binary.astype(bool)] = (*rgb, 255)
    return rgba


def heat_rgba(values: np.ndarray, lower: float = DEFAULT_HEAT_LOWER) -> HeatMap:
    """A heat colour map (black-red-yellow-white, OpenCV's "hot") whose alpha follows the
    value, so unchanged pixels stay transparent and the image shows through; values below
    ``lower`` x the full-colour level are not painted."""
    data = np.asarray(values, dtype=np.float32)
    if data.ndim != 2:
        raise InputError(f"must be a 2-D map, not shape {data.shape}", "heat map")
    positive = data[data > 0]
    scale_max = float(np.percentile(positive, _HEAT_PERCENTILE)) if positive.size else 1.0
    level = np.clip(data * (255.0 / scale_max), 0, 255).astype(np.uint8)
    rgba = np.empty((*data.shape, 4), dtype=np.uint8)
    rgba[..., :3] = cv2.cvtColor(cv2.applyColorMap(level, cv2.COLORMAP_HOT), cv2.COLOR_BGR2RGB)
    rgba[..., 3] = level
    heat = HeatMap(levels_rgba=rgba, scale_max=scale_max).with_lower(lower)
    _ = heat.rgba  # cut here, on the colouring worker, not when the UI thread paints it
    return heat


@dataclass(frozen=True)
class OverlaySet:
    """The image overlays of one key frame and result; None where there is nothing to show."""

    tumor: np.ndarray | None = None
    liver: np.ndarray | None = None
    difference: HeatMap | None = None


def make_overlays(
    tumor_mask: np.ndarray | None,
    liver_mask: np.ndarray | None,
    difference: np.ndarray | None,
) -> OverlaySet:
    """Colour the masks (tumour cyan, liver green) and the frame difference (heat map); an
    empty mask gives no layer."""
    return OverlaySet(
        tumor=mask_rgba(tumor_mask, TUMOR_RGB) if _any(tumor_mask) else None,
        liver=mask_rgba(liver_mask, LIVER_RGB) if _any(liver_mask) else None,
        difference=None if difference is None else heat_rgba(difference),
    )


def _any(mask: np.ndarray | None) -> bool:
    return mask is not None and bool(np.asarray(mask).any())
