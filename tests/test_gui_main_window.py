"""The clinician viewer end to end, through the window's widgets, keys and menus
(pytest-qt, offscreen). The analysis is the pipeline's stand-in from test_gui_fixtures, except
in the last test, which runs the real pipeline on tiny random weights."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
)
from test_gui_fixtures import (
    FPS,
    PATIENT,
    SPACING_MM,
    FakeAnalysis,
    run_frames,
    write_avi_case,
    write_dicom_case,
)
from viewer_window import (
    HELD_KEY_FRAME,
    WAIT_MS,
    make_window,
    open_case,
    press,
    run_analysis,
    shown_frame,
)

from dsaviewer.gui.image.scale_bar import MillimetreScaleBar
from dsaviewer.gui.overlays.overlay_layers import DIFFERENCE, LESIONS, LIVER, TUMOR
from dsaviewer.gui.settings import RECENT_FILES, read_strings
from dsaviewer.io.case_state import read_case_state

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


# ----- opening -----
def test_opening_shows_the_key_frame_the_patient_and_the_files_rate(qtbot, tmp_path,
                                                                    settings_path, warnings):
    case = write_dicom_case(tmp_path / "case1")
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, case)
    session = window.model.case
    assert session.key_frame == HELD_KEY_FRAME
    assert window.cine.index == HELD_KEY_FRAME
    np.testing.assert_array_equal(shown_frame(window), session.video.frames[HELD_KEY_FRAME])
    assert window.playback.timeline._key_frame == HELD_KEY_FRAME
    assert "◆ key" in window.playback.position_label.text()
    assert window.playback.fps_box.value() == pytest.approx(FPS)
    assert "Test^Patient" in window.header.text() and "P-0042" in window.header.text()
    assert "case1" in window.windowTitle()
    (x0, x1), _ = window.frame_view.view.viewRange()  # the DICOM states its pixel spacing:
    visible_mm = (x1 - x0) * SPACING_MM[1]  # the scale bar is a round fifth of the view
    label = window.frame_view._scale_bar.text.textItem.toPlainText()
    assert label.endswith(" mm") and visible_mm / 10 < float(label[:-3]) <= visible_mm / 5
    assert warnings == []

    open_case(qtbot, window, write_dicom_case(tmp_path / "case2"))
    bars = [item for item in window.frame_view.scene().items()
            if isinstance(item, MillimetreScaleBar)]
    assert bars == [window.frame_view._scale_bar]  # the first case's bar is gone
    open_case(qtbot, window, write_avi_case(tmp_path / "case3"))
    assert window.frame_view._scale_bar is None  # no spacing in an AVI: no scale


def test_drag_and_drop_and_the_recent_list_open_cases(qtbot, tmp_path, settings_path):
    first, second = write_avi_case(tmp_path / "a"), write_avi_case(tmp_path / "b")
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, first)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(second))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
        window.dropEvent(drop)
    assert window.model.case.location.case_id == "b"
    recent = read_strings(window.settings, RECENT_FILES)
    assert recent == [str(second.absolute()), str(first.absolute())]

    again = make_window(qtbot, settings_path)
    entries = [action for action in again.recent._menu.actions() if action.text().endswith("a")]
    with qtbot.waitSignal(again.case_opened, timeout=WAIT_MS):
        entries[0].trigger()
    assert again.model.case.location.case_id == "a"


@pytest.mark.parametrize("bad", ["corrupt_file", "empty_folder"])
def test_bad_input_explains_why_and_keeps_the_open_case(qtbot, tmp_path, settings_path,
                                                         warnings, bad):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_avi_case(tmp_path / "good"))
    run_analysis(qtbot, window)
    before, shown = window.model.case, shown_frame(window).copy()
    if bad == "corrupt_file":
        target = tmp_path / "broken.avi"
        target.write_bytes(b"RIFF\x00\x00\x00\x00AVI this is not a video")
    else:
        target = tmp_path / "nothing_here"
        target.mkdir()
    with qtbot.waitSignal(window.open_failed, timeout=WAIT_MS) as failure:
        window.open_path(target)
    assert target.name in failure.args[0]
    assert warnings and warnings[-1][0] == "Cannot open" and target.name in warnings[-1][1]
    assert window.model.case is before
    np.testing.assert_array_equal(shown_frame(window), shown)
    assert window.frame_view.overlays.is_shown(TUMOR)
    press(qtbot, window, Qt.Key.Key_Home)
    assert window.cine.index == 0  # still usable




# ----- key frame -----
def test_key_frame_override_is_saved_used_by_analysis_and_restored(qtbot, tmp_path,
                                                                   settings_path):
    fake = FakeAnalysis()
    case = write_avi_case(tmp_path / "case")
    window = make_window(qtbot, settings_path, fake)
    open_case(qtbot, window, case)
    press(qtbot, window, Qt.Key.Key_Home)
    for _ in range(6):
        press(qtbot, window, Qt.Key.Key_Right)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.model.key_frame == 6
    assert window.playback.timeline._key_frame == 6
    assert read_case_state(case / "viewer").key_frame_override == 6
    qtbot.waitUntil(lambda: "key frame 7 " in window.overlay_panel._notes[DIFFERENCE].text())
    run_analysis(qtbot, window)
    assert fake.calls[-1]["key_frame"] == 6 and fake.calls[-1]["source"] == "override"
    press(qtbot, window, Qt.Key.Key_End)
    press(qtbot, window, Qt.Key.Key_K)
    assert window.cine.index == 6  # go to key frame

    again = make_window(qtbot, settings_path, fake)
    open_case(qtbot, again, case)
    assert again.model.key_frame == 6 and again.cine.index == 6
    assert again.model.result is not None and again.model.result.key_frame == 6

    with qtbot.waitSignal(again.state_saved, timeout=WAIT_MS):
        press(qtbot, again, Qt.Key.Key_K,
              Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert again.model.key_frame == HELD_KEY_FRAME
    assert read_case_state(case / "viewer").key_frame_override is None
    assert "run the analysis again" in again.analysis_panel.status.text()


# ----- overlays and lesions -----
def test_overlays_toggle_fade_show_in_the_legend_and_persist(qtbot, tmp_path, settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_dicom_case(tmp_path / "case"))
    layers, panel = window.frame_view.overlays, window.overlay_panel
    assert not layers.is_shown(TUMOR)  # nothing to show before an analysis
    run_analysis(qtbot, window)
    assert layers.is_shown(TUMOR) and layers.is_shown(LIVER) and layers.is_shown(LESIONS)
    tumor_item = layers._images[TUMOR]
    assert tumor_item.image.shape == (96, 96, 4)  # original resolution, same grid as frames
    assert tumor_item.pos() == window.frame_view.image.pos()
    np.testing.assert_array_equal(tumor_item.image[..., 3] > 0, window.model.result.tumor_mask)
    assert tuple(tumor_item.image[30, 62, :3]) == (0, 255, 255)  # cyan on the tumour
    legend = window.frame_view.legend.text
    assert "Tumor mask" in legend and "Liver mask" in legend and "Frame difference" not in legend

    panel.toggles[TUMOR].setChecked(False)
    panel.toggles[DIFFERENCE].setChecked(True)
    panel.sliders[LIVER].setValue(80)
    assert not tumor_item.isVisible() and layers.is_shown(DIFFERENCE)
    assert layers._images[LIVER].opacity() == pytest.approx(0.8)
    legend = window.frame_view.legend.text
    assert "Tumor mask" not in legend and "Frame difference" in legend

    again = make_window(qtbot, settings_path)
    assert not again.overlay_panel.toggles[TUMOR].isChecked()
    assert again.overlay_panel.toggles[DIFFERENCE].isChecked()
    assert again.overlay_panel.sliders[LIVER].value() == 80


def test_lesion_table_lists_sizes_and_a_row_centres_and_highlights_it(qtbot, tmp_path,
                                                                     settings_path):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_dicom_case(tmp_path / "case"))
    run_analysis(qtbot, window)
    table = window.analysis_panel.lesions
    lesions = window.model.result.lesions
    assert table.rowCount() == len(lesions) == 2
    assert table.item(0, 0).text() == "1"
    assert table.item(0, 1).text() == str(lesions[0].area_px)
    assert table.item(0, 2).text() == f"{lesions[0].area_mm2:.1f}"
    assert table.item(0, 3).text() == f"{lesions[0].longest_diameter_mm:.1f}"
    assert table.item(0, 4).text() == "0.90" and table.item(0, 5).text() == "no"
    assert "CPU (stand-in)" in window.analysis_panel.status.text()

    window.frame_view.view.scaleBy((0.3, 0.3))
    table.selectRow(1)
    second = lesions[1]
    (x0, x1), (y0, y1) = window.frame_view.view.viewRange()
    row0, col0, row1, col1 = second.bbox
    assert (x0 + x1) / 2 == pytest.approx((col0 + col1) / 2, abs=0.5)
    assert (y0 + y1) / 2 == pytest.approx((row0 + row1) / 2, abs=0.5)
    assert window.frame_view.overlays._highlighted == 2




# ----- analysis control -----
def test_analysis_runs_off_the_ui_thread_and_can_be_cancelled(qtbot, tmp_path, settings_path):
    gate = threading.Event()
    fake = FakeAnalysis(gate)
    window = make_window(qtbot, settings_path, fake)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    window.run_analysis()
    qtbot.waitUntil(lambda: window.analysis_panel.cancel_button.isVisible())
    assert window.runner.running
    press(qtbot, window, Qt.Key.Key_Right)  # the window answers while the analysis runs
    assert window.cine.index == HELD_KEY_FRAME + 1
    with qtbot.waitSignal(window.runner.cancelled, timeout=WAIT_MS):
        window.analysis_panel.cancel_button.click()
    assert window.model.result is None
    assert window.analysis_panel.status.text() == "Analysis cancelled"
    assert window.analysis_panel.run_button.isEnabled()


def test_analysis_runs_on_open_when_the_preference_says_so(qtbot, tmp_path, settings_path):
    fake = FakeAnalysis()
    window = make_window(qtbot, settings_path, fake, auto_run=True)
    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.open_path(write_avi_case(tmp_path / "case"))
    assert len(fake.calls) == 1 and fake.calls[0]["key_frame"] is None


def test_a_failing_analysis_is_reported_in_the_panel_and_the_case_stays(
        qtbot, tmp_path, settings_path, warnings):
    def broken(video, **options):
        from dsaviewer.errors import InputError

        raise InputError("no weights found", "resources/weights")

    window = make_window(qtbot, settings_path, broken)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    with qtbot.waitSignal(window.runner.failed, timeout=WAIT_MS):
        window.run_analysis()
    assert "no weights found" in window.analysis_panel.status.text()
    assert warnings == []  # no dialog: an automatic run on opening must not interrupt
    assert window.model.case is not None and window.analysis_panel.run_button.isEnabled()


def test_layout_and_preferences_persist_between_sessions(qtbot, settings_path):
    window = make_window(qtbot, settings_path)
    window.findChild(QDockWidget, "Clinical_variables").hide()
    window.analysis_panel.auto_box.setChecked(True)
    window.resize(window.width(), 610)  # the offscreen screen is 800 x 800
    height = window.height()
    window.close()
    again = make_window(qtbot, settings_path, auto_run=None)
    assert not again.findChild(QDockWidget, "Clinical_variables").isVisible()
    assert again.findChild(QDockWidget, "Analysis").isVisible()
    assert again.analysis_panel.auto_box.isChecked()
    assert again.height() == height


# ----- export -----
def test_exports_write_the_frame_with_overlays_and_a_one_page_summary(
        qtbot, tmp_path, settings_path, monkeypatch):
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, write_dicom_case(tmp_path / "case"))
    run_analysis(qtbot, window)
    targets = iter([tmp_path / "frame.png", tmp_path / "summary.png"])
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (str(next(targets)), "PNG (*.png)"))
    with qtbot.waitSignal(window.exporter.finished, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    frame = QImage(str(tmp_path / "frame.png"))
    assert (frame.width(), frame.height()) == (96, 96)
    colour = frame.pixelColor(62, 30)  # the centre of lesion 1: tinted cyan
    assert colour.blue() > colour.red() + 30 and colour.green() > colour.red() + 30
    with qtbot.waitSignal(window.exporter.finished, timeout=WAIT_MS):
        press(qtbot, window, Qt.Key.Key_E,
              Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    summary = QImage(str(tmp_path / "summary.png"))
    assert (summary.width(), summary.height()) == (1240, 1754)
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())  # no leftovers


# ----- the real pipeline -----
def test_the_real_pipeline_runs_from_the_window_on_tiny_weights(qtbot, tmp_path,
                                                                settings_path):
    pytest.importorskip("torch")
    from test_inference_fixtures import write_tiny_weights

    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer

    weights = write_tiny_weights(tmp_path / "weights")
    window = make_window(qtbot, settings_path, PipelineAnalyzer(weights))
    frames = run_frames(n_frames=12, side=128)
    case = write_dicom_case(tmp_path / "case", frames)
    open_case(qtbot, window, case)
    with qtbot.waitSignal(window.analysis_finished, timeout=60_000) as finished:
        window.run_analysis()
    result = finished.args[0]
    assert result.tumor_mask.shape == (128, 128)
    assert result.key_frame == window.model.key_frame  # viewer and pipeline agree
    assert result.prediction is not None
    assert "untrained" in window.analysis_panel.notes.text()
    assert "untrained" in window.response_panel.state.text()  # the call carries the caveat
    window.model.show_out_of_scope = True  # random weights may well look out of scope
    assert "untrained" in window.response_panel.state.text()
    assert window.response_panel.call.text().split(":")[0] in ("Responder", "Non-responder",
                                                                "Borderline")
    assert PATIENT["PatientID"] in window.header.text()
