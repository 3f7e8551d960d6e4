"""The overlays drawn on the frame: masks and the frame-difference map as image layers, and
the lesion outlines with their numbers.

Every layer is a pyqtgraph item in the frame's own view, in frame pixel coordinates
(row-major, pixel (r, c) covering [c, c+1) x [r, r+1)), so layers stay exactly on the frame
through pan and zoom. The RGBA images are made once per result; playback only swaps the frame
underneath.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from dsaviewer.app.overlays import DIFFERENCE, LAYER_NAMES, LESIONS, LIVER, TUMOR
from dsaviewer.core.lesions import Lesion

__all__ = ["DIFFERENCE", "LAYER_NAMES", "LESIONS", "LIVER", "TUMOR", "OverlayLayers"]


LESION_COLOR = QColor(255, 220, 0)
HIGHLIGHT_COLOR = QColor(255, 60, 200)
_Z_BASE = 10  # above the frame (z 0)
_LABEL_BACKDROP = QColor(0, 0, 0, 150)  # numbers stay readable on bright stain and masks
# Numbers beyond this would cover the image; the table lists every lesion.
MAX_NUMBERED = 30


class OverlayLayers:
    """Owns the overlay items of one view; the view owns the frame."""

    def __init__(self, view: pg.ViewBox) -> None:
        self._view = view
        self._images: dict[str, pg.ImageItem] = {}
        for depth, name in enumerate(LAYER_NAMES):
            if name == LESIONS:
                continue
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(_Z_BASE + depth)
            item.setVisible(False)
            view.addItem(item, ignoreBounds=True)
            self._images[name] = item
        depth = _Z_BASE + len(LAYER_NAMES)
        self._outlines = pg.PlotCurveItem(pen=pg.mkPen(LESION_COLOR, width=1.5))
        self._highlight = pg.PlotCurveItem(pen=pg.mkPen(HIGHLIGHT_COLOR, width=3))
        for item in (self._outlines, self._highlight):
            item.setZValue(depth)
            view.addItem(item, ignoreBounds=True)
        self._lesions: dict[int, Lesion] = {}
        self._labels: list[pg.TextItem] = []
        self._visible = {name: True for name in LAYER_NAMES}
        self._opacity = {name: 1.0 for name in LAYER_NAMES}
        self._has_content = {name: False for name in LAYER_NAMES}
        self._highlighted: int | None = None

    def set_image(self, name: str, rgba: np.ndarray | None) -> None:
        """Show ``rgba`` ((H, W, 4) uint8) as layer ``name``; None clears it."""
        item = self._images[name]
        if rgba is None:
            item.clear()
        else:
            item.setImage(rgba, autoLevels=False)  # no levels: RGBA bytes shown as they are
        self._has_content[name] = rgba is not None
        self._refresh(name)

    def set_lesions(self, lesions: Sequence[Lesion]) -> None:
        """Outline every lesion (one curve for all: a noisy mask can hold hundreds) and
        number the :data:`MAX_NUMBERED` largest; a highlighted lesion is always numbered."""
        self._lesions = {lesion.number: lesion for lesion in lesions}
        self._outlines.setData(*_outline_xy(lesions), connect="finite")
        self._has_content[LESIONS] = bool(lesions)
        self.highlight(None)

    def highlight(self, number: int | None) -> None:
        self._highlighted = number if number in self._lesions else None
        chosen = [] if self._highlighted is None else [self._lesions[self._highlighted]]
        self._highlight.setData(*_outline_xy(chosen), connect="finite")
        numbered = [lesion for lesion in self._lesions.values() if lesion.number <= MAX_NUMBERED]
        numbered += [lesion for lesion in chosen if lesion.number > MAX_NUMBERED]
        for label in self._labels:
            self._view.removeItem(label)
        self._labels = []
        for lesion in numbered:
            color = HIGHLIGHT_COLOR if lesion.number == self._highlighted else LESION_COLOR
            label = pg.TextItem(str(lesion.number), color=color, anchor=(0.5, 1.0),
                                fill=_LABEL_BACKDROP)
            label.setPos(lesion.bbox[1] / 2 + lesion.bbox[3] / 2, lesion.bbox[0])
            label.setZValue(self._outlines.zValue())
            self._view.addItem(label, ignoreBounds=True)
            self._labels.append(label)
        self._refresh(LESIONS)

    def set_visible(self, name: str, visible: bool) -> None:
        self._visible[name] = visible
        self._refresh(name)

    def set_opacity(self, name: str, opacity: float) -> None:
        self._opacity[name] = float(opacity)
        self._refresh(name)

    def is_shown(self, name: str) -> bool:
        """True when layer ``name`` has content and is switched on."""
        return self._has_content[name] and self._visible[name]

    def opacity(self, name: str) -> float:
        return self._opacity[name]

    def _refresh(self, name: str) -> None:
        items = (
            [self._outlines, self._highlight, *self._labels]
            if name == LESIONS
            else [self._images[name]]
        )
        for item in items:
            item.setVisible(self.is_shown(name))
            item.setOpacity(self._opacity[name])


def _outline_xy(lesions: Sequence[Lesion]) -> tuple[np.ndarray, np.ndarray]:
    """Closed outlines through pixel centres, separated by NaN (a break in the curve)."""
    if not lesions:
        return np.empty(0), np.empty(0)
    pieces = []
    for lesion in lesions:
        contour = np.asarray(lesion.contour + lesion.contour[:1], dtype=float) + 0.5
        pieces.extend([contour, np.full((1, 2), np.nan)])
    points = np.concatenate(pieces)
    return points[:, 1], points[:, 0]
