"""The viewer writes nothing beside a loose file: opening, analysing, a key-frame override and
clinical values all land in the per-user data folder (tests run as root, whom permissions do
not stop, so the shared folder's listing is what is checked)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from test_gui_fixtures import FakeAnalysis, write_avi_case
from viewer_window import WAIT_MS, make_window, open_case, press, run_analysis

from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.user_data import user_data_folder

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_loose_file_from_a_shared_folder_gets_nothing_beside_it(qtbot, tmp_path,
                                                                   settings_path):
    shared = tmp_path / "share"
    shared.mkdir()
    video = Path(shutil.copy(write_avi_case(tmp_path / "made") / "video.avi", shared / "run.avi"))
    before = listing(shared)

    window = make_window(qtbot, settings_path, FakeAnalysis())
    open_case(qtbot, window, video)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        run_analysis(qtbot, window)
    press(qtbot, window, Qt.Key.Key_Right)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        window.clinical_form.editors["age"].setText("66")
        window.clinical_form.editors["age"].editingFinished.emit()
    window.close()

    assert listing(shared) == before
    assert any((user_data_folder() / "cases").rglob("state.json"))

    again = make_window(qtbot, settings_path, FakeAnalysis())
    open_case(qtbot, again, video)
    assert again.model.key_frame_override is not None
    assert again.model.result is not None
    assert again.model.clinical == ClinicalVariables(age=66)


def test_analysing_a_case_folder_writes_nothing_into_it(qtbot, tmp_path, settings_path):
    case = write_avi_case(tmp_path / "case")
    before = listing(case)
    window = make_window(qtbot, settings_path, FakeAnalysis())
    open_case(qtbot, window, case)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        run_analysis(qtbot, window)
    assert listing(case) == before  # the analysis is a cache, kept in the user folder
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert (case / "viewer" / "state.json").is_file()  # the user's own change goes with it
