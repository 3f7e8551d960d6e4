"""One editable mask drawn over the frame, redrawn by the changed rectangle only.

pyqtgraph's ImageItem converts the whole image on every change (about 5 ms for a 1024 x 1024
RGBA overlay, see benchmarks/bench_painting.py), too slow to follow a brush. This item keeps
the colour image in a numpy buffer that a QImage shares: an edit rewrites the pixels of its
box, and ``update(box)`` asks Qt to repaint just that part of the screen (pyqtgraph's view
repaints minimally), so the cost of a brush dab does not grow with the frame.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from dsaviewer.core.mask_editing import Box


class MaskLayerItem(QGraphicsObject):
    """Shows a (H, W) bool mask in ``rgb`` at the frame's pixel coordinates ((0, 0) is the
    top-left corner of pixel (0, 0), one unit per pixel); transparent where the mask is off."""

    def __init__(self, rgb: tuple[int, int, int], parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        # exposedRect in paint(): only the part of the image Qt asks for is drawn.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        red, green, blue = rgb
        # QImage's ARGB32 pixel is the native 32-bit integer 0xAARRGGBB; full alpha, so the
        # premultiplied and the straight colour are the same. A pixel is this or 0 (clear).
        self._colour = np.uint32((255 << 24) | (red << 16) | (green << 8) | blue)
        self._pixels = np.zeros((0, 0), dtype=np.uint32)
        self._image = QImage()

    def set_mask(self, mask: np.ndarray | None) -> None:
        """Show ``mask`` (all of it); None shows nothing."""
        if mask is None:
            self.prepareGeometryChange()
            self._pixels = np.zeros((0, 0), dtype=np.uint32)
            self._image = QImage()
            return
        if mask.shape != self._pixels.shape:
            self.prepareGeometryChange()
            height, width = mask.shape
            self._pixels = np.zeros((height, width), dtype=np.uint32)
            # Shares the buffer: writing into _pixels changes what the image shows.
            self._image = QImage(
                self._pixels.data, width, height, width * 4,
                QImage.Format.Format_ARGB32_Premultiplied,
            )
        np.multiply(mask, self._colour, out=self._pixels)
        self.update()

    def update_region(self, mask: np.ndarray, box: Box) -> None:
        """Redraw the pixels of ``box`` (row0, col0, row1, col1) from ``mask``."""
        if mask.shape != self._pixels.shape:
            self.set_mask(mask)
            return
        row0, col0, row1, col1 = box
        np.multiply(
            mask[row0:row1, col0:col1], self._colour, out=self._pixels[row0:row1, col0:col1]
        )
        self.update(QRectF(col0, row0, col1 - col0, row1 - row0))

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        height, width = self._pixels.shape
        return QRectF(0, 0, width, height)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._image.isNull():
            return
        exposed = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
        if exposed.isEmpty():
            return
        # Mask pixels stay square at any zoom, as the frame's own pixels do.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(exposed), self._image, QRectF(exposed))
