"""The ruler and the calibration of the open case: View > Measure distance shows the ruler,
Analysis > Calibrate sets millimetres per pixel (from the ruler across the catheter, or typed)
for the ruler, the scale bar, the cursor read-out and the lesion table's mm columns alike."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from dsaviewer.core.lesions import extract_lesions
from dsaviewer.gui.calibration_dialog import ask_calibration
from dsaviewer.gui.image.measure_tool import MeasureTool
from dsaviewer.io.calibration import Calibration


class CalibrationControls(QObject):
    """``calibrated(calibration)`` after the open case got a new calibration."""

    calibrated = Signal(object)

    def __init__(self, window: QMainWindow, view_menu: QMenu, analysis_menu: QMenu) -> None:
        super().__init__(window)
        self._window = window
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
        self.manual: Calibration | None = None
        window.case_opened.connect(self._opened)
        # A later analysis measures with the file's spacing; the manual calibration wins.
        window.model.events.result.connect(lambda result, *_old: self._measure_result(result))

    def _opened(self, session) -> None:
        self.measure_action.setChecked(False)
        self.manual = None
        self._show(session.video.calibration)

    def _show(self, calibration: Calibration | None) -> None:
        self.tool.set_calibration(calibration)
        self._window.analysis_panel.lesions.set_calibration(calibration)

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

    def apply(self, calibration: Calibration) -> None:
        """Measure the open case with ``calibration`` from now on (not saved with the case):
        the ruler, the scale bar and the lesions of this and later results."""
        self.manual = calibration
        self._window.frame_view.set_scale(calibration.mm_per_px[1])
        self._show(calibration)
        self._measure_result(self._window.model.result)
        self._window.statusBar().showMessage(f"Calibrated: {calibration.label}", 10000)
        self.calibrated.emit(calibration)

    def _measure_result(self, result) -> None:
        """Give ``result``'s lesions the manual calibration's millimetres (once)."""
        if self.manual is None or result is None or result.lesions is None:
            return
        spacing = self.manual.mm_per_px
        measured = extract_lesions(result.tumor_mask, result.tumor_probability, spacing)
        if measured != list(result.lesions):
            self._window.model.result = replace(result, lesions=measured)
