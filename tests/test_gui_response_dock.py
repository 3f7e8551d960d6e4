"""The TACE response dock loses no line, the research note included, on a 1366x768 laptop:
what its height cannot show scrolls into view, and the window never outgrows the screen."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QScrollArea
from test_gui_fixtures import FakeAnalysis, write_avi_case

from dsaviewer.gui.docks.response_panel import RESEARCH_NOTE
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.settings import AUTO_ANALYZE

WAIT_MS = 15_000


def test_the_research_note_stays_reachable_on_a_small_screen(qtbot, tmp_path):
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
    # The panel keeps the height its lines need at its width, whatever the dock's height.
    qtbot.waitUntil(lambda: panel.height() >= panel.layout().heightForWidth(panel.width()),
                    timeout=WAIT_MS)
    note = next(label for label in panel.findChildren(QLabel) if label.text() == RESEARCH_NOTE)
    assert note.geometry().bottom() < panel.height()  # its last line is inside the panel
    area = next(parent for parent in _ancestors(panel) if isinstance(parent, QScrollArea))
    area.ensureWidgetVisible(note)
    qtbot.waitUntil(lambda: not note.visibleRegion().isEmpty(), timeout=WAIT_MS)
    shown = note.visibleRegion().boundingRect()
    assert shown.height() == note.height()  # scrolled into view whole
    assert window.height() == height  # the screen's height, not the panel's, bounds the window


def _ancestors(widget):
    parent = widget.parentWidget()
    while parent is not None:
        yield parent
        parent = parent.parentWidget()
