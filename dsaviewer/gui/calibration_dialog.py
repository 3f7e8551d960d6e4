"""Calibrating a run without pixel spacing (every AVI and PNG run): the measuring line drawn
across the catheter and its French size, or millimetres per pixel typed in."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QRadioButton,
    QWidget,
)

from dsaviewer.errors import InputError
from dsaviewer.io.calibration import (
    FRENCH_RANGE,
    MM_PER_PX_RANGE,
    Calibration,
    catheter_calibration,
    manual_calibration,
)

CATHETER, TYPED = "catheter", "typed"


class CalibrationDialog(QDialog):
    """Asks for a catheter size (the measuring line spans ``length_px`` pixels) or a scale."""

    def __init__(self, length_px: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Calibrate")
        self.length_px = length_px
        self.catheter = QRadioButton("The measuring line spans a catheter of")
        self.typed = QRadioButton("Millimetres per pixel")
        group = QButtonGroup(self)
        group.addButton(self.catheter)
        group.addButton(self.typed)
        self.french = QDoubleSpinBox(minimum=FRENCH_RANGE[0], maximum=FRENCH_RANGE[1],
                                     decimals=1, singleStep=1.0, value=5.0, suffix=" Fr")
        self.scale = QDoubleSpinBox(minimum=MM_PER_PX_RANGE[0], maximum=MM_PER_PX_RANGE[1],
                                    decimals=3, singleStep=0.01, value=0.3, suffix=" mm/px")
        if length_px is None:
            self.catheter.setEnabled(False)
            self.catheter.setToolTip("Show the measuring line (View > Measure distance) and "
                                     "drag its ends across the catheter first")
            self.typed.setChecked(True)
        else:
            self.catheter.setChecked(True)
        note = QLabel("1 Fr = 1/3 mm outer diameter. Draw the line across the catheter's whole "
                      "width, at the depth of the liver if you can.")
        note.setWordWrap(True)
        note.setStyleSheet("color: gray;")
        self.error = QLabel()
        self.error.setStyleSheet("color: #e05050;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QGridLayout(self)
        layout.addWidget(self.catheter, 0, 0)
        layout.addWidget(self.french, 0, 1)
        layout.addWidget(self.typed, 1, 0)
        layout.addWidget(self.scale, 1, 1)
        layout.addWidget(note, 2, 0, 1, 2)
        layout.addWidget(self.error, 3, 0, 1, 2)
        layout.addWidget(buttons, 4, 0, 1, 2)
        self.calibration: Calibration | None = None

    def result_calibration(self) -> Calibration:
        """The calibration the dialog's values give; InputError when they cannot be one."""
        if self.catheter.isChecked():
            return catheter_calibration(self.length_px or 0.0, self.french.value())
        return manual_calibration(self.scale.value())

    def _accept(self) -> None:
        try:
            self.calibration = self.result_calibration()
        except InputError as error:
            self.error.setText(error.reason)
            return
        self.accept()


def ask_calibration(parent: QWidget, length_px: float | None) -> Calibration | None:
    dialog = CalibrationDialog(length_px, parent)
    return dialog.calibration if dialog.exec() == QDialog.DialogCode.Accepted else None
