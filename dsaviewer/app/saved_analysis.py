"""An :class:`AnalysisResult` to and from the arrays and JSON details that
:mod:`dsaviewer.io.case_state` stores. Qt-free; it lives beside its only user because ``io``
may not know the inference layer's result type.

Lesions and the frame-difference map are not stored: they are recomputed from the saved
masks, probabilities and the video with the same core functions the pipeline uses.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from dsaviewer.core.difference import frame_difference
from dsaviewer.core.lesions import MinLesionSize, extract_lesions
from dsaviewer.errors import InputError
from dsaviewer.inference.results import AnalysisResult, ResponsePrediction
from dsaviewer.inference.scope import scope_document, scope_from_document
from dsaviewer.io.case_state import SavedAnalysis
from dsaviewer.io.clinical import ClinicalVariables, parse_clinical
from dsaviewer.io.video import Video


def to_saved(result: AnalysisResult, clinical_used: ClinicalVariables | None) -> SavedAnalysis:
    """``result`` ready to store; ``clinical_used`` are the values its prediction read."""
    prediction = result.prediction
    details: dict[str, Any] = {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "key_frame": result.key_frame,
        "key_frame_auto": result.key_frame_auto,
        "key_frame_source": result.key_frame_source,
        "device": result.device,
        "backend": result.backend,
        "timings_ms": {name: round(float(ms), 3) for name, ms in result.timings_ms.items()},
        "notes": list(result.notes),
        "weights_name": result.weights_name,
        "scope": scope_document(result.scope),
        "min_lesion_size": dataclasses.asdict(result.min_lesion_size),
        "clinical_used": None if clinical_used is None else clinical_used.as_strings(),
        "prediction": None if prediction is None else {
            "probability": float(prediction.probability),
            "threshold": float(prediction.threshold),
            "inputs_used": list(prediction.inputs_used),
            "missing_clinical": list(prediction.missing_clinical),
        },
    }
    return SavedAnalysis(
        tumor_probability=result.tumor_probability,
        liver_probability=result.liver_probability,
        tumor_mask=result.tumor_mask,
        liver_mask=result.liver_mask,
        details=details,
    )


def from_saved(
    saved: SavedAnalysis, video: Video, pixel_spacing_mm: tuple[float, float] | None
) -> tuple[AnalysisResult, ClinicalVariables | None]:
    """The result, its lesions measured with ``pixel_spacing_mm`` (the calibration in force,
    which a person may have set), and the clinical values its prediction used. InputError
    when the details are malformed or the arrays do not fit ``video``."""
    details = saved.details
    if saved.tumor_mask.shape != video.frame_shape:
        raise InputError(
            f"saved masks are {saved.tumor_mask.shape}, the video's frames {video.frame_shape}",
            "saved analysis",
        )
    try:
        key_frame = int(details["key_frame"])
        if not 0 <= key_frame < video.n_frames:
            raise ValueError(f"key frame {key_frame} is outside the video")
        prediction = details["prediction"]
        clinical_used = details["clinical_used"]
        # Older saves have none: they were made with the default.
        min_size = MinLesionSize(**details.get("min_lesion_size", {}))
        result = AnalysisResult(
            key_frame=key_frame,
            key_frame_auto=int(details["key_frame_auto"]),
            key_frame_source=str(details["key_frame_source"]),
            tumor_probability=saved.tumor_probability,
            liver_probability=saved.liver_probability,
            tumor_mask=saved.tumor_mask,
            liver_mask=saved.liver_mask,
            frame_difference=frame_difference(video.frames, key_frame),
            lesions=extract_lesions(saved.tumor_mask, saved.tumor_probability, pixel_spacing_mm,
                                    min_area_mm2=min_size.area_mm2,
                                    min_area_px=min_size.area_px),
            prediction=None if prediction is None else ResponsePrediction(
                probability=float(prediction["probability"]),
                threshold=float(prediction["threshold"]),
                inputs_used=tuple(map(str, prediction["inputs_used"])),
                missing_clinical=tuple(map(str, prediction["missing_clinical"])),
            ),
            device=str(details["device"]),
            backend=str(details["backend"]),
            timings_ms={str(k): float(v) for k, v in dict(details["timings_ms"]).items()},
            notes=tuple(map(str, details["notes"])),
            weights_name=str(details.get("weights_name", "")),  # absent before it was saved
            scope=scope_from_document(details.get("scope")),  # older saves have none
            min_lesion_size=min_size,
        )
        clinical = None if clinical_used is None else parse_clinical(clinical_used)
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"the saved analysis is malformed: {error!r}", "saved analysis") from error
    return result, clinical
