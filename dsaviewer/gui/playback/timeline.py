"""The frame slider under the image, with a marker on the key frame."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider


class Timeline(QSlider):
    KEY_FRAME_COLOR = QColor(255, 170, 0)

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.setTickInterval(1)
        self.setPageStep(5)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys belong to the main window
        self._key_frame: int | None = None

    def set_frame_count(self, n_frames: int) -> None:
        self.setRange(0, max(0, n_frames - 1))
        self.setTickInterval(1 if n_frames <= 60 else 10)

    def set_key_frame(self, index: int | None) -> None:
        self._key_frame = index
        self.setToolTip("" if index is None else f"Key frame: {index}")
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self._key_frame is None or self.maximum() == self.minimum():
            return
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = groove.width() - handle.width()
        x = groove.left() + handle.width() / 2 + span * (self._key_frame - self.minimum()) / (
            self.maximum() - self.minimum()
        )
        painter = QPainter(self)
        painter.setPen(QPen(self.KEY_FRAME_COLOR, 3))
        painter.drawLine(round(x), 0, round(x), self.height())
        painter.end()
