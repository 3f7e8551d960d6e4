"""Millimetres per pixel: DICOM imager spacing corrected for magnification (a real XA file
given the tags a C-arm writes), a catheter of known French size, or a typed value; the label
shown beside each measurement says which."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from dsaviewer.core.lesions import extract_lesions
from dsaviewer.errors import InputError
from dsaviewer.io.calibration import (
    MM_PER_FRENCH,
    catheter_calibration,
    dicom_calibration,
    manual_calibration,
)
from dsaviewer.io.video import load_video


def tagged_xa(shared_dicom_dir, tmp_path, **tags):
    dataset = pydicom.dcmread(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm")
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)
    path = tmp_path / "tagged.dcm"
    dataset.save_as(path)
    return load_video(path)


def test_imager_spacing_is_divided_by_the_magnification_factor(shared_dicom_dir, tmp_path):
    video = tagged_xa(shared_dicom_dir, tmp_path, ImagerPixelSpacing=[0.2, 0.2],
                      EstimatedRadiographicMagnificationFactor=1.25)
    assert video.pixel_spacing_mm == pytest.approx((0.16, 0.16))
    assert video.calibration.corrected
    assert video.calibration.label == "0.160 mm/px, DICOM imager spacing ÷ magnification " \
                                      "1.25 (0018,1114)"


def test_without_the_factor_the_source_distances_give_the_magnification(shared_dicom_dir,
                                                                        tmp_path):
    video = tagged_xa(shared_dicom_dir, tmp_path, ImagerPixelSpacing=[0.3, 0.3],
                      DistanceSourceToDetector=1100, DistanceSourceToPatient=880)
    assert video.pixel_spacing_mm == pytest.approx((0.24, 0.24))
    assert "SID/SOD 1100/880" in video.calibration.label


def test_uncorrected_and_patient_plane_spacings_say_what_they_are(shared_dicom_dir, tmp_path):
    bare = tagged_xa(shared_dicom_dir, tmp_path, ImagerPixelSpacing=[0.2, 0.25],
                     EstimatedRadiographicMagnificationFactor=40.0)  # implausible: ignored
    assert bare.pixel_spacing_mm == (0.2, 0.25) and not bare.calibration.corrected
    assert "not corrected for magnification" in bare.calibration.label
    assert "0.200 x 0.250" in bare.calibration.label
    plane = dicom_calibration(None, (0.5, 0.5))
    assert plane.mm_per_px == (0.5, 0.5) and "patient plane" in plane.label
    assert dicom_calibration(None, None) is None
    assert load_video(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm").calibration is None


def test_a_catheter_of_known_french_size_calibrates_the_run():
    calibration = catheter_calibration(12.5, 5)  # 5 Fr = 1.67 mm across 12.5 px
    assert calibration.mm_per_px == pytest.approx((5 * MM_PER_FRENCH / 12.5,) * 2)
    assert calibration.label.startswith("0.133 mm/px, catheter 5 Fr (1.67 mm)")
    with pytest.raises(InputError, match="not a catheter size"):
        catheter_calibration(12.5, 50)
    with pytest.raises(InputError, match="2 pixels"):
        catheter_calibration(1.0, 5)
    assert manual_calibration(0.3).label == "0.300 mm/px, entered by hand"
    with pytest.raises(InputError, match="outside"):
        manual_calibration(30)


def test_lesion_millimetres_follow_the_calibration():
    mask = np.zeros((60, 60), bool)
    mask[10:30, 10:40] = True
    (lesion,) = extract_lesions(mask, pixel_spacing_mm=catheter_calibration(10, 6).mm_per_px)
    assert lesion.area_mm2 == pytest.approx(600 * 0.2 * 0.2)
