"""The lesions of the analysis as a table; choosing a row selects the lesion in the image."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from dsaviewer.core.lesions import Lesion
from dsaviewer.io.calibration import Calibration

COLUMNS = ("#", "Area px", "Area mm²", "⌀ max mm", "Mean p", "Uncertain")
_FLAG_COLOR = QColor(255, 170, 0)


def lesion_cells(lesion: Lesion) -> tuple[str, ...]:
    """A lesion's table row as text; "–" where a value needs what the case lacks (pixel
    spacing, a probability map)."""
    def maybe(value: float | None, pattern: str) -> str:
        return "–" if value is None else format(value, pattern)

    if lesion.uncertainty is None:
        flag = "–"
    else:
        flag = f"yes ({lesion.uncertainty:.2f})" if lesion.flagged else "no"
    return (
        str(lesion.number),
        str(lesion.area_px),
        maybe(lesion.area_mm2, ".1f"),
        maybe(lesion.longest_diameter_mm, ".1f"),
        maybe(lesion.mean_probability, ".2f"),
        flag,
    )


class LesionTable(QTableWidget):
    lesion_selected = Signal(int)  # the lesion's number; 0 when the selection is cleared

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.set_calibration(None)
        self.horizontalHeaderItem(5).setToolTip(
            "Lesion uncertainty (Lambert et al.): 1 − mean tumor probability; flagged lesions "
            "are more often false positives"
        )
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.itemSelectionChanged.connect(self._emit_selection)
        self._numbers: list[int] = []

    def set_calibration(self, calibration: Calibration | None) -> None:
        """Name the calibration the mm columns come from in their headers' tooltips."""
        source = ("No calibration: Analysis > Calibrate gives mm" if calibration is None
                  else f"mm from {calibration.label}")
        if calibration is not None and not calibration.corrected:
            source += " (at the detector: the patient is 10-30 % smaller)"
        self.horizontalHeaderItem(2).setToolTip(source)
        self.horizontalHeaderItem(3).setToolTip(f"Longest diameter (max Feret). {source}")

    def show_lesions(self, lesions: Sequence[Lesion]) -> None:
        self.blockSignals(True)
        self.clearContents()
        self.setRowCount(len(lesions))
        self._numbers = [lesion.number for lesion in lesions]
        for row, lesion in enumerate(lesions):
            for column, text in enumerate(lesion_cells(lesion)):
                item = QTableWidgetItem(text)
                align = Qt.AlignmentFlag.AlignRight if column < 5 else Qt.AlignmentFlag.AlignLeft
                item.setTextAlignment(align | Qt.AlignmentFlag.AlignVCenter)
                if lesion.flagged:
                    item.setForeground(_FLAG_COLOR)
                self.setItem(row, column, item)
        self.blockSignals(False)

    def _emit_selection(self) -> None:
        rows = {index.row() for index in self.selectedIndexes()}
        self.lesion_selected.emit(self._numbers[rows.pop()] if rows else 0)
