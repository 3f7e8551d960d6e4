"""A frame with its overlays painted at the original resolution, for export and the case
summary. QImage and QPainter only, so it runs in a worker thread.

The screen draws the same layers with pyqtgraph; this paints them the same way (same RGBA
images, opacities, order and outline colours) into pixels a file can hold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen

from dsaviewer.app.overlays import DIFFERENCE, LAYER_NAMES, LESIONS, LIVER, TUMOR
from dsaviewer.core.lesions import Lesion
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.core.window_level import apply_window
from dsaviewer.gui.overlays.overlay_layers import HIGHLIGHT_COLOR, LESION_COLOR
from dsaviewer.gui.overlays.overlay_panel import legend_entries


@dataclass(frozen=True)
class EditedMask:
    """An annotator's mask as the editor draws it: above the model's layers, in one colour."""

    text: str  # the legend's words, e.g. "Tumor annotation"
    mask: np.ndarray  # (H, W) bool at the frame's resolution
    rgb: tuple[int, int, int]
    opacity: float


def numpy_to_qimage(image: np.ndarray) -> QImage:
    """A deep copy of an (H, W) uint8 grey or (H, W, 4) uint8 RGBA array as a QImage."""
    array = np.ascontiguousarray(image)
    height, width = array.shape[:2]
    if array.ndim == 2:
        fmt, line = QImage.Format.Format_Grayscale8, width
    else:
        fmt, line = QImage.Format.Format_RGBA8888, 4 * width
    return QImage(array.data, width, height, line, fmt).copy()


def render_frame(
    frame: np.ndarray,
    window: tuple[float, float],
    inverted: bool,
    overlays: OverlaySet,
    opacities: Mapping[str, float],
    lesions: Sequence[Lesion] = (),
    highlighted: int | None = None,
    with_legend: bool = True,
    edited: Sequence[EditedMask] = (),
) -> QImage:
    """``frame`` windowed, with the layers named in ``opacities`` (name -> opacity) painted
    in the viewer's order; lesion outlines and numbers when LESIONS is among them; then the
    ``edited`` masks, bottom to top, listed first in the legend (the top one first)."""
    canvas = numpy_to_qimage(apply_window(frame, window, inverted)).convertToFormat(
        QImage.Format.Format_ARGB32_Premultiplied
    )
    images = {TUMOR: overlays.tumor, LIVER: overlays.liver,
              DIFFERENCE: None if overlays.difference is None else overlays.difference.rgba}
    shown = [name for name in LAYER_NAMES if name in opacities and (
        bool(lesions) if name == LESIONS else images[name] is not None)]
    painter = QPainter(canvas)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for name in shown:
        painter.setOpacity(opacities[name])
        if name == LESIONS:
            _paint_lesions(painter, lesions, highlighted, canvas.width())
        else:
            painter.drawImage(0, 0, numpy_to_qimage(images[name]))
    for layer in edited:
        painter.setOpacity(layer.opacity)
        painter.drawImage(0, 0, numpy_to_qimage(_mask_rgba(layer.mask, layer.rgb)))
    painter.setOpacity(1.0)
    entries = [(layer.text, QColor(*layer.rgb)) for layer in reversed(edited)]
    entries += legend_entries(shown)
    if with_legend and entries:
        _paint_legend(painter, entries, canvas.width())
    painter.end()
    return canvas


def _mask_rgba(mask: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    rgba = np.zeros((*mask.shape, 4), np.uint8)
    rgba[mask] = (*rgb, 255)
    return rgba


LABEL_BACKING = QColor(0, 0, 0, 220)


def _paint_lesions(
    painter: QPainter, lesions: Sequence[Lesion], highlighted: int | None, width: int
) -> None:
    scale = max(1.0, width / 512.0)  # outlines readable on large frames
    device = painter.device()
    font = QFont()
    font.setPixelSize(lesion_label_px(device.width(), device.height()))
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    for lesion in lesions:
        color = HIGHLIGHT_COLOR if lesion.number == highlighted else LESION_COLOR
        path = QPainterPath()
        points = [QPointF(col + 0.5, row + 0.5) for row, col in lesion.contour]
        path.moveTo(points[0])
        for point in points[1:]:
            path.lineTo(point)
        path.closeSubpath()
        painter.setPen(QPen(color, 1.5 * scale))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        top = min(point.y() for point in points)
        centre = sum(point.x() for point in points) / len(points)
        # The number on a dark box: readable on bright contrast as on the dark background.
        text = str(lesion.number)
        pad = metrics.height() * 0.15
        box = QRectF(0, 0, metrics.horizontalAdvance(text) + 4 * pad, metrics.height() + pad)
        box.moveCenter(QPointF(centre, top - pad - box.height() / 2))
        box.moveTop(max(0.0, box.top()))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LABEL_BACKING)
        painter.drawRoundedRect(box, pad, pad)
        painter.setPen(color)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def lesion_label_px(width: int, height: int) -> int:
    """The pixel size of lesion numbers on an image of ``width`` x ``height``: 3.5 % of its
    shorter side (18 px on a 512-pixel frame), at least 12, so the numbers stay readable
    when the image is shown smaller, as in the one-page summary."""
    return max(12, round(0.035 * min(width, height)))


def _paint_legend(painter: QPainter, entries: list[tuple[str, QColor]], width: int) -> None:
    scale = max(1.0, width / 768.0)
    font = QFont()
    font.setPixelSize(round(13 * scale))
    painter.setFont(font)
    line = round(18 * scale)
    box = QRectF(8 * scale, 8 * scale, 220 * scale, line * len(entries) + 8 * scale)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150))
    painter.drawRect(box)
    for row, (label, color) in enumerate(entries):
        y = box.top() + 4 * scale + row * line
        painter.fillRect(QRectF(box.left() + 6 * scale, y + 3 * scale, 11 * scale, 11 * scale),
                         color)
        painter.setPen(QColor(235, 235, 235))
        painter.drawText(QRectF(box.left() + 24 * scale, y, box.width(), line),
                         Qt.AlignmentFlag.AlignVCenter, label)
