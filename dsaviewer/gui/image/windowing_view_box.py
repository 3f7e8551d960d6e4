"""The image's view box: left-drag pans, the wheel zooms, right-drag sets window/level.

pyqtgraph zooms on right-drag; DICOM viewers (Weasis, Horos, syngo) window on it, and that is
what radiologists' hands expect.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal


class WindowingViewBox(pg.ViewBox):
    """``window_dragged`` carries the screen-pixel motion (dx, dy) of each right-drag step."""

    window_dragged = Signal(float, float)

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.RightButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        step = ev.screenPos() - ev.lastScreenPos()
        self.window_dragged.emit(step.x(), step.y())
