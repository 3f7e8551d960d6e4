"""The invisible item over the frame that takes the mouse while a mask tool is active.

It lies in the image's view box, in frame pixel coordinates, above the frame and its overlays.
With an editing tool it claims left-button presses, so pyqtgraph's scene hands it the whole
press-move-release sequence instead of panning; right-drag (window/level) and the wheel (zoom)
still reach the view box. With the navigate tool it claims nothing.

It also draws what the tool needs to be aimed: the brush outline under the mouse and the
polygon being clicked together. Only the area around those is repainted as the mouse moves.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject

from dsaviewer.gui.annotation.tools import MAX_BRUSH_RADIUS, Tool

_Z_VALUE = 1000  # above the frame (0) and every overlay layer
_OUTLINE = QColor(255, 255, 255, 220)
_SHADOW = QColor(0, 0, 0, 200)
# Handled here when the surface has focus; everything else goes on to the window.
_POLYGON_KEYS = {
    key.value
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape, Qt.Key.Key_Backspace)
}


class EditingSurface(QGraphicsObject):
    """Emits mouse positions as (x, y) in frame pixel coordinates (pixel (r, c) covers
    [c, c + 1) x [r, r + 1))."""

    pressed = Signal(float, float)
    dragged = Signal(float, float)
    released = Signal(float, float)
    double_clicked = Signal(float, float)
    key_pressed = Signal(int)  # Return, Enter, Escape or Backspace

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setZValue(_Z_VALUE)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable, True)
        self._width = 0
        self._height = 0
        self._radius = 1.0
        self._tool = Tool.NAVIGATE
        self._hover: QPointF | None = None
        self._polygon: list[QPointF] = []
        self.set_tool(Tool.NAVIGATE)

    # ----- set-up -----
    def set_frame_size(self, height: int, width: int) -> None:
        self.prepareGeometryChange()
        self._height, self._width = int(height), int(width)

    def set_tool(self, tool: Tool) -> None:
        self._tool = tool
        editing = tool.edits_with_clicks
        buttons = Qt.MouseButton.LeftButton if editing else Qt.MouseButton.NoButton
        self.setAcceptedMouseButtons(buttons)
        self.setAcceptHoverEvents(editing)
        if editing:
            self.setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.unsetCursor()
            self._set_hover(None)
        self.update()

    def set_radius(self, radius: float) -> None:
        old = self._cursor_rect()
        self._radius = float(radius)
        self.update(old.united(self._cursor_rect()))

    def set_polygon(self, vertices: list[tuple[float, float]]) -> None:
        """Show the polygon being drawn (no vertices: none)."""
        old = self._polygon_rect()
        self._polygon = [QPointF(x, y) for x, y in vertices]
        self.update(old.united(self._polygon_rect()))

    # ----- geometry -----
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        # The brush outline may reach past the frame's edge.
        margin = MAX_BRUSH_RADIUS + 2
        return QRectF(-margin, -margin, self._width + 2 * margin, self._height + 2 * margin)

    def shape(self) -> QPainterPath:
        # Clicks count on the frame only; outside it the view box pans as usual.
        path = QPainterPath()
        path.addRect(QRectF(0, 0, self._width, self._height))
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for colour, width in ((_SHADOW, 3.0), (_OUTLINE, 1.0)):
            pen = QPen(colour, width)
            pen.setCosmetic(True)  # screen pixels wide at any zoom
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if self._polygon:
                points = [*self._polygon, self._hover] if self._hover else self._polygon
                painter.drawPolyline(QPolygonF(points))
            elif self._hover is not None and self._tool.uses_radius:
                painter.drawEllipse(self._hover, self._radius, self._radius)

    # ----- events -----
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() != Qt.MouseButton.LeftButton or not self._tool.edits_with_clicks:
            event.ignore()
            return
        event.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._set_hover(event.pos())
        self.pressed.emit(event.pos().x(), event.pos().y())

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._set_hover(event.pos())
        self.dragged.emit(event.pos().x(), event.pos().y())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self.released.emit(event.pos().x(), event.pos().y())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton and self._tool.edits_with_clicks:
            event.accept()
            self.double_clicked.emit(event.pos().x(), event.pos().y())
        else:
            event.ignore()

    def hoverMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._set_hover(event.pos())

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._set_hover(None)

    def sceneEvent(self, event) -> bool:  # noqa: N802 - Qt override
        # Claimed before the window's shortcuts see the key: the viewer's Escape (cancel the
        # analysis) must not swallow the Escape that cancels a polygon.
        if event.type() == QEvent.Type.ShortcutOverride and self._is_polygon_key(event):
            event.accept()
            return True
        return super().sceneEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._is_polygon_key(event):
            event.accept()
            self.key_pressed.emit(int(event.key()))
        else:
            event.ignore()

    def _is_polygon_key(self, event) -> bool:
        return int(event.key()) in _POLYGON_KEYS and bool(self._polygon)

    # ----- repainting only what moved -----
    def _set_hover(self, point: QPointF | None) -> None:
        old = self._cursor_rect().united(self._rubber_band_rect())
        self._hover = None if point is None else QPointF(point)
        self.update(old.united(self._cursor_rect()).united(self._rubber_band_rect()))

    def _cursor_rect(self) -> QRectF:
        if self._hover is None:
            return QRectF()
        r = self._radius
        return self._padded(QRectF(self._hover.x() - r, self._hover.y() - r, 2 * r, 2 * r))

    def _rubber_band_rect(self) -> QRectF:
        if self._hover is None or not self._polygon:
            return QRectF()
        return self._padded(QRectF(self._polygon[-1], self._hover).normalized())

    def _polygon_rect(self) -> QRectF:
        if not self._polygon:
            return QRectF()
        return self._padded(QPolygonF([*self._polygon]).boundingRect())

    def _padded(self, rect: QRectF) -> QRectF:
        """``rect`` grown by a few screen pixels, the reach of the cosmetic pens."""
        scene = self.scene()
        views = scene.views() if scene is not None else []
        screen_pixel = 1.0
        if views:
            scale = abs(self.deviceTransform(views[0].viewportTransform()).m11())
            screen_pixel = 1.0 / max(scale, 1e-6)
        pad = 4.0 * screen_pixel
        return rect.adjusted(-pad, -pad, pad, pad)
