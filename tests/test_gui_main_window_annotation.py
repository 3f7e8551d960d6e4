"""The mask editor inside the clinician viewer, driven through the real MainWindow (pytest-qt,
offscreen): menus and keys, accepting the model's masks, painting with the mouse, undo/redo
from the Edit menu, per-frame history, saving Labelme files, the questions before closing, and
crash recovery. The analysis is the pipeline's stand-in from test_gui_fixtures."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMessageBox
from test_gui_annotation_panel import click_message_box_button
from test_gui_fixtures import N_FRAMES, SIDE, FakeAnalysis, run_frames, write_avi_case
from viewer_window import WAIT_MS, make_window, open_case, run_analysis

from dsaviewer.core.binary_masks import label_components
from dsaviewer.gui.annotation.tools import Tool
from dsaviewer.gui.app import configure_pyqtgraph
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.overlays.overlay_layers import LIVER, TUMOR
from dsaviewer.io.frame_labels import write_frame_labels
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.recovery import find_recovery, recovery_folder_for, write_recovery_frame

KEY_FRAME = N_FRAMES - 3  # the held frames of test_gui_fixtures.run_frames
# Brush strokes in image coordinates (x, y), clear of the stand-in's two tumours.
STROKE = [(14.5, 40.5), (24.5, 42.5), (36.5, 40.5)]
Question = QMessageBox.StandardButton


@pytest.fixture(autouse=True)
def _private_places(tmp_path):
    """Settings and per-user folders of the test's own; the user's are never touched."""
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    QStandardPaths.setTestModeEnabled(True)
    configure_pyqtgraph()
    yield
    QStandardPaths.setTestModeEnabled(False)


@dataclass
class Questions:
    """The "unsaved mask edits" questions asked, and the answers to give, in order (Discard
    once they run out)."""

    asked: list[str] = field(default_factory=list)
    answers: list[Question] = field(default_factory=list)

    def __call__(self, parent, title, text, *rest) -> Question:
        self.asked.append(text)
        return self.answers.pop(0) if self.answers else Question.Discard


@pytest.fixture
def questions(monkeypatch) -> Questions:
    questions = Questions()
    monkeypatch.setattr(QMessageBox, "question", questions)
    return questions


@pytest.fixture
def window(qtbot, tmp_path, questions) -> MainWindow:
    window = make_window(qtbot, tmp_path / "viewer.ini")
    window.annotation.raise_()  # its tab lies behind the clinical form at first
    qtbot.waitUntil(lambda: window.annotation.panel.isEnabled())
    return window


def image_point(window: MainWindow, x: float, y: float) -> QPoint:
    """The viewport position showing image point (x, y)."""
    view = window.frame_view.view
    return window.frame_view.mapFromScene(view.mapViewToScene(QPointF(x, y)))


def mouse_drag(window: MainWindow, button: Qt.MouseButton, points: list[tuple[float, float]]):
    """Press, move through ``points`` and release, with the button held in every move as a
    hand does it (QTest's moves carry no buttons; pyqtgraph drops moves < 10 ms apart)."""
    viewport = window.frame_view.viewport()

    def send(kind, point: QPoint, buttons) -> None:
        event = QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), button,
                            buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)

    positions = [image_point(window, x, y) for x, y in points]
    send(QMouseEvent.Type.MouseButtonPress, positions[0], button)
    for position in positions[1:]:
        QTest.qWait(15)
        send(QMouseEvent.Type.MouseMove, position, button)
    send(QMouseEvent.Type.MouseButtonRelease, positions[-1], Qt.MouseButton.NoButton)


def menu_actions(window: MainWindow, title: str) -> list[QAction]:
    (menu,) = [action.menu() for action in window.menuBar().actions()
               if action.text().replace("&", "") == title]
    return [action for action in menu.actions() if not action.isSeparator()]


def masks_now(window: MainWindow) -> dict[str, np.ndarray]:
    editor = window.annotation.editor
    return {label: mask.copy() for label, mask in editor.store.get(editor.frame).masks.items()}


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


def key(qtbot, window: MainWindow, code: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, code, modifiers)


