"""Playing a run and looking at a frame in the viewer: the cine keys, playback in order and
at the file's rate, window/level by right-drag, zoom and pan, the cursor readout."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
)
from test_gui_fixtures import (
    FPS,
    N_FRAMES,
    SPACING_MM,
    write_avi_case,
    write_dicom_case,
)
from viewer_window import (
    WAIT_MS,
    make_window,
    open_case,
    press,
    shown_frame,
)

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


# ----- playback -----
def test_keys_step_jump_and_play_pause(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    frames = window.model.case.video.frames
    press(qtbot, window, Qt.Key.Key_Home)
    assert window.cine.index == 0
    press(qtbot, window, Qt.Key.Key_Right)
    press(qtbot, window, Qt.Key.Key_Right)
    assert window.cine.index == 2
    np.testing.assert_array_equal(shown_frame(window), frames[2])
    press(qtbot, window, Qt.Key.Key_Left)
    assert window.cine.index == 1
    press(qtbot, window, Qt.Key.Key_End)
    assert window.cine.index == N_FRAMES - 1
    assert f"{N_FRAMES} / {N_FRAMES}" in window.playback.position_label.text()
    seconds = (N_FRAMES - 1) / FPS
    assert f"{seconds:.2f} s" in window.playback.position_label.text()
    press(qtbot, window, Qt.Key.Key_Space)
    assert window.cine.state.playing
    press(qtbot, window, Qt.Key.Key_Space)
    assert not window.cine.state.playing


def test_playing_shows_every_frame_in_order_and_loops(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    window.playback.fps_box.setValue(100.0)
    window.cine.seek(0)
    shown: list[int] = []
    window.cine.frame_changed.connect(shown.append)
    window.cine.play()
    qtbot.waitUntil(lambda: len(shown) >= N_FRAMES + 3, timeout=WAIT_MS)
    window.cine.pause()
    expected = [(1 + i) % N_FRAMES for i in range(len(shown))]
    assert shown == expected


def test_a_machine_too_slow_for_the_rate_still_shows_every_frame_and_says_so(
        qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    label = window.playback.rate_label
    shown: list[tuple[int, str, str]] = []

    def slow_display(index: int) -> None:  # after the window drew the frame and the bar
        shown.append((index, label.text(), label.styleSheet()))
        time.sleep(0.03)

    window.cine.frame_changed.connect(slow_display)
    window.playback.fps_box.setValue(100.0)
    window.cine.seek(0)
    shown.clear()
    window.cine.play()
    qtbot.waitUntil(lambda: len(shown) >= 8, timeout=WAIT_MS)
    window.cine.pause()
    assert [index for index, _, _ in shown] == list(range(1, len(shown) + 1))  # none skipped
    _, text, style = shown[-1]
    assert float(text.split()[0]) < 40 and "e05050" in style  # the real rate, in red


def test_without_loop_playback_stops_on_the_last_frame(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    window.playback.loop_box.setChecked(False)
    window.playback.fps_box.setValue(100.0)
    window.cine.seek(N_FRAMES - 4)
    with qtbot.waitSignal(window.cine.playing_changed, timeout=WAIT_MS,
                          check_params_cb=lambda playing: not playing):
        window.cine.play()
    assert window.cine.index == N_FRAMES - 1




# ----- image -----
def _drag(widget, button, start: QPoint, end: QPoint, steps: int = 4) -> None:
    """A press-move-release sequence as a hand makes it: QTest's moves carry no buttons, and
    pyqtgraph drops moves closer than 10 ms apart."""
    def send(kind, pos: QPoint, buttons):
        local = QPointF(pos)
        event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, event)

    send(QMouseEvent.Type.MouseButtonPress, start, button)
    for step in range(1, steps + 1):
        QTest.qWait(15)
        send(QMouseEvent.Type.MouseMove, start + (end - start) * step / steps, button)
    send(QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def test_right_drag_windows_like_a_dicom_viewer_and_reset_restores(qtbot, tmp_path,
                                                                  settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    viewport = window.frame_view.viewport()
    centre = window.frame_view.mapFromScene(window.frame_view.view.sceneBoundingRect().center())
    low, high = window.frame_view.window()
    _drag(viewport, Qt.MouseButton.RightButton, centre, centre + QPoint(80, 0))
    wide_low, wide_high = window.frame_view.window()
    assert wide_high - wide_low > high - low  # right: wider
    assert (wide_low + wide_high) / 2 == pytest.approx((low + high) / 2)
    _drag(viewport, Qt.MouseButton.RightButton, centre, centre + QPoint(0, 60))
    moved_low, moved_high = window.frame_view.window()
    assert (moved_low + moved_high) / 2 > (wide_low + wide_high) / 2  # down: higher level
    view_range = window.frame_view.view.viewRange()
    assert window.frame_view.view.viewRange() == view_range  # windowing did not zoom

    window.frame_view.set_window(10, 20)  # the histogram's handles set the same window
    assert window.frame_view.image.levels.tolist() == [10, 20]
    press(qtbot, window, Qt.Key.Key_I)
    assert window.frame_view.inverted
    press(qtbot, window, Qt.Key.Key_R)
    assert not window.frame_view.inverted
    assert window.frame_view.window() == pytest.approx(window.model.case.window)


def test_wheel_zoom_pan_and_fit(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    view = window.frame_view.view
    fitted = np.array(view.viewRange())
    viewport = window.frame_view.viewport()
    centre = window.frame_view.mapFromScene(view.sceneBoundingRect().center())
    for _ in range(3):
        wheel = QWheelEvent(QPointF(centre), QPointF(viewport.mapToGlobal(centre)), QPoint(),
                            QPoint(0, 120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(viewport, wheel)
    (x0, x1), _ = view.viewRange()
    assert x1 - x0 < 0.8 * (fitted[0][1] - fitted[0][0])  # zoomed in
    before = view.viewRange()
    _drag(viewport, Qt.MouseButton.LeftButton, centre, centre + QPoint(40, 0))
    assert view.viewRange()[0][0] < before[0][0]  # the image moved right under the hand
    press(qtbot, window, Qt.Key.Key_F)
    np.testing.assert_allclose(view.viewRange(), fitted)


def test_cursor_readout_names_pixel_value_and_millimetres(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_dicom_case(tmp_path / "case"))
    view = window.frame_view.view
    scene_point = view.mapViewToScene(QPointF(30.5, 20.5))  # column 30, row 20
    window.frame_view._on_mouse_moved(scene_point)
    text = window.cursor_label.text()
    value = int(window.model.case.video.frames[window.cine.index][20, 30])
    assert f"x 30  y 20  value {value}" in text
    assert f"{30 * SPACING_MM[1]:.1f}, {20 * SPACING_MM[0]:.1f} mm" in text
