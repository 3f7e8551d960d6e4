"""``dsaviewer analyze --dicom``: SEG, SR and secondary capture beside the usual results."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pydicom
import pytest
from dicom_validation import dciodvfy_errors, measurement_groups
from highdicom.seg import segread
from test_inference_fixtures import SPACING_MM, synthetic_frames, write_tiny_weights

from dsaviewer.analyze_cli import main
from dsaviewer.inference.result_files import overlay_image
from dsaviewer.io.writers import write_avi, write_dicom_xa


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    # A constant tumor probability of sigmoid(0.4) ~ 0.6 everywhere: lesions exist.
    return write_tiny_weights(tmp_path_factory.mktemp("weights"), tumor_bias=0.4, liver_bias=3)


def test_dicom_run_gets_seg_sr_and_capture_matching_its_results(weights, tmp_path) -> None:
    run = write_dicom_xa(tmp_path / "run.dcm", synthetic_frames(), 7.5, SPACING_MM,
                         patient={"PatientID": "P1", "PatientName": "Doe^Jane"})
    out = tmp_path / "out"
    assert main([str(run), "--out", str(out), "--weights", str(weights), "--dicom",
                 "--backend", "torch", "--device", "cpu"]) == 0

    case = out / "run"
    result = json.loads((case / "result.json").read_text())
    key = result["key_frame"]["used"]
    xa = pydicom.dcmread(run)
    seg = segread(case / "dicom" / "seg.dcm")
    decoded = seg.get_pixels_by_source_frame(xa.SOPInstanceUID, source_frame_numbers=[key + 1],
                                             segment_numbers=[1, 2])
    tumor = cv2.imread(str(case / "tumor.png"), cv2.IMREAD_GRAYSCALE) > 0
    liver = cv2.imread(str(case / "liver.png"), cv2.IMREAD_GRAYSCALE) > 0
    np.testing.assert_array_equal(decoded[0, :, :, 0], tumor)
    np.testing.assert_array_equal(decoded[0, :, :, 1], liver)

    sr = pydicom.dcmread(case / "dicom" / "sr.dcm")
    groups = measurement_groups(sr)
    assert len(result["lesions"]) >= 1
    assert list(groups) == [f"Lesion {lesion['number']}" for lesion in result["lesions"]] + [
        "Analysis"
    ]
    for lesion in result["lesions"]:
        group = groups[f"Lesion {lesion['number']}"]
        assert group["Area"] == (round(lesion["area_mm2"], 6), "mm2")
        assert group["Lesion uncertainty"] == (round(lesion["uncertainty"], 6), "1")
    assert groups["Analysis"]["Probability of response to first TACE"] == (
        round(result["prediction"]["probability"], 6), "1")

    capture = pydicom.dcmread(case / "dicom" / "sc.dcm")
    picture = capture.pixel_array
    assert picture.shape == (*xa.pixel_array.shape[1:], 3)
    # The caption is burned into the bottom rows, where the plain overlay is black border.
    bottom = slice(picture.shape[0] - 12, picture.shape[0])
    plain = overlay_image_from_files(run, key, tumor, liver)
    white = lambda image: (image[bottom].min(axis=-1) > 200).any()  # noqa: E731
    assert white(picture) and not white(plain)
    for name in ("seg.dcm", "sr.dcm", "sc.dcm"):
        assert dciodvfy_errors(case / "dicom" / name) == [], name


def overlay_image_from_files(run, key, tumor, liver) -> np.ndarray:
    from dsaviewer.inference.results import AnalysisResult
    from dsaviewer.io.video import load_video

    video = load_video(run)
    zeros = np.zeros(tumor.shape, np.float32)
    result = AnalysisResult(key, key, "auto", zeros, zeros, tumor, liver, zeros, [], None,
                            "CPU", "torch")
    return overlay_image(video, result)


def test_non_dicom_run_fails_with_the_reason_and_keeps_its_other_results(
    weights, tmp_path, capsys
) -> None:
    run = write_avi(tmp_path / "run.avi", synthetic_frames(), 7.5)
    out = tmp_path / "out"
    assert main([str(run), "--out", str(out), "--weights", str(weights), "--dicom",
                 "--backend", "torch", "--device", "cpu"]) == 1
    assert "not DICOM" in capsys.readouterr().err
    assert (out / "run" / "result.json").is_file()
    assert not (out / "run" / "dicom").exists()


def test_scope_decisions_read_in_words() -> None:
    from dataclasses import dataclass

    from dsaviewer.inference.dicom_results import scope_text

    @dataclass
    class Decision:
        in_scope: bool
        reason: str

    assert scope_text(None) is None
    assert scope_text(Decision(False, "not a hepatic run")) == (
        "outside the models' scope; not a hepatic run")
    assert scope_text("inside") == "inside"
