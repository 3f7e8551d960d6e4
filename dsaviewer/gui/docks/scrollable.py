"""A dock's content that may need more height than a small screen leaves it scrolls instead
of being cut off: word-wrapped labels give a dock no minimum height, so the dock splitter can
shrink it below its lines, and a minimum height instead would grow the window past a
1366x768 laptop's screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


def scrollable(content: QWidget) -> QScrollArea:
    """``content`` at the dock's width, with a vertical scroll bar only while its lines do not
    fit the dock's height."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)  # the content follows the dock's width and wraps to it
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area
