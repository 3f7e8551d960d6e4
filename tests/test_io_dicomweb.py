"""DICOMweb (QIDO-RS, WADO-RS, STOW-RS) against Orthanc's DICOMweb plugin: the same operations
and failure reports as the DICOM transport."""

from __future__ import annotations

import threading

import numpy as np
import pydicom
import pytest
from orthanc_server import closed_port
from pydicom.uid import generate_uid

from dsaviewer.io.dicomweb import (
    WebNode,
    echo_web,
    find_series_web,
    get_series_web,
    send_files_web,
)
from dsaviewer.io.pacs import PacsError, SeriesQuery
from dsaviewer.io.pacs_cache import PacsCancelled
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa


def test_stow_qido_wado_round_trip(orthanc, tmp_path) -> None:
    web = orthanc.web_node()
    echo_web(web)
    frames = np.random.default_rng(2).integers(0, 4000, (6, 48, 40)).astype(np.uint16)
    run = write_dicom_xa(tmp_path / "run.dcm", frames, 12.0, patient={"PatientID": "WEB-1"})
    assert send_files_web(web, [run]) == [pydicom.dcmread(run).SOPInstanceUID]

    [series] = find_series_web(web, SeriesQuery(patient_id="WEB-1", modality="XA"))
    assert (series.modality, series.number_of_frames, series.number_of_instances) == ("XA", 6, 1)
    assert find_series_web(web, SeriesQuery(patient_id="WEB-1", modality="RF")) == []

    progress = []
    retrieved = get_series_web(web, series.study_uid, series.series_uid, tmp_path / "cache",
                               progress=lambda done, total: progress.append(done))
    assert progress == [1]
    np.testing.assert_array_equal(load_video(retrieved.folder).frames, frames)


def test_cancel_keeps_nothing(orthanc, tmp_path) -> None:
    web = orthanc.web_node()
    run = write_dicom_xa(tmp_path / "run.dcm", np.zeros((3, 16, 16), np.uint8), 5.0,
                         patient={"PatientID": "WEB-2"})
    send_files_web(web, [run])
    [series] = find_series_web(web, SeriesQuery(patient_id="WEB-2"))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(PacsCancelled):
        get_series_web(web, series.study_uid, series.series_uid, tmp_path / "cache",
                       cancel=cancel)
    assert list((tmp_path / "cache").rglob("*.dcm")) == []
    assert list((tmp_path / "cache").rglob(".*")) == []


def test_unknown_series_and_closed_port_say_why(orthanc, tmp_path) -> None:
    with pytest.raises(PacsError, match="HTTP 404|holds no instances"):
        get_series_web(orthanc.web_node(), generate_uid(), generate_uid(), tmp_path / "cache")
    with pytest.raises(PacsError, match="cannot reach"):
        echo_web(WebNode(f"http://127.0.0.1:{closed_port()}/dicom-web", timeout_s=5))
    with pytest.raises(PacsError, match="not an http"):
        WebNode("pacs:8042")
