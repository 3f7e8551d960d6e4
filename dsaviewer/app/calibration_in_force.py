"""Which calibration measures the open case, and the result's lesions measured with it.

A calibration a person made (across a catheter of known French size, or millimetres per
pixel typed in) is saved with the case and wins over the file's own spacing: nobody
calibrates a run by hand without a reason, e.g. a DICOM whose imager spacing is not
corrected for magnification. Removing it (Analysis > Remove manual calibration) goes back to
the file's spacing, which AVI and PNG runs do not have. Qt-free.
"""

from __future__ import annotations

from dataclasses import replace

from dsaviewer.core.lesions import extract_lesions
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.calibration import Calibration
from dsaviewer.io.video import Video


def calibration_in_force(video: Video, manual: Calibration | None) -> Calibration | None:
    """A person's calibration where there is one, else the file's own (None without any)."""
    return manual if manual is not None else video.calibration


def spacing_of(calibration: Calibration | None) -> tuple[float, float] | None:
    """(row, column) millimetres per pixel; None without a calibration."""
    return None if calibration is None else calibration.mm_per_px


def measured_with(result: AnalysisResult, calibration: Calibration | None) -> AnalysisResult:
    """``result`` with its lesions measured in ``calibration``'s millimetres; ``result``
    itself where they already are. The lesion list itself may change: the smallest lesion
    kept is an area in mm² once there is a calibration."""
    size = result.min_lesion_size  # as the pipeline listed them
    lesions = extract_lesions(result.tumor_mask, result.tumor_probability,
                              spacing_of(calibration), min_area_mm2=size.area_mm2,
                              min_area_px=size.area_px)
    return result if lesions == list(result.lesions) else replace(result, lesions=lesions)
