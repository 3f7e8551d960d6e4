"""Adds parametric DSA to the main window: the Parametric dock (a view that follows the
application model's case, result and frame) and a Parametric menu with the comparison of the
open run with a second run."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox

from dsaviewer.gui.docks.scrollable import scrollable
from dsaviewer.gui.parametric.compare_opener import open_comparison
from dsaviewer.gui.parametric.compare_view import CompareView
from dsaviewer.gui.parametric.panel import ParametricPanel


class ParametricFeature:
    """What :func:`install_parametric` added, for the window and the tests to reach."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.panel = ParametricPanel()
        self.dock = QDockWidget("Parametric", window)
        self.dock.setObjectName("Parametric")
        self.dock.setWidget(scrollable(self.panel))
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        beside = window.findChild(QDockWidget, "Analysis")
        if beside is not None:
            window.tabifyDockWidget(beside, self.dock)
            beside.raise_()
        self.compare_views: list[CompareView] = []

        self.panel.follow(window.model)

        menu = window.menuBar().addMenu("&Parametric")
        menu.addAction(self.dock.toggleViewAction())
        compare = menu.addAction("&Compare with another run…")
        compare.triggered.connect(self.ask_comparison)

    def ask_comparison(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Compare with a run of the same patient (e.g. after embolisation)")
        if path:
            self.compare_with(path)

    def compare_with(self, path: str) -> None:
        """Compare the open run (its analysis's regions) with the run at ``path``."""
        model = self.window.model
        if model.case is None:
            self._warn("Open a run first.")
            return
        self.window.statusBar().showMessage("Comparing the runs…")
        open_comparison(model.case.video, model.result, path, self._shown, self._warn)

    def _shown(self, view: CompareView) -> None:
        self.compare_views.append(view)
        self.window.statusBar().showMessage(view.summary.text(), 10000)

    def _warn(self, message: str) -> None:
        QMessageBox.warning(self.window, "Compare runs", message)


def install_parametric(window: QMainWindow) -> ParametricFeature:
    return ParametricFeature(window)