# ----- menus and keys -----
def test_menus_hold_the_editors_actions_and_no_two_keys_clash(qtbot, tmp_path, questions):
    window = make_window(qtbot, tmp_path / "viewer.ini")
    panel, editor = window.annotation.panel, window.annotation.editor
    file_menu = menu_actions(window, "File")
    assert {panel.save_action, panel.import_action, panel.export_action} <= set(file_menu)
    assert panel.save_action.shortcut().toString() == "Ctrl+S"
    assert menu_actions(window, "Edit") == [panel.undo_action, panel.redo_action]
    shortcuts = Counter(sequence.toString() for action in window.findChildren(QAction)
                        for sequence in action.shortcuts())
    assert {"Space", "Left", "K", "F", "B", "E", "T", "L", "Ctrl+Z", "Ctrl+S"} <= set(shortcuts)
    assert [sequence for sequence, count in shortcuts.items() if count > 1] == []

    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    key(qtbot, window, Qt.Key.Key_B)  # the panel's tab is behind the clinical form: no tool
    assert editor.tool is Tool.NAVIGATE
    window.annotation.raise_()
    qtbot.waitUntil(panel.isEnabled)
    key(qtbot, window, Qt.Key.Key_B)
    assert editor.tool is Tool.BRUSH
    key(qtbot, window, Qt.Key.Key_L)
    assert editor.label == "liver"
    key(qtbot, window, Qt.Key.Key_Right)  # the viewer's keys still work beside the editor's
    assert window.cine.index == KEY_FRAME + 1 == editor.frame
    window.findChild(QDockWidget, "Clinical_variables").raise_()
    qtbot.waitUntil(lambda: editor.tool is Tool.NAVIGATE)  # a hidden tool never paints


def test_escape_cancels_a_polygon_first_and_the_analysis_after(qtbot, tmp_path, questions):
    gate = threading.Event()
    window = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis(gate))
    window.annotation.raise_()
    qtbot.waitUntil(window.annotation.panel.isEnabled)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    editor = window.annotation.editor
    window.run_analysis()
    key(qtbot, window, Qt.Key.Key_P)
    for corner in [(10, 10), (50, 10), (50, 40)]:
        QTest.mouseClick(window.frame_view.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, image_point(window, *corner))
    assert len(editor.polygon) == 3
    QTest.keyClick(window.frame_view.viewport(), Qt.Key.Key_Escape)
    assert editor.polygon == [] and window.runner.running
    with qtbot.waitSignal(window.runner.cancelled, timeout=WAIT_MS):
        QTest.keyClick(window.frame_view.viewport(), Qt.Key.Key_Escape)


# ----- editing -----
def test_accept_paint_undo_redo_across_frames_and_save_labelme(qtbot, window, tmp_path):
    case = write_avi_case(tmp_path / "case")
    open_case(qtbot, window, case)
    run_analysis(qtbot, window)
    annotation, editor, panel = window.annotation, window.annotation.editor, window.annotation.panel
    result = window.model.result
    assert window.cine.index == KEY_FRAME == editor.frame

    panel.accept_action.trigger()
    accepted = masks_now(window)
    np.testing.assert_array_equal(accepted["tumor"], result.tumor_mask)
    np.testing.assert_array_equal(accepted["liver"], result.liver_mask)
    assert "Tumor annotation" in window.frame_view.legend.text

    view_range = window.frame_view.view.viewRange()
    key(qtbot, window, Qt.Key.Key_B)
    layers = window.frame_view.overlays
    assert not layers.is_shown(TUMOR) and not layers.is_shown(LIVER)  # only the edits drawn
    assert "Tumor mask" not in window.frame_view.legend.text
    editor.set_radius(2)
    mouse_drag(window, Qt.MouseButton.LeftButton, STROKE)
    painted = masks_now(window)
    for x, y in STROKE:
        assert painted["tumor"][int(y), int(x)] and not accepted["tumor"][int(y), int(x)]
    assert label_components(painted["tumor"])[0] == label_components(accepted["tumor"])[0] + 1
    assert (painted["tumor"] >= accepted["tumor"]).all()  # the brush only added
    assert window.frame_view.view.viewRange() == view_range  # the brush did not pan

    low_high = window.frame_view.window()
    centre = (48.5, 20.5)
    mouse_drag(window, Qt.MouseButton.RightButton, [centre, (68.5, 20.5)])
    assert window.frame_view.window() != low_high  # right-drag still windows
    np.testing.assert_array_equal(masks_now(window)["tumor"], painted["tumor"])

    undo, redo = menu_actions(window, "Edit")
    undo.trigger()
    np.testing.assert_array_equal(masks_now(window)["tumor"], accepted["tumor"])
    redo.trigger()
    np.testing.assert_array_equal(masks_now(window)["tumor"], painted["tumor"])

    key(qtbot, window, Qt.Key.Key_Right)
    assert editor.frame == KEY_FRAME + 1 and not undo.isEnabled()  # its own, empty history
    assert editor.store.get(KEY_FRAME + 1) is None
    key(qtbot, window, Qt.Key.Key_Left)
    assert undo.isEnabled() and undo.text() == "Undo Brush (tumor)"
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(masks_now(window)["tumor"], accepted["tumor"])
    key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    edited = masks_now(window)
    np.testing.assert_array_equal(edited["tumor"], painted["tumor"])

    key(qtbot, window, Qt.Key.Key_N)
    assert layers.is_shown(TUMOR) and "Tumor mask" in window.frame_view.legend.text
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert not editor.has_unsaved_changes()
    saved = read_labelme(case / "labels" / f"{KEY_FRAME:04d}.json")
    assert saved.is_key_frame and saved.image_shape == edited["tumor"].shape
    for label in ("tumor", "liver"):  # outlines with the fewest corners within IoU 0.99
        assert iou(saved.masks[label], edited[label]) >= 0.99, label
    assert sorted(path.name for path in (case / "labels").iterdir()) == [
        f"{KEY_FRAME:04d}.json", f"{KEY_FRAME:04d}.png"]
    assert "Saved 1 frame(s)" in window.statusBar().currentMessage()
    annotation.confirm_close()  # nothing unsaved: no question


