"""The frame slider under the image, with a marker on the key frame and, below the groove,
one on each annotated frame: saved labels in green, unsaved edits in red."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider

from dsaviewer.app.case_session import frame_number


class Timeline(QSlider):
    KEY_FRAME_COLOR = QColor(255, 170, 0)
    SAVED_COLOR = QColor(40, 190, 90)
    UNSAVED_COLOR = QColor(230, 50, 50)

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.setTickInterval(1)
        self.setPageStep(5)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys belong to the main window
        self._key_frame: int | None = None
        self.saved_frames: frozenset[int] = frozenset()
        self.unsaved_frames: frozenset[int] = frozenset()

    def set_frame_count(self, n_frames: int) -> None:
        self.setRange(0, max(0, n_frames - 1))
        self.setTickInterval(1 if n_frames <= 60 else 10)

    def set_key_frame(self, index: int | None) -> None:
        self._key_frame = index
        self.setToolTip("" if index is None else f"Key frame: {frame_number(index)}")
        self.update()

    def set_annotated(self, saved: Iterable[int], unsaved: Iterable[int]) -> None:
        """Mark the frames with saved labels and those with unsaved edits (0-based)."""
        self.unsaved_frames = frozenset(unsaved)
        self.saved_frames = frozenset(saved) - self.unsaved_frames
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)
        if self.maximum() == self.minimum():
            return
        painter = QPainter(self)
        for frames, colour in ((self.saved_frames, self.SAVED_COLOR),
                               (self.unsaved_frames, self.UNSAVED_COLOR)):
            painter.setPen(QPen(colour, 3))
            for frame in frames:
                x = self.frame_x(frame)
                painter.drawLine(x, self.height() - 6, x, self.height())
        if self._key_frame is not None:
            x = self.frame_x(self._key_frame)
            painter.setPen(QPen(self.KEY_FRAME_COLOR, 3))
            painter.drawLine(x, 0, x, self.height() - 8)
        painter.end()

    def frame_x(self, frame: int) -> int:
        """The x position of ``frame`` on the groove, in widget pixels."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = groove.width() - handle.width()
        x = groove.left() + handle.width() / 2 + span * (frame - self.minimum()) / max(
            1, self.maximum() - self.minimum()
        )
        return round(x)
