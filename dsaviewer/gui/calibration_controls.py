"""The ruler and the calibration of the open case: View > Measure distance shows the ruler,
Analysis > Calibrate sets millimetres per pixel (from the ruler across the catheter, or typed)
and Analysis > Remove manual calibration goes back to the file's own spacing. The calibration
is the application model's (saved with the case, see app.calibration_in_force); the ruler,
the scale bar, the cursor read-out and the lesion table's mm columns follow it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from dsaviewer.gui.calibration_dialog import ask_calibration
from dsaviewer.gui.image.measure_tool import MeasureTool
from dsaviewer.io.calibration import Calibration


class CalibrationControls(QObject):
    """``calibrated(calibration)`` after a person set a calibration (None: removed it)."""

    calibrated = Signal(object)

    def __init__(self, window: QMainWindow, view_menu: QMenu, analysis_menu: QMenu) -> None:
        super().__init__(window)
        self._window = window
        model = window.model
        self.tool = MeasureTool(window.frame_view.view, self)
        self.tool.changed.connect(lambda text: window.statusBar().showMessage(text, 10000))
        self.measure_action = QAction("&Measure distance", window, checkable=True)
        self.measure_action.setShortcut(QKeySequence("M"))
        self.measure_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.measure_action.toggled.connect(self._toggle)
        view_menu.addAction(self.measure_action)
        window.addAction(self.measure_action)
        self.calibrate_action = QAction("Ca&librate (catheter size or mm per pixel)…", window)
        self.calibrate_action.triggered.connect(self.ask)
        analysis_menu.addAction(self.calibrate_action)
        self.remove_action = QAction("Remove manual calibration", window, enabled=False)
        self.remove_action.setStatusTip("Measure with the file's own pixel spacing again "
                                        "(none in AVI and PNG runs)")
        self.remove_action.triggered.connect(lambda: self.apply(None))
        analysis_menu.addAction(self.remove_action)
        window.case_opened.connect(self._opened)
        # Lambdas: psygnal holds bound methods weakly.
        model.events.calibration.connect(lambda calibration: self._show(calibration))
        model.calibrated.connect(lambda _calibration: self._show(model.calibration))

    def _opened(self, _session) -> None:
        self.measure_action.setChecked(False)
        self._show(self._window.model.calibration)

    def _show(self, calibration: Calibration | None) -> None:
        self.tool.set_calibration(calibration)
        self._window.analysis_panel.lesions.set_calibration(calibration)
        self.remove_action.setEnabled(self._window.model.calibration_override is not None)

    def _toggle(self, on: bool) -> None:
        case = self._window.model.case
        if case is None:
            self.measure_action.setChecked(False)
            return
        self.tool.set_active(on, case.video.frame_shape)

    def ask(self) -> None:
        if self._window.model.case is None:
            return
        length = self.tool.length_px() if self.tool.active else None
        calibration = ask_calibration(self._window, length)
        if calibration is not None:
            self.apply(calibration)

    def apply(self, calibration: Calibration | None) -> None:
        """Measure the open case with ``calibration`` from now on, and save it with the case;
        None goes back to the file's own spacing."""
        model = self._window.model
        model.set_calibration(calibration)
        in_force = model.calibration
        message = ("Calibrated: " + calibration.label if calibration is not None
                   else "Manual calibration removed: "
                   + ("no calibration" if in_force is None else in_force.label))
        self._window.statusBar().showMessage(message, 10000)
        self.calibrated.emit(calibration)
