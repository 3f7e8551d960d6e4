"""The TACE response dock keeps every line, the research note included, in view on a
1366x768 laptop, by taking height from the docks beside it and never by outgrowing the
screen."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from test_gui_fixtures import FakeAnalysis, write_avi_case

from dsaviewer.gui.docks.response_panel import RESEARCH_NOTE
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.settings import AUTO_ANALYZE

WAIT_MS = 15_000


def test_the_research_note_stays_whole_on_a_small_screen(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    settings.setValue(AUTO_ANALYZE, False)
    window = MainWindow(settings, analyze=FakeAnalysis())
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    height = window.height()
    with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
        window.open_path(write_avi_case(tmp_path / "case"))
    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.run_analysis()
    panel = window.response_panel
    qtbot.waitUntil(lambda: panel.call.text().startswith(("Responder", "Non-responder")),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.missing_height() == 0, timeout=WAIT_MS)
    note = next(label for label in panel.findChildren(type(panel.call))
                if label.text() == RESEARCH_NOTE)
    assert note.geometry().bottom() < panel.height()  # its last line is inside the panel
    assert window.height() == height  # taken from the docks beside, not from the screen
