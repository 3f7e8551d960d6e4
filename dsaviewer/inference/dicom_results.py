"""An analysis as DICOM objects for the source's PACS: a SEG of the key frame's tumor and
liver masks, a secondary capture of the key frame with the outlines, lesion numbers and the
research-use caption burned in, and a TID 1500 measurement report. All three join the
source's study, each in a new series; only DICOM runs can be exported this way."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dsaviewer import __version__
from dsaviewer.inference.result_files import TUMOR_COLOUR, overlay_image
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.dicom_derived import RESEARCH_USE, save_dataset
from dsaviewer.io.dicom_reference import source_image
from dsaviewer.io.dicom_sc import write_secondary_capture
from dsaviewer.io.dicom_seg import build_segmentation
from dsaviewer.io.dicom_sr import LesionMeasurements, ReportContent, write_measurement_report
from dsaviewer.io.video import Video

DICOM_FOLDER = "dicom"
SEG_FILE = "seg.dcm"
SC_FILE = "sc.dcm"
SR_FILE = "sr.dcm"
CAPTION = "RESEARCH USE - NOT FOR DIAGNOSIS"


def write_dicom_results(
    folder: str | Path,
    video: Video,
    result: AnalysisResult,
    weights_dir: str | Path | None = None,
    scope: object = None,
) -> list[Path]:
    """Write SEG, secondary capture and SR into ``folder/dicom/``; return their paths.
    ``scope`` is the analysis' scope decision when it is kept apart from the result.

    Raises InputError when the run is not DICOM (nothing is written then).
    """
    source = source_image(video, result.key_frame)  # refuses non-DICOM runs before writing
    target = Path(folder) / DICOM_FOLDER
    version = algorithm_version(weights_dir, result.weights_name)
    segmentation = build_segmentation(
        source, {"tumor": result.tumor_mask, "liver": result.liver_mask}, version
    )
    description = (
        f"Key frame {result.key_frame} (frame number {result.key_frame + 1}) with tumor "
        f"(cyan) and liver (green) outlines and lesion numbers by {version}. {RESEARCH_USE}"
    )
    return [
        save_dataset(segmentation, target / SEG_FILE),
        write_secondary_capture(target / SC_FILE, source, burned_in_overlay(video, result),
                                description),
        write_measurement_report(target / SR_FILE, source, report_content(result, version, scope),
                                 segmentation),
    ]


def algorithm_version(weights_dir: str | Path | None, weights_name: str = "") -> str:
    """Names the program and the weights that made a result: their own name when the result
    carries one, else the weights folder's."""
    if weights_name:
        weights = weights_name
    elif weights_dir is None:
        weights = "bundled weights"
    else:
        weights = f"weights {Path(weights_dir).name}"
    return f"dsaviewer {__version__}, {weights}"


def burned_in_overlay(video: Video, result: AnalysisResult) -> np.ndarray:
    """The overlay image with lesion numbers and the research-use caption; RGB uint8."""
    image = overlay_image(video, result)
    height, width = image.shape[:2]
    scale = max(0.4, min(height, width) / 700)
    thickness = max(1, round(scale * 2))
    for lesion in result.lesions:
        row, col = lesion.centroid
        _outlined_text(image, str(lesion.number), (int(col), int(row)), scale, thickness,
                       TUMOR_COLOUR)
    (_, text_height), baseline = cv2.getTextSize(CAPTION, cv2.FONT_HERSHEY_SIMPLEX, scale,
                                                 thickness)
    _outlined_text(image, CAPTION, (text_height // 2, height - baseline - text_height // 2),
                   scale, thickness, (255, 255, 255))
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def report_content(result: AnalysisResult, version: str, scope: object = None) -> ReportContent:
    prediction = result.prediction
    return ReportContent(
        lesions=tuple(
            LesionMeasurements(
                number=lesion.number,
                area_px=lesion.area_px,
                area_mm2=lesion.area_mm2,
                longest_diameter_px=lesion.longest_diameter_px,
                longest_diameter_mm=lesion.longest_diameter_mm,
                mean_probability=lesion.mean_probability,
                uncertainty=lesion.uncertainty,
            )
            for lesion in result.lesions
        ),
        response_probability=None if prediction is None else prediction.probability,
        response_threshold=None if prediction is None else prediction.threshold,
        scope=scope_text(scope if scope is not None else getattr(result, "scope", None)),
        algorithm_version=version,
    )


def scope_text(scope: object) -> str | None:
    """The scope decision in words. Results made before scope decisions existed have none;
    the decision's own fields are read by name so any form of it reads sensibly."""
    if scope is None:
        return None
    if isinstance(scope, str):
        return scope
    parts = []
    inside = getattr(scope, "in_scope", None)
    if isinstance(inside, bool):
        parts.append("inside the models' scope" if inside else "outside the models' scope")
    for name in ("label", "decision", "reason", "message", "summary"):
        value = getattr(scope, name, None)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    reasons = getattr(scope, "reasons", None)
    if isinstance(reasons, (list, tuple)):
        parts.extend(str(reason) for reason in reasons if reason)
    return "; ".join(parts) if parts else str(scope)


def _outlined_text(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    scale: float,
    thickness: int,
    colour: tuple[int, int, int],
) -> None:
    # A black outline keeps the text legible on bright contrast and on the black border.
    for paint, width in (((0, 0, 0), thickness + 2), (colour, thickness)):
        cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, paint, width,
                    cv2.LINE_AA)
