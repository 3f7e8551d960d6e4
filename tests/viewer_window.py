"""The viewer's main window as the GUI tests drive it: made on a test's own settings file
with the stand-in analysis of test_gui_fixtures, a case opened, the analysis run, a key
pressed. (No tests here.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt
from test_gui_fixtures import N_FRAMES, FakeAnalysis

from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.overlays.overlay_layers import TUMOR
from dsaviewer.gui.settings import AUTO_ANALYZE

HELD_KEY_FRAME = N_FRAMES - 3
WAIT_MS = 15_000


def make_window(qtbot, settings_path: Path, analyze=None,
                auto_run: bool | None = False) -> MainWindow:
    """A window on the test's own settings file; ``auto_run`` None keeps the saved choice."""
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    if auto_run is not None:
        settings.setValue(AUTO_ANALYZE, auto_run)
    window = MainWindow(settings, analyze=analyze or FakeAnalysis())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    return window


def open_case(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
        window.open_path(path)


def run_analysis(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.run_analysis()
    qtbot.waitUntil(lambda: window.frame_view.overlays.is_shown(TUMOR), timeout=WAIT_MS)


def shown_frame(window: MainWindow) -> np.ndarray:
    return window.frame_view.image.image


def press(qtbot, window: MainWindow, key: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, key, modifier)