def test_navigate_pans_with_the_left_button_and_paints_nothing(qtbot, window, tmp_path):
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    view = window.frame_view.view
    view.scaleBy((0.5, 0.5))
    before = view.viewRange()
    mouse_drag(window, Qt.MouseButton.LeftButton, [(40.5, 48.5), (50.5, 48.5), (60.5, 48.5)])
    assert view.viewRange()[0][0] < before[0][0]  # the image followed the hand
    assert window.annotation.editor.store.get(KEY_FRAME) is None


# ----- closing, opening another case, crash recovery -----
def test_closing_or_opening_another_case_asks_about_unsaved_edits(qtbot, window, tmp_path,
                                                                 questions):
    case = write_avi_case(tmp_path / "case")
    open_case(qtbot, window, case)
    editor = window.annotation.editor
    key(qtbot, window, Qt.Key.Key_B)
    mouse_drag(window, Qt.MouseButton.LeftButton, STROKE)
    painted = masks_now(window)["tumor"]

    questions.answers.extend([Question.Cancel, Question.Cancel])
    assert not window.close()
    assert window.isVisible() and editor.unsaved_frames() == [KEY_FRAME]
    window.open_path(write_avi_case(tmp_path / "other"))  # cancelled: nothing opens
    assert window.model.case.location.case_id == "case" and editor.is_open
    assert len(questions.asked) == 2 and f"Frame(s) {KEY_FRAME + 1} " in questions.asked[0]

    questions.answers.append(Question.Save)
    open_case(qtbot, window, tmp_path / "other")
    assert window.model.case.location.case_id == "other" and editor.is_open
    saved = read_labelme(case / "labels" / f"{KEY_FRAME:04d}.json")
    assert iou(saved.masks["tumor"], painted) >= 0.99

    mouse_drag(window, Qt.MouseButton.LeftButton, STROKE)
    editor.save_recovery_now()
    editor.wait_for_recovery_writes()
    assert find_recovery(tmp_path / "other") is not None
    questions.answers.append(Question.Discard)
    assert window.close()
    assert find_recovery(tmp_path / "other") is None  # discarded: not offered again
    assert not (tmp_path / "other" / "labels").exists()


