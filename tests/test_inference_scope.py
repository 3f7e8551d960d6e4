"""The scope decision: what the file says (modality, region, subtraction) and what the image
says, in the pipeline, result.json, summary.csv and the command line's exit status."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from test_inference_fixtures import synthetic_frames, write_tiny_weights

from dsaviewer.analyze_cli import main
from dsaviewer.core.difference import frame_difference
from dsaviewer.core.subtraction import subtract_mask
from dsaviewer.inference.backend import load_backend
from dsaviewer.inference.pipeline import analyze
from dsaviewer.inference.scope import OutOfScopeError, file_scope
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa
from dsaviewer.resources import weights_dir

US_FILE = "US-MONO2-8-8x-execho.dcm"
XA_FILE = "XA-MONO2-8-12x-catheter.dcm"
MR_FILE = "emri_small.dcm"


@pytest.fixture(scope="module")
def shipped_models():
    if not (weights_dir() / "manifest.json").is_file():
        pytest.skip(f"no shipped weights in {weights_dir()}")
    return load_backend(None, "torch", "cpu")


@pytest.mark.parametrize(
    ("modality", "plain_name"),
    [("US", "ultrasound"), ("MR", "MR (magnetic resonance)"), ("CT", "CT"),
     ("DX", "plain radiograph"), ("OT", "file of Modality OT")],
)
def test_a_modality_that_is_not_angiography_is_refused_in_plain_words(
    modality: str, plain_name: str
) -> None:
    with pytest.raises(OutOfScopeError) as caught:
        file_scope({"Modality": modality, "StudyDescription": "Abdomen"}, "run.dcm")
    message = str(caught.value)
    assert plain_name in message and f"Modality {modality}" in message
    assert "can still be viewed" in message and "\"Abdomen\"" in message
    assert caught.value.source == "run.dcm"


@pytest.mark.parametrize("modality", ["XA", "RF", "xa", ""])
def test_angiography_or_no_modality_is_not_refused(modality: str) -> None:
    assert file_scope({"Modality": modality}) == []


@pytest.mark.parametrize(
    ("metadata", "region"),
    [
        ({"StudyDescription": "Cardiac Catheterization"}, "heart / coronary"),
        ({"SeriesDescription": "LCA RAO 30"}, "heart / coronary"),
        ({"SeriesDescription": "Coronary angiography LAD"}, "heart / coronary"),
        ({"BodyPartExamined": "HEAD"}, "head / cerebral"),
        ({"ProtocolName": "Carotid left ICA"}, "head / cerebral"),
        ({"StudyDescription": "Peripheral run-off, both legs"}, "peripheral"),
        ({"BodyPartExamined": "KIDNEY"}, "kidneys / renal"),
        ({"SeriesDescription": "Renal arteriography"}, "kidneys / renal"),
        ({"StudyDescription": "Hepatic arteriography", "SeriesDescription": "celiac DSA"}, None),
        ({"StudyDescription": "TACE", "SeriesDescription": "renal function impaired"}, None),
        ({"StudyDescription": "Abdomen DSA"}, None),
    ],
)
def test_descriptions_naming_another_region_flag_the_run(
    metadata: dict[str, str], region: str | None
) -> None:
    reasons = file_scope({"Modality": "XA", **metadata})
    if region is None:
        assert reasons == []
    else:
        assert len(reasons) == 1 and region in reasons[0] and "not the liver" in reasons[0]
        assert next(iter(metadata.values())) in reasons[0]


def test_a_run_stored_unsubtracted_without_a_mask_is_flagged() -> None:
    reasons = file_scope({"Modality": "XA", "RecommendedViewingMode": "SUB"})
    assert len(reasons) == 1 and "unsubtracted" in reasons[0] and "no mask" in reasons[0]
    assert file_scope({"Modality": "XA", "RecommendedViewingMode": "NAT"}) == []
    assert file_scope({"Modality": "XA", "ImageType": "ORIGINAL\\PRIMARY\\SINGLE PLANE"}) == []


def test_a_native_run_with_its_mask_is_subtracted_before_the_analysis(tmp_path: Path) -> None:
    frames = synthetic_frames()
    background = np.linspace(60, 140, frames.shape[2], dtype=np.float32)[None, None, :]
    # Native: the anatomy's ramp under the stain, inside the field; the border stays black.
    native = np.where(frames > 0, frames.astype(np.float32) * 0.5 + background, 0)
    native = np.clip(native, 0, 255).astype(np.uint8)
    mask = Dataset()
    mask.MaskOperation = "AVG_SUB"
    mask.MaskFrameNumbers = [1, 2]
    path = write_dicom_xa(tmp_path / "native.dcm", native, fps=7.5, patient={
        "RecommendedViewingMode": "SUB", "MaskSubtractionSequence": Sequence([mask])})
    video = load_video(path)
    assert video.metadata["MaskFrameNumbers"] == "1\\2"
    assert file_scope(video.metadata) == []

    result = analyze(video, weights=write_tiny_weights(tmp_path / "weights"))
    assert any("subtracted with its mask frame(s) 1, 2" in note for note in result.notes)
    expected = subtract_mask(native, [0, 1], 255)
    np.testing.assert_array_equal(
        result.frame_difference, frame_difference(expected, result.key_frame))


@pytest.mark.parametrize(("name", "words"), [(US_FILE, "ultrasound"), (MR_FILE, "MR")])
def test_real_non_angiography_files_are_refused_before_analysis(
    shared_dicom_dir: Path, shipped_models, name: str, words: str
) -> None:
    with pytest.raises(OutOfScopeError, match=words) as caught:
        analyze(shared_dicom_dir / name, weights=shipped_models)
    assert "not an X-ray angiography run" in str(caught.value)
    assert "border" not in str(caught.value)  # the old technical message is gone


def test_the_real_cardiac_run_is_analysed_but_out_of_scope(
    shared_dicom_dir: Path, shipped_models
) -> None:
    result = analyze(shared_dicom_dir / XA_FILE, weights=shipped_models)
    assert result.scope is not None and not result.scope.in_scope
    assert any("heart / coronary" in reason for reason in result.scope.reasons)
    assert result.scope.score is None or 0.0 <= result.scope.score <= 1.0
    assert "scope" in result.timings_ms


@pytest.mark.parametrize("name", [XA_FILE, US_FILE])
def test_real_non_liver_runs_are_flagged_by_the_image_alone(
    shared_dicom_dir: Path, shipped_models, name: str
) -> None:
    """As an AVI would arrive, without a word of metadata: the image classifier alone puts
    the native cardiac run and the echo outside the scope."""
    import dataclasses

    video = dataclasses.replace(load_video(shared_dicom_dir / name), metadata={})
    scope = analyze(video, weights=shipped_models).scope
    assert not scope.in_scope
    assert len(scope.reasons) == 1 and "does not look like a liver" in scope.reasons[0]


def test_cli_refuses_flags_and_goes_on_with_the_batch(
    shared_dicom_dir: Path, tmp_path: Path, capsys
) -> None:
    if not (weights_dir() / "manifest.json").is_file():
        pytest.skip(f"no shipped weights in {weights_dir()}")
    out = tmp_path / "out"
    paths = [str(shared_dicom_dir / name) for name in (US_FILE, XA_FILE, MR_FILE)]
    status = main([*paths, "--out", str(out), "--backend", "torch", "--device", "cpu"])

    assert status == 1  # two files were refused
    printed = capsys.readouterr()
    assert "[1/3] US-MONO2-8-8x-execho: REFUSED: not analysed: this is an ultrasound file" in (
        printed.out
    )
    assert "[2/3] XA-MONO2-8-12x-catheter: OUT OF SCOPE: " in printed.out
    assert "refused: emri_small" in printed.err
    with (out / "summary.csv").open(newline="") as handle:
        rows = {row["case_id"]: row for row in csv.DictReader(handle)}
    assert [rows[Path(p).stem]["status"] for p in paths] == ["refused", "ok", "refused"]
    assert [rows[Path(p).stem]["in_scope"] for p in paths] == ["0", "0", "0"]
    assert rows["XA-MONO2-8-12x-catheter"]["reason"].startswith("out of scope: ")
    assert not (out / "US-MONO2-8-8x-execho").exists()
    scope = json.loads((out / "XA-MONO2-8-12x-catheter" / "result.json").read_text())["scope"]
    assert scope["in_scope"] is False and (scope["score"] is None or 0 <= scope["score"] <= 1)
    assert any("Cardiac Catheterization" in reason for reason in scope["reasons"])
