"""The hospital round trip against a real Orthanc, cross-checked with dcmtk: a run stored with
storescu is found, retrieved and analysed; its SEG, SR and secondary capture are sent back
with ``dsaviewer pacs send`` and then found by both findscu and ``dsaviewer pacs find``."""

from __future__ import annotations

import json
import re
import subprocess

import cv2
import numpy as np
import pydicom
from highdicom.seg import segread
from orthanc_server import OUR_AET, dcmtk_binary
from test_inference_fixtures import SPACING_MM, synthetic_frames, write_tiny_weights

from dsaviewer.analyze_cli import main as analyze
from dsaviewer.cli import main as dsaviewer
from dsaviewer.io.writers import write_dicom_xa


def test_store_find_get_analyse_send_find(orthanc, tmp_path, capsys) -> None:
    run = write_dicom_xa(tmp_path / "run.dcm", synthetic_frames(), 7.5, SPACING_MM,
                         patient={"PatientID": "TRIP-1", "PatientName": "Round^Trip"})
    node = ["--host", "127.0.0.1", "--port", str(orthanc.dicom_port), "--called-aet", "ORTHANC"]
    subprocess.run([dcmtk_binary("storescu"), "-aet", OUR_AET, "-aec", "ORTHANC", "127.0.0.1",
                    str(orthanc.dicom_port), str(run)], check=True, capture_output=True,
                   timeout=60)

    assert dsaviewer(["pacs", "find", *node, "--patient-id", "TRIP-1", "--json"]) == 0
    [series] = json.loads(capsys.readouterr().out)
    assert (series["Modality"], series["NumberOfFrames"]) == ("XA", 16)
    study = series["StudyInstanceUID"]

    assert dsaviewer(["pacs", "get", *node, "--series", series["SeriesInstanceUID"],
                      "--out", str(tmp_path / "cache")]) == 0
    folder = tmp_path / "cache" / study / series["SeriesInstanceUID"]
    assert capsys.readouterr().out.strip() == str(folder)

    weights = write_tiny_weights(tmp_path / "weights", tumor_bias=0.4, liver_bias=3)
    assert analyze([str(folder), "--out", str(tmp_path / "out"), "--weights", str(weights),
                    "--backend", "torch", "--device", "cpu", "--dicom"]) == 0
    results = tmp_path / "out" / folder.name / "dicom"
    assert dsaviewer(["pacs", "send", *node, str(results)]) == 0
    assert "stored 3 file(s)" in capsys.readouterr().out

    listed = subprocess.run(
        [dcmtk_binary("findscu"), "-S", "-aet", OUR_AET, "-aec", "ORTHANC",
         "-k", "QueryRetrieveLevel=SERIES", "-k", f"StudyInstanceUID={study}", "-k", "Modality",
         "127.0.0.1", str(orthanc.dicom_port)],
        capture_output=True, text=True, timeout=60, check=True)
    modalities = re.findall(r"\(0008,0060\) CS \[(\w+) ?\]", listed.stdout + listed.stderr)
    assert sorted(modalities) == ["OT", "SEG", "SR", "XA"]

    assert dsaviewer(["pacs", "find", *node, "--study", study, "--json"]) == 0
    found = {item["Modality"]: item for item in json.loads(capsys.readouterr().out)}
    assert sorted(found) == ["OT", "SEG", "SR", "XA"]
    # The SEG that went through the PACS still decodes to the analysis' tumor mask.
    assert dsaviewer(["pacs", "get", *node, "--series", found["SEG"]["SeriesInstanceUID"],
                      "--study", study, "--out", str(tmp_path / "cache")]) == 0
    seg_folder = capsys.readouterr().out.strip()
    [seg_file] = list((tmp_path / "cache" / study).glob(
        f"{found['SEG']['SeriesInstanceUID']}/*.dcm"))
    assert str(seg_file.parent) == seg_folder
    key = json.loads((results.parent / "result.json").read_text())["key_frame"]["used"]
    source = pydicom.dcmread(sorted(folder.iterdir())[0], stop_before_pixels=True)
    tumor = segread(seg_file).get_pixels_by_source_frame(
        source.SOPInstanceUID, source_frame_numbers=[key + 1], segment_numbers=[1])[0, :, :, 0]
    expected = cv2.imread(str(results.parent / "tumor.png"), cv2.IMREAD_GRAYSCALE) > 0
    np.testing.assert_array_equal(tumor, expected)
