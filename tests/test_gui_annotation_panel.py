"""The annotation panel in a main window: keyboard shortcuts, buttons, undo/redo keys, and
its state following the editor."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox

from dsaviewer.gui.annotation.dialogs import offer_recovery, run_export
from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.annotation.panel import AnnotationPanel
from dsaviewer.gui.annotation.tools import Tool
from dsaviewer.io.writers import write_frame_folder

SHAPE = (40, 50)


@pytest.fixture
def window(qtbot, tmp_path):
    frames = np.zeros((3, *SHAPE), np.uint8)
    write_frame_folder(tmp_path / "case" / "frames", frames)
    window = QMainWindow()
    view_widget = pg.GraphicsLayoutWidget()
    view = view_widget.addViewBox(lockAspect=True, invertY=True)
    view.addItem(pg.ImageItem(frames[0], axisOrder="row-major"))
    window.setCentralWidget(view_widget)
    editor = MaskEditor(view, window, fallback_recovery_root=tmp_path / "user")
    panel = AnnotationPanel(editor)
    dock = QDockWidget("Annotation")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qtbot.addWidget(window, before_close_func=lambda _window: editor.close_case())
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.case, window.frames, window.editor, window.panel = (
        tmp_path / "case", frames, editor, panel
    )
    return window


def press(window: QMainWindow, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(window.centralWidget(), key, modifiers)


def test_panel_waits_for_a_case_then_follows_the_editor(window):
    panel, editor = window.panel, window.editor
    assert not panel.tool_actions[Tool.BRUSH].isEnabled()
    assert panel.export_action.isEnabled()  # exporting needs no open case
    editor.open_case(window.case, window.frames)
    assert panel.tool_actions[Tool.BRUSH].isEnabled()
    assert panel.tool_actions[Tool.NAVIGATE].isChecked()
    editor.set_tool(Tool.FILL)
    assert panel.tool_actions[Tool.FILL].isChecked()
    editor.set_radius(12)
    assert panel.radius_box.value() == 12
    panel.radius_box.setValue(4)
    assert editor.radius == 4


def test_shortcuts_choose_tools_labels_and_brush_size(window):
    editor = window.editor
    editor.open_case(window.case, window.frames)
    press(window, Qt.Key.Key_B)
    assert editor.tool is Tool.BRUSH
    press(window, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    assert editor.tool is Tool.POLYGON_SUBTRACT
    press(window, Qt.Key.Key_D)
    assert editor.tool is Tool.DELETE_LESION
    press(window, Qt.Key.Key_L)
    assert editor.label == "liver"
    press(window, Qt.Key.Key_T)
    assert editor.label == "tumor"
    radius = editor.radius
    press(window, Qt.Key.Key_BracketRight)
    assert editor.radius == pytest.approx(radius * 1.25)
    press(window, Qt.Key.Key_BracketLeft)
    assert editor.radius == pytest.approx(radius)


def test_buttons_and_undo_redo_keys(window):
    editor, panel = window.editor, window.panel
    editor.open_case(window.case, window.frames)
    prediction = np.zeros(SHAPE, bool)
    prediction[10:20, 10:30] = True
    editor.set_prediction(prediction, ~prediction)
    assert not panel.undo_action.isEnabled()
    panel.accept_action.trigger()
    assert np.array_equal(editor.store.get(0).masks["tumor"], prediction)
    assert panel.undo_action.isEnabled() and panel.undo_action.text() == "Undo Accept model masks"
    assert "unsaved: frame 1)" in panel.save_action.text()  # index 0, counted from 1

    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not editor.store.get(0).masks["tumor"].any()
    assert panel.save_action.text() == "Save labels"
    press(window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert editor.store.get(0).masks["tumor"].any()
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_Z,
          Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert editor.store.get(0).masks["liver"].any()

    editor.set_frame(1)
    panel.copy_previous_action.trigger()
    assert np.array_equal(editor.store.get(1).masks["liver"], ~prediction)
    panel.save_action.trigger()
    assert sorted(p.name for p in (window.case / "labels").iterdir()) == [
        "0000.json", "0000.png", "0001.json", "0001.png"
    ]
    assert not editor.has_unsaved_changes()


def click_message_box_button(qtbot, text: str, seen: list[str]) -> None:
    """Click ``text`` in the next message box that opens, noting its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        (button,) = [b for b in box.buttons() if b.text().replace("&", "") == text]
        button.click()

    QTimer.singleShot(0, click)


def test_recovered_edits_are_offered_and_restored(qtbot, window):
    editor = window.editor
    editor.open_case(window.case, window.frames)
    editor.set_frame(1)
    prediction = np.zeros(SHAPE, bool)
    prediction[5:15, 5:15] = True
    editor.set_prediction(prediction, prediction)
    editor.accept_prediction()
    editor.close_case()  # unsaved: the recovery copy stays

    report = editor.open_case(window.case, window.frames)
    seen: list[str] = []
    click_message_box_button(qtbot, "Restore", seen)
    offer_recovery(window, editor, report)
    assert "frame(s) 2 " in seen[0]  # index 1, counted from 1
    assert np.array_equal(editor.store.get(1).masks["tumor"], prediction)
    assert editor.unsaved_frames() == [1]


def test_export_runs_in_the_background_and_reports(qtbot, window, tmp_path):
    write_frame_folder(tmp_path / "other" / "frames", window.frames)
    seen: list[str] = []
    click_message_box_button(qtbot, "OK", seen)
    run_export(window, [window.case, tmp_path / "other"], tmp_path / "dataset")
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "Exported 2 case(s)" in seen[0]
    assert (tmp_path / "dataset" / "clinical.csv").is_file()
