"""A scale bar in millimetres that keeps a readable length as the view zooms."""

from __future__ import annotations

import math

import pyqtgraph as pg

# The bar aims at about this fraction of the visible image width.
_TARGET_FRACTION = 0.2


def nice_length(target: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``target`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(target))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= target)


class MillimetreScaleBar(pg.ScaleBar):
    """Shows a round length in mm for a view in pixel units, ``mm_per_pixel`` per column.

    DSA pixel spacing is usually the imager's, at the detector, which magnifies the patient
    by 10-30 %; the bar says "mm" as DICOM viewers do, and the lesion table's tooltips name
    the magnification.
    """

    def __init__(self, mm_per_pixel: float) -> None:
        super().__init__(size=1.0, width=4, brush=(255, 255, 255, 230), pen=(0, 0, 0, 200),
                         offset=(-20, -20))
        self.mm_per_pixel = mm_per_pixel
        self.text.setColor((255, 255, 255))
        self.text.fill = pg.mkBrush(0, 0, 0, 140)  # readable over a bright field

    def updateBar(self) -> None:  # noqa: N802 - pyqtgraph override
        view = self.parentItem()
        if view is None:
            return
        (x0, x1), _ = view.viewRange()
        visible_mm = max(x1 - x0, 1.0) * self.mm_per_pixel
        length_mm = nice_length(visible_mm * _TARGET_FRACTION)
        self.size = length_mm / self.mm_per_pixel
        self.text.setText(f"{length_mm:g} mm")
        super().updateBar()
