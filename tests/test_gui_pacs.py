"""The viewer's PACS side, driven with pytest-qt against a real Orthanc: node preferences with
C-ECHO, the PACS dialog (search, retrieve with progress, open), Export to DICOM and Send
results to PACS."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from highdicom.seg import segread
from PySide6.QtCore import QSettings, Qt
from test_gui_fixtures import PATIENT, write_avi_case, write_dicom_case
from viewer_window import make_window, open_case, run_analysis

from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.pacs.nodes import NamedNode, read_nodes, write_nodes
from dsaviewer.io.pacs import SeriesQuery, find_series
from dsaviewer.io.pacs_send import send_files

WAIT_MS = 20_000


# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def make_pacs_window(qtbot, tmp_path: Path, orthanc=None) -> MainWindow:
    """The viewer with ``orthanc`` as its one PACS node, and a cache of the test's own."""
    settings_path = tmp_path / "viewer.ini"
    if orthanc is not None:
        settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        write_nodes(settings, [NamedNode("Test PACS", "ORTHANC", "127.0.0.1",
                                         orthanc.dicom_port)])
        settings.sync()
    window = make_window(qtbot, settings_path)
    window.pacs.cache_dir = tmp_path / "cache"
    return window


def open_and_analyse(qtbot, window: MainWindow, path: Path) -> None:
    open_case(qtbot, window, path)
    run_analysis(qtbot, window)


def test_node_preferences_store_valid_nodes_and_echo_them(qtbot, tmp_path, orthanc) -> None:
    window = make_pacs_window(qtbot, tmp_path)
    dialog = window.pacs.edit_nodes()
    dialog.add_row(NamedNode("Bad", "ORTHANC", "127.0.0.1", 0))
    dialog.accept()
    assert "row 1" in dialog.status.text() and "port 0" in dialog.status.text()
    assert read_nodes(window.settings) == []

    dialog.table.item(0, 3).setText(str(orthanc.dicom_port))
    dialog.table.selectRow(0)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: "answered C-ECHO" in dialog.status.text(), timeout=WAIT_MS)
    dialog.accept()
    assert read_nodes(window.settings) == [
        NamedNode("Bad", "ORTHANC", "127.0.0.1", orthanc.dicom_port)]


def test_search_retrieve_and_open_a_series(qtbot, tmp_path, orthanc) -> None:
    run = write_dicom_case(tmp_path / "source") / "video.dcm"
    dataset = pydicom.dcmread(run)
    dataset.PatientID = "GUI-1"
    dataset.save_as(run)
    send_files(orthanc.node(), [run])
    window = make_pacs_window(qtbot, tmp_path, orthanc)
    dialog = window.pacs.open_dialog()
    dialog.patient_id.setText("GUI-1")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert dialog.table.item(0, 4).text() == str(dataset.NumberOfFrames)
    assert not dialog.retrieve_button.isEnabled()

    dialog.table.selectRow(0)
    with qtbot.waitSignal(dialog.retrieved, timeout=WAIT_MS) as retrieved:
        dialog.retrieve_button.click()
    folder = retrieved.args[0].folder
    assert folder.parent.parent == tmp_path / "cache"
    with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.model.case.video.frames,
                                  pydicom.dcmread(run).pixel_array)


def test_search_without_a_reachable_node_shows_why(qtbot, tmp_path, orthanc) -> None:
    window = make_pacs_window(qtbot, tmp_path)
    write_nodes(window.settings, [NamedNode("Wrong", "NOT-THERE", "127.0.0.1",
                                            orthanc.dicom_port)])
    dialog = window.pacs.open_dialog()
    dialog.search_button.click()
    assert not dialog.search_button.isEnabled()  # one search at a time
    qtbot.waitUntil(dialog.search_button.isEnabled, timeout=WAIT_MS)
    assert "refused the association" in dialog.status.text()


def test_export_to_dicom_writes_a_seg_of_the_shown_result(qtbot, tmp_path) -> None:
    window = make_pacs_window(qtbot, tmp_path)
    open_and_analyse(qtbot, window, write_dicom_case(tmp_path / "case"))
    window.pacs.export_to(tmp_path / "export")
    qtbot.waitUntil(lambda: "Wrote 3 DICOM objects" in window.statusBar().currentMessage(),
                    timeout=WAIT_MS)
    result = window.model.result
    source = pydicom.dcmread(tmp_path / "case" / "video.dcm")
    seg = segread(tmp_path / "export" / "dicom" / "seg.dcm")
    tumor = seg.get_pixels_by_source_frame(source.SOPInstanceUID,
                                           source_frame_numbers=[result.key_frame + 1],
                                           segment_numbers=[1])[0, :, :, 0]
    np.testing.assert_array_equal(tumor, result.tumor_mask)
    assert seg.PatientID == PATIENT["PatientID"]


def test_export_of_a_non_dicom_run_says_why(qtbot, tmp_path, warnings) -> None:
    window = make_pacs_window(qtbot, tmp_path)
    open_and_analyse(qtbot, window, write_avi_case(tmp_path / "case"))
    window.pacs.export_to(tmp_path / "export")
    qtbot.waitUntil(lambda: bool(warnings), timeout=WAIT_MS)
    assert warnings[0][0] == "Export to DICOM" and "not DICOM" in warnings[0][1]
    assert not (tmp_path / "export").exists()


def test_send_results_to_pacs(qtbot, tmp_path, orthanc) -> None:
    window = make_pacs_window(qtbot, tmp_path, orthanc)
    open_and_analyse(qtbot, window, write_dicom_case(tmp_path / "case"))
    window.pacs.send_to(0)
    qtbot.waitUntil(lambda: "Sent 3 DICOM objects" in window.statusBar().currentMessage(),
                    timeout=WAIT_MS)
    study = pydicom.dcmread(tmp_path / "case" / "video.dcm").StudyInstanceUID
    found = find_series(orthanc.node(), SeriesQuery(study_uid=study))
    assert sorted(series.modality for series in found) == ["OT", "SEG", "SR"]
