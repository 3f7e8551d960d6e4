"""The ruler on the image and the calibration it feeds: mm with the calibration named beside
them, a catheter of known French size calibrating an AVI run, the lesion table's mm columns
following, and the calibration restored when the run is opened again."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt
from test_gui_fixtures import FakeAnalysis, run_frames, write_avi_case, write_dicom_case
from viewer_window import WAIT_MS, make_window, open_case, run_analysis

from dsaviewer.gui.calibration_dialog import CalibrationDialog
from dsaviewer.gui.docks.lesion_table import lesion_cells
from dsaviewer.gui.export import exporter
from dsaviewer.gui.export.case_summary import render_summary
from dsaviewer.gui.export.export_actions import frame_as_shown
from dsaviewer.io.calibration import MM_PER_FRENCH, catheter_calibration
from dsaviewer.io.case_state import load_case_state
from dsaviewer.io.writers import write_avi

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def test_a_catheter_calibrates_an_avi_run_for_ruler_and_lesion_table(qtbot, tmp_path,
                                                                     monkeypatch):
    window = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis())
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    run_analysis(qtbot, window)
    assert lesion_cells(window.model.result.lesions[0])[2] == "–"  # no spacing in an AVI
    qtbot.keyClick(window, Qt.Key.Key_M)
    tool = window.calibration.tool
    assert tool.active
    tool.place((10, 20), (22, 20))  # across a 6 Fr catheter, 12 px wide
    assert tool.text().startswith("12.0 px (not calibrated")

    dialog = CalibrationDialog(tool.length_px(), window)
    dialog.french.setValue(6)
    calibration = dialog.result_calibration()
    assert calibration.mm_per_px == pytest.approx((6 * MM_PER_FRENCH / 12,) * 2)
    window.calibration.apply(calibration)

    assert tool.text() == "2.0 mm (0.167 mm/px, catheter 6 Fr (2.00 mm) over 12.0 px)"
    lesion = window.model.result.lesions[0]
    assert lesion.area_mm2 == pytest.approx(lesion.area_px * (2 / 12) ** 2)
    shown = window.analysis_panel.lesions.item(0, 2).text()
    assert shown == f"{lesion.area_mm2:.1f}"
    assert "catheter 6 Fr" in window.statusBar().currentMessage()
    header = window.analysis_panel.lesions.horizontalHeaderItem(2).toolTip()
    assert header.startswith("mm from 0.167 mm/px, catheter 6 Fr")
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert not tool.active

    painted = []  # the summary page names the calibration its millimetres come from
    monkeypatch.setattr(exporter, "render_summary",
                        lambda content: painted.append(content) or render_summary(content))
    with qtbot.waitSignal(window.exporter.finished, timeout=WAIT_MS):
        window.exporter.export_summary(tmp_path / "summary.png", window.model,
                                       frame_as_shown(window, window.model.key_frame))
    assert painted[0].image_caption.endswith(
        "; calibration 0.167 mm/px, catheter 6 Fr (2.00 mm) over 12.0 px")


def saved_calibration(state_file: Path) -> dict | None:
    """The calibration entry of a state.json, read alone: a save in flight may be replacing
    the analysis arrays the file names."""
    if not state_file.is_file():
        return None
    return json.loads(state_file.read_text(encoding="utf-8")).get("calibration")


def assert_lesions_measured_at(window, mm_per_px: float) -> None:
    lesion = window.model.result.lesions[0]
    assert lesion.area_mm2 == pytest.approx(lesion.area_px * mm_per_px**2)
    assert window.analysis_panel.lesions.item(0, 2).text() == f"{lesion.area_mm2:.1f}"


CATHETER_TEXT = "2.0 mm (0.167 mm/px, catheter 6 Fr (2.00 mm) over 12.0 px)"


@pytest.mark.parametrize("where", ["case folder", "loose file"])
def test_a_calibration_is_saved_with_the_run_and_restored_on_reopening(qtbot, tmp_path, where):
    if where == "case folder":
        opened = write_avi_case(tmp_path / "case")
    else:  # a run in a shared folder: its state goes to the per-user folder only
        opened = tmp_path / "shared" / "run.avi"
        write_avi(opened, run_frames(), 5)
    window = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis())
    open_case(qtbot, window, opened)
    run_analysis(qtbot, window)
    tool = window.calibration.tool
    window.calibration.measure_action.trigger()
    tool.place((10, 20), (22, 20))  # across a 6 Fr catheter, 12 px wide
    window.calibration.apply(catheter_calibration(tool.length_px(), 6))
    state_file = window.model.case.location.state_folder / "state.json"
    qtbot.waitUntil(lambda: saved_calibration(state_file) is not None, timeout=WAIT_MS)
    window.close()

    again = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis())
    open_case(qtbot, again, opened)
    assert again.model.calibration.mm_per_px == pytest.approx((2 / 12, 2 / 12))
    again.calibration.measure_action.trigger()
    again.calibration.tool.place((10, 20), (22, 20))
    assert again.calibration.tool.text() == CATHETER_TEXT
    assert again.frame_view._scale_bar is not None  # an AVI has a scale bar only so
    again.frame_view.cursor_moved.emit(20, 12, 100.0)  # row 20, column 12
    assert "(2.0, 3.3 mm)" in again.cursor_label.text()
    header = again.analysis_panel.lesions.horizontalHeaderItem(2).toolTip()
    assert header.startswith("mm from 0.167 mm/px, catheter 6 Fr")
    assert_lesions_measured_at(again, 2 / 12)  # the saved analysis
    run_analysis(qtbot, again)
    assert_lesions_measured_at(again, 2 / 12)  # a new one
    assert again.calibration.remove_action.isEnabled()
    if where == "loose file":
        assert sorted(path.name for path in opened.parent.iterdir()) == ["run.avi"]
    else:  # a person's change: saved in the case folder
        assert (opened / "viewer" / "state.json").is_file()

    again.calibration.remove_action.trigger()  # back to the file's own: none in an AVI
    assert again.model.calibration is None
    assert again.calibration.tool.text().startswith("12.0 px (not calibrated")
    assert again.frame_view._scale_bar is None
    assert again.model.result.lesions[0].area_mm2 is None
    qtbot.waitUntil(lambda: saved_calibration(state_file) is None, timeout=WAIT_MS)
    again.close()  # waits for the saves
    assert load_case_state(again.model.case.location).calibration is None


def test_a_dicom_ruler_is_corrected_for_magnification(qtbot, tmp_path):
    case = write_dicom_case(tmp_path / "case")
    dataset = pydicom.dcmread(case / "video.dcm")
    dataset.ImagerPixelSpacing = [0.3, 0.3]
    dataset.EstimatedRadiographicMagnificationFactor = 1.5
    dataset.save_as(case / "video.dcm")
    window = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis())
    open_case(qtbot, window, case)
    window.calibration.measure_action.trigger()
    window.calibration.tool.place((0, 0), (30, 40))  # 50 px at 0.2 mm/px in the patient
    assert window.calibration.tool.text() == (
        "10.0 mm (0.200 mm/px, DICOM imager spacing ÷ magnification 1.50 (0018,1114))")


def test_the_dialog_refuses_a_catheter_without_a_ruler(qtbot):
    dialog = CalibrationDialog(None)
    qtbot.addWidget(dialog)
    assert not dialog.catheter.isEnabled() and dialog.typed.isChecked()
    dialog.scale.setValue(0.25)
    assert dialog.result_calibration().label == "0.250 mm/px, entered by hand"
