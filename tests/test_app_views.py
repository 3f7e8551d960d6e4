"""A new view of the case is one subscription to the application model: a key-frame label
added beside a real main window follows opening, setting and clearing the key frame, with
no change to the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel
from test_gui_fixtures import N_FRAMES, FakeAnalysis, write_avi_case

from dsaviewer.app.case_session import frame_number
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_SOURCE_TEXT
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.settings import AUTO_ANALYZE

HELD_KEY_FRAME = N_FRAMES - 3


class KeyFrameLabel(QLabel):
    """The example of docs/architecture.md."""

    def __init__(self, model: ViewerModel) -> None:
        super().__init__()
        self._model = model
        model.events.key_frame.connect(self._show)

    def _show(self, index: int) -> None:
        source = KEY_FRAME_SOURCE_TEXT[self._model.key_frame_source]
        self.setText(f"Key frame {frame_number(index)} ({source})")


# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def test_a_key_frame_label_follows_the_case_with_one_subscription(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(AUTO_ANALYZE, False)
    window = MainWindow(settings, analyze=FakeAnalysis())
    qtbot.addWidget(window)
    label = KeyFrameLabel(window.model)
    window.statusBar().addPermanentWidget(label)

    with qtbot.waitSignal(window.case_opened, timeout=10_000):
        window.open_path(write_avi_case(tmp_path / "case"))
    assert label.text() == f"Key frame {frame_number(HELD_KEY_FRAME)} (automatic)"

    window.cine.seek(4)
    with qtbot.waitSignal(window.state_saved, timeout=10_000):
        window.set_key_frame_here()
    assert label.text() == "Key frame 5 (set by you)"

    window.clear_key_frame_override()
    assert label.text() == f"Key frame {frame_number(HELD_KEY_FRAME)} (automatic)"
