"""The legend in the image's top-left corner: which overlay is which colour, on a dark box so
it stays readable over bright contrast."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPainter

BACKING = QColor(0, 0, 0, 185)


class ImageLegend(pg.LabelItem):
    """Lists the overlays shown now; hidden when none is."""

    def __init__(self, view: pg.ViewBox) -> None:
        super().__init__(justify="left", color=(230, 230, 230), size="9pt")
        self.setParentItem(view)
        self.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(8, 8))
        self.setZValue(1000)
        self.setVisible(False)

    def show_entries(self, entries: Sequence[tuple[str, QColor]]) -> None:
        """``entries``: (label, colour) of each overlay shown, top layer first."""
        lines = [
            f"<span style='color:{color.name()}'>&#9632;</span>&nbsp;{escape(label)}"
            for label, color in entries
        ]
        self.setText("<br>".join(lines))
        self.setVisible(bool(lines))

    def paint(self, painter: QPainter, *args) -> None:  # noqa: D102 - Qt override
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BACKING)
        painter.drawRoundedRect(self.boundingRect(), 4, 4)
        super().paint(painter, *args)
