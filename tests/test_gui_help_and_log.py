"""The Help menu (about, shortcut sheet, user guide, log folder), the log that names no
patient, and a restored window that always fits its screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox
from test_gui_fixtures import FakeAnalysis, run_frames

from dsaviewer import __version__
from dsaviewer.gui.docks.response_panel import RESEARCH_NOTE
from dsaviewer.gui.help_menu import shortcut_rows, user_guide_markdown
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.screen_fit import fit_rect
from dsaviewer.gui.settings import WINDOW_GEOMETRY
from dsaviewer.io.app_log import LOG_FILE_NAME, log_folder, start_log, stop_log
from dsaviewer.io.writers import write_dicom_xa
from dsaviewer.resources import weights_dir

WAIT_MS = 20_000


# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings, analyze=FakeAnalysis())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_about_names_the_version_the_weights_and_their_sha256(window):
    html = window.help_menu.about_html()
    manifest = json.loads((weights_dir() / "manifest.json").read_text())
    assert __version__ in html and RESEARCH_NOTE in html.replace("&#x27;", "'")
    for role in ("segmentation", "response"):
        assert manifest[role]["sha256"] in html and manifest[role]["file"] in html
    assert "LGPL-3.0" in html and "PySide6" in html
    window.help_menu.show_about()
    assert window.help_menu.dialog.isVisible()


def test_the_shortcut_sheet_lists_the_windows_own_keys(window):
    rows = {(menu, text): keys for menu, text, keys in shortcut_rows(window)}
    assert rows[("Key frame", "Set current frame as key frame")] == "Ctrl+K"
    assert rows[("View", "Play / pause")] == "Space"
    assert ("Help", "Keyboard shortcuts") in rows
    window.help_menu.show_shortcuts()
    assert window.help_menu.dialog.isVisible() and "Ctrl+K" in window.help_menu.shortcut_html()


def test_the_user_guide_is_the_readmes_section_and_the_log_folder_opens(window, monkeypatch):
    window.help_menu.show_guide()
    guide = user_guide_markdown()
    assert guide.startswith("## Using it") and "Annotate" in guide and "## Layout" not in guide
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert window.help_menu.open_log_folder()
    assert Path(opened[0].toLocalFile()) == log_folder() and log_folder().is_dir()


def test_the_log_names_no_patient(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "DOE_JOHN_1950"
    video = write_dicom_xa(folder / "DOE_JOHN.dcm", run_frames(), 10,
                           patient={"PatientName": "DOE^JOHN", "PatientID": "123456789"})
    (folder / "DOE_JOHN_broken.dcm").write_bytes(b"not a dicom file at all")
    log = start_log(tmp_path / "logs")
    try:
        with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
            window.open_path(video)
        with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
            window.run_analysis()
        monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)  # no dialog to close
        with qtbot.waitSignal(window.open_failed, timeout=WAIT_MS):
            window.open_path(folder / "DOE_JOHN_broken.dcm")
    finally:
        stop_log()
    text = log.read_text(encoding="utf-8")
    assert log.name == LOG_FILE_NAME
    assert "opened a loose file: dicom" in text
    assert "analysis finished" in text and "open refused" in text
    assert "DOE" not in text and "123456789" not in text and str(tmp_path) not in text


def test_a_layout_saved_on_a_bigger_screen_is_fitted_to_this_one(qtbot, tmp_path):
    assert fit_rect(QRect(500, 300, 2400, 1500), QRect(0, 0, 1366, 768)) == QRect(0, 0, 1366, 768)
    assert fit_rect(QRect(1000, 600, 800, 400), QRect(0, 0, 1366, 768)) == QRect(566, 368, 800,
                                                                                  400)
    path = tmp_path / "viewer.ini"
    big = MainWindow(QSettings(str(path), QSettings.Format.IniFormat), analyze=FakeAnalysis())
    qtbot.addWidget(big)
    big.setGeometry(3000, 2000, 2400, 1600)  # as on a 4k monitor
    big.settings.setValue(WINDOW_GEOMETRY, big.saveGeometry())
    big.settings.sync()

    window = MainWindow(QSettings(str(path), QSettings.Format.IniFormat), analyze=FakeAnalysis())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    available = window.screen().availableGeometry()
    # The test screen (800 x 800) is narrower than the window's minimum width: the frame
    # fits as far as the minimum allows and starts on the screen.
    qtbot.waitUntil(lambda: window.frameGeometry().bottom() <= available.bottom())
    frame = window.frameGeometry()
    assert frame.top() >= available.top() and frame.left() >= available.left()
    assert frame.width() <= max(available.width(), window.minimumSizeHint().width() + 8)
