"""A distance / diameter ruler on the image: a line with a handle at each end, its length in
millimetres with the calibration that gave them, or in pixels where the run has none.

The same line calibrates a run without spacing: drawn across the catheter, its pixel length
and the catheter's French size give millimetres per pixel
(:func:`dsaviewer.gui.calibration_dialog.ask_calibration`).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtGui import QColor

from dsaviewer.io.calibration import Calibration

RULER_COLOR = QColor(255, 255, 255)


def length_text(length_px: float, calibration: Calibration | None,
                vector_px: tuple[float, float] = (1.0, 0.0)) -> str:
    """``12.3 mm (0.160 mm/px, DICOM imager spacing ÷ …)`` or ``45.0 px (no calibration)``;
    ``vector_px`` (dx, dy) weighs anisotropic spacing."""
    if calibration is None:
        return f"{length_px:.1f} px (not calibrated: Analysis > Calibrate)"
    return f"{length_mm(vector_px, calibration):.1f} mm ({calibration.label})"


def length_mm(vector_px: tuple[float, float], calibration: Calibration) -> float:
    """The length of a (dx, dy) pixel vector in mm; spacing is (row, column)."""
    row_mm, col_mm = calibration.mm_per_px
    return math.hypot(vector_px[0] * col_mm, vector_px[1] * row_mm)


class MeasureTool(QObject):
    """``changed(text)`` whenever the line moves or the calibration changes."""

    changed = Signal(str)

    def __init__(self, view: pg.ViewBox, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._calibration: Calibration | None = None
        pen = pg.mkPen(RULER_COLOR, width=2)
        self.line = pg.LineSegmentROI([[0, 0], [10, 0]], pen=pen, movable=True)
        self.line.setZValue(2000)
        self.label = pg.TextItem(color=RULER_COLOR, fill=pg.mkBrush(0, 0, 0, 190), anchor=(0, 1))
        self.label.setZValue(2001)
        self.line.sigRegionChanged.connect(self._update)
        self.active = False

    def set_active(self, active: bool, shape: tuple[int, int] | None = None) -> None:
        """Show the ruler (placed across the middle third of an image of ``shape`` the first
        time) or take it away."""
        if active == self.active:
            return
        self.active = active
        if active:
            if shape is not None:
                height, width = shape
                self.place((width / 3, height / 2), (2 * width / 3, height / 2))
            self._view.addItem(self.line)
            self._view.addItem(self.label)
            self._update()
        else:
            self._view.removeItem(self.line)
            self._view.removeItem(self.label)

    def place(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Put the ends at image points (x, y)."""
        for handle, point in zip(self.line.getHandles(), (start, end), strict=True):
            self.line.movePoint(handle, QPointF(*point), coords="parent")
        self._update()

    def ends(self) -> tuple[tuple[float, float], tuple[float, float]]:
        start, end = (self.line.mapToParent(handle.pos()) for handle in self.line.getHandles())
        return (start.x(), start.y()), (end.x(), end.y())

    def vector_px(self) -> tuple[float, float]:
        (x0, y0), (x1, y1) = self.ends()
        return x1 - x0, y1 - y0

    def length_px(self) -> float:
        return math.hypot(*self.vector_px())

    def set_calibration(self, calibration: Calibration | None) -> None:
        self._calibration = calibration
        self._update()

    def text(self) -> str:
        return length_text(self.length_px(), self._calibration, self.vector_px())

    def _update(self, *_ignored) -> None:
        text = self.text()
        (x0, y0), (x1, y1) = self.ends()
        self.label.setText(text)
        self.label.setPos(max(x0, x1), min(y0, y1))
        self.changed.emit(text)
