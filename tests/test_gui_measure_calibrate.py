"""The ruler on the image and the calibration it feeds: mm with the calibration named beside
them, a catheter of known French size calibrating an AVI run, and the lesion table's mm
columns following."""

from __future__ import annotations

import pydicom
import pytest
from PySide6.QtCore import Qt
from test_gui_fixtures import FakeAnalysis, write_avi_case, write_dicom_case
from test_gui_main_window import make_window, open_case, run_analysis

from dsaviewer.gui.calibration_dialog import CalibrationDialog
from dsaviewer.gui.docks.lesion_table import lesion_cells
from dsaviewer.io.calibration import MM_PER_FRENCH

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def test_a_catheter_calibrates_an_avi_run_for_ruler_and_lesion_table(qtbot, tmp_path):
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