def test_edits_left_by_a_crash_are_offered_and_restored(qtbot, window, tmp_path):
    case = write_avi_case(tmp_path / "case")
    lost = np.zeros((96, 96), bool)
    lost[20:30, 40:55] = True
    write_recovery_frame(recovery_folder_for(case), 5, {"tumor": lost, "liver": ~lost})

    seen: list[str] = []
    click_message_box_button(qtbot, "Restore", seen)
    open_case(qtbot, window, case)
    editor = window.annotation.editor
    qtbot.waitUntil(lambda: editor.unsaved_frames() == [5], timeout=WAIT_MS)
    assert "frame(s) 6 " in seen[0]  # frame index 5, as people count
    window.cine.seek(5)
    np.testing.assert_array_equal(masks_now(window)["tumor"], lost)
    np.testing.assert_array_equal(masks_now(window)["liver"], ~lost)
    assert "Liver annotation" in window.frame_view.legend.text
    assert "Save labels (unsaved: frame 6)" in window.annotation.panel.save_action.text()
    assert window.playback.position_label.text().startswith("Frame 6 /")


def test_label_file_problems_stop_an_annotator_but_not_a_clinician(qtbot, tmp_path, questions,
                                                                  monkeypatch):
    boxes: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: boxes.append(box.text()))
    case = write_avi_case(tmp_path / "case")
    (case / "labels").mkdir()
    (case / "labels" / "0003.json").write_text("{ not json", encoding="utf-8")
    window = make_window(qtbot, tmp_path / "viewer.ini")  # the annotation tab behind
    open_case(qtbot, window, case)
    qtbot.waitUntil(lambda: "problem(s) with the label files" in
                    window.statusBar().currentMessage(), timeout=WAIT_MS)
    assert "0003.json" in window.statusBar().currentMessage() and boxes == []

    window.annotation.raise_()
    qtbot.waitUntil(window.annotation.panel.isEnabled)
    open_case(qtbot, window, case)
    qtbot.waitUntil(lambda: bool(boxes), timeout=WAIT_MS)
    assert "1 problem(s) with the case's label files" in boxes[0]


def test_frame_export_shows_the_edited_masks_the_screen_shows(qtbot, window, tmp_path,
                                                             monkeypatch):
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    editor = window.annotation.editor
    key(qtbot, window, Qt.Key.Key_B)
    editor.set_radius(2)
    mouse_drag(window, Qt.MouseButton.LeftButton, STROKE)  # not saved: the export still has it
    assert editor.has_unsaved_changes()
    targets = iter([tmp_path / "editing.png", tmp_path / "viewing.png"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(next(targets)), "PNG (*.png)"))

    def export() -> QImage:
        with qtbot.waitSignal(window.exporter.finished, timeout=WAIT_MS) as written:
            key(qtbot, window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        return QImage(written.args[0])

    editing = export()
    x, y = STROKE[1]
    painted = editing.pixelColor(int(x), int(y))  # tinted with the tumor annotation's violet
    assert painted.blue() > painted.green() + 40 and painted.red() > painted.green() + 20
    window.findChild(QDockWidget, "Clinical_variables").raise_()  # the editor's tab behind
    qtbot.waitUntil(lambda: not window.annotation.panel.isEnabled())
    viewing = export()
    grey = viewing.pixelColor(int(x), int(y))  # hidden edits are not exported (no analysis)
    assert grey.red() == grey.green() == grey.blue()
    assert editor.has_unsaved_changes()  # exporting changed nothing the annotator made


def test_the_timeline_marks_labelled_frames_saved_and_unsaved(qtbot, window, tmp_path):
    case = write_avi_case(tmp_path / "case")
    labels = case / "labels"
    labels.mkdir()
    liver = np.zeros((SIDE, SIDE), bool)
    liver[10:40, 10:40] = True
    write_frame_labels(labels, 2, run_frames()[2], {"liver": liver, "tumor": liver & False})
    open_case(qtbot, window, case)
    timeline = window.playback.timeline
    assert timeline.saved_frames == {2} and timeline.unsaved_frames == set()
    key(qtbot, window, Qt.Key.Key_B)
    mouse_drag(window, Qt.MouseButton.LeftButton, STROKE)
    edited = window.cine.index
    assert timeline.unsaved_frames == {edited} and edited not in timeline.saved_frames
    key(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert timeline.unsaved_frames == set() and timeline.saved_frames == {2, edited}
    image = timeline.grab().toImage()
    x = timeline.frame_x(2)
    marks = [image.pixelColor(x, y) for y in range(image.height() - 5, image.height())]
    assert any(c.green() > 150 and c.red() < 100 for c in marks)  # the saved mark is drawn
