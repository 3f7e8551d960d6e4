"""DICOM SEG, secondary capture and TID 1500 SR of an analysis: read back with highdicom and
pydicom, and validated with dciodvfy."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from dicom_validation import dciodvfy_errors, measurement_groups
from highdicom.seg import segread
from pydicom.uid import generate_uid

from dsaviewer.errors import InputError
from dsaviewer.io.dicom_reference import source_image
from dsaviewer.io.dicom_sc import write_secondary_capture
from dsaviewer.io.dicom_seg import build_segmentation, write_segmentation
from dsaviewer.io.dicom_sr import LesionMeasurements, ReportContent, write_measurement_report
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_dicom_xa

PATIENT = {"PatientName": "Test^Patient", "PatientID": "P-0042", "PatientSex": "F",
           "AccessionNumber": "ACC7", "StudyID": "S1"}
SHAPE = (96, 128)
KEY = 6


@pytest.fixture
def xa_run(tmp_path):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 4096, (10, *SHAPE)).astype(np.uint16)
    return write_dicom_xa(tmp_path / "run.dcm", frames, 12.5, (0.2, 0.25), 12, patient=PATIENT)


def masks() -> tuple[np.ndarray, np.ndarray]:
    tumor = np.zeros(SHAPE, bool)
    tumor[20:30, 40:60] = True
    tumor[60:64, 90:93] = True
    liver = np.zeros(SHAPE, bool)
    liver[10:80, 20:110] = True
    return tumor, liver


def test_seg_decodes_to_the_masks_at_the_referenced_source_frame(xa_run, tmp_path) -> None:
    source = source_image(load_video(xa_run), KEY)
    tumor, liver = masks()
    path = write_segmentation(tmp_path / "seg.dcm", source, {"tumor": tumor, "liver": liver},
                              "v1")

    seg = segread(path)
    decoded = seg.get_pixels_by_source_frame(
        source.sop_instance_uid, source_frame_numbers=[KEY + 1], segment_numbers=[1, 2]
    )
    np.testing.assert_array_equal(decoded[0, :, :, 0], tumor)
    np.testing.assert_array_equal(decoded[0, :, :, 1], liver)
    xa = pydicom.dcmread(xa_run)
    for group in seg.PerFrameFunctionalGroupsSequence:
        item = group.DerivationImageSequence[0].SourceImageSequence[0]
        assert item.ReferencedSOPClassUID == xa.SOPClassUID
        assert item.ReferencedSOPInstanceUID == xa.SOPInstanceUID
        assert item.ReferencedFrameNumber == KEY + 1
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["tumor", "liver"]
    assert seg.SegmentSequence[1].SegmentedPropertyTypeCodeSequence[0].CodeMeaning == "Liver"
    _assert_same_patient_new_series(seg, xa)
    assert dciodvfy_errors(path) == []


def test_secondary_capture_holds_the_picture_and_references_the_frame(xa_run, tmp_path) -> None:
    source = source_image(load_video(xa_run), KEY)
    picture = np.random.default_rng(0).integers(0, 256, (*SHAPE, 3)).astype(np.uint8)
    path = write_secondary_capture(tmp_path / "sc.dcm", source, picture, "overlay of frame 7")

    capture = pydicom.dcmread(path)
    np.testing.assert_array_equal(capture.pixel_array, picture)
    assert capture.BurnedInAnnotation == "YES"
    assert capture.PhotometricInterpretation == "RGB"
    reference = capture.SourceImageSequence[0]
    assert reference.ReferencedFrameNumber == KEY + 1
    _assert_same_patient_new_series(capture, pydicom.dcmread(xa_run))
    assert dciodvfy_errors(path) == []


def test_measurement_report_items(xa_run, tmp_path) -> None:
    source = source_image(load_video(xa_run), KEY)
    tumor, liver = masks()
    segmentation = build_segmentation(source, {"tumor": tumor, "liver": liver}, "v1")
    content = ReportContent(
        lesions=(
            LesionMeasurements(1, 200, 10.0, 22.36, 4.92, 0.83, 0.17),
            LesionMeasurements(2, 12, None, 5.0, None, 0.61, 0.39),
        ),
        response_probability=0.71,
        response_threshold=0.45,
        scope="inside the models' scope; hepatic DSA run",
        algorithm_version="dsaviewer test, weights w1",
    )
    path = write_measurement_report(tmp_path / "sr.dcm", source, content, segmentation)

    sr = pydicom.dcmread(path)
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    groups = measurement_groups(sr)
    assert list(groups) == ["Lesion 1", "Lesion 2", "Analysis"]
    lesion_1 = groups["Lesion 1"]
    assert lesion_1["Area"] == (10.0, "mm2")
    assert lesion_1["Long axis"] == (4.92, "mm")
    assert lesion_1["Mean tumor probability"] == (0.83, "1")
    assert lesion_1["Lesion uncertainty"] == (0.17, "1")
    # Without pixel spacing the sizes are in pixels.
    assert groups["Lesion 2"]["Area"] == (12.0, "{pixels}")
    assert groups["Lesion 2"]["Long axis"] == (5.0, "{pixels}")
    analysis = groups["Analysis"]
    assert analysis["Probability of response to first TACE"] == (0.71, "1")
    assert analysis["Response model threshold"] == (0.45, "1")
    assert analysis["Comment"] == "Research use, not for diagnosis."
    assert analysis["Scope decision"] == "inside the models' scope; hepatic DSA run"
    assert analysis["Source of Measurement"] == (source.sop_instance_uid, KEY + 1)
    evidence = {item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                for series in sr.CurrentRequestedProcedureEvidenceSequence
                for item in series.ReferencedSeriesSequence}
    assert evidence == {source.sop_instance_uid, segmentation.SOPInstanceUID}
    _assert_same_patient_new_series(sr, pydicom.dcmread(xa_run))
    assert dciodvfy_errors(path) == []


def test_report_without_prediction_or_scope_keeps_the_statement(xa_run, tmp_path) -> None:
    source = source_image(load_video(xa_run), KEY)
    content = ReportContent((), None, None, None, "v")
    sr = pydicom.dcmread(write_measurement_report(tmp_path / "sr.dcm", source, content))
    assert measurement_groups(sr) == {"Analysis": {
        "Algorithm Name": "DSA Viewer",
        "Algorithm Version": "v",
        "Comment": "Research use, not for diagnosis.",
        "Source of Measurement": (source.sop_instance_uid, KEY + 1),
    }}


def test_real_xa_file_with_old_style_dates_gives_valid_objects(
    shared_dicom_dir, tmp_path
) -> None:
    """The public XA sample (JPEG Lossless) has an ACR-NEMA date (1994.10.16) and UIDs with
    leading zeros; with its UIDs made valid, as a PACS would hold it, our objects are valid:
    the bad date is left empty rather than copied."""
    dataset = pydicom.dcmread(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm")
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    dataset.save_as(tmp_path / "xa.dcm")
    source = source_image(load_video(tmp_path / "xa.dcm"), 11)
    tumor = np.zeros((512, 512), bool)
    tumor[200:240, 300:330] = True
    seg = write_segmentation(tmp_path / "seg.dcm", source, {"tumor": tumor}, "v")
    assert pydicom.dcmread(seg).StudyDate == ""
    assert pydicom.dcmread(seg).PatientName == "Anonymized"
    assert dciodvfy_errors(seg) == []
    sc = write_secondary_capture(tmp_path / "sc.dcm", source,
                                 np.zeros((512, 512, 3), np.uint8), "d")
    assert dciodvfy_errors(sc) == []


def test_a_series_folder_references_the_key_frames_own_file(tmp_path) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    series_uid = generate_uid()
    frames = np.random.default_rng(1).integers(0, 255, (10, *SHAPE)).astype(np.uint8)
    uids = []
    for index in range(10):
        path = write_dicom_xa(folder / f"IM{9 - index}", frames[index:index + 1], 10.0)
        dataset = pydicom.dcmread(path)
        dataset.SeriesInstanceUID = series_uid
        dataset.InstanceNumber = index + 1  # file names run backwards; instances decide
        dataset.save_as(path)
        uids.append(dataset.SOPInstanceUID)
    source = source_image(load_video(folder), KEY)
    assert source.sop_instance_uid == uids[KEY]
    assert source.frame_number is None
    tumor, _ = masks()
    seg = pydicom.dcmread(write_segmentation(tmp_path / "seg.dcm", source, {"tumor": tumor}, "v"))
    item = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
    assert "ReferencedFrameNumber" not in item.SourceImageSequence[0]
    assert dciodvfy_errors(tmp_path / "seg.dcm") == []


def test_a_non_dicom_run_is_refused_with_the_reason(tmp_path) -> None:
    frames = np.zeros((10, 64, 64), np.uint8)
    video = load_video(write_avi(tmp_path / "run.avi", frames, 10.0))
    with pytest.raises(InputError, match="not DICOM.*patient and study"):
        source_image(video, 3)


def test_mask_of_another_size_is_refused(xa_run, tmp_path) -> None:
    source = source_image(load_video(xa_run), KEY)
    with pytest.raises(InputError, match="tumor mask is 64x32"):
        write_segmentation(tmp_path / "seg.dcm", source, {"tumor": np.zeros((32, 64), bool)}, "v")
    assert not (tmp_path / "seg.dcm").exists()


def _assert_same_patient_new_series(derived, source) -> None:
    for keyword in ("PatientName", "PatientID", "PatientSex", "StudyInstanceUID",
                    "AccessionNumber", "StudyID"):
        assert derived.get(keyword) == source.get(keyword), keyword
    assert derived.SeriesInstanceUID != source.SeriesInstanceUID
    # No identifier beyond the source's own.
    for keyword in ("PatientBirthDate", "OtherPatientIDs", "PatientAddress", "InstitutionName"):
        assert not derived.get(keyword), keyword
