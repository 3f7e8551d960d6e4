"""An analysis on disk: ``result.json``, the masks as 0/255 PNGs at the original frame size,
an overlay PNG (key frame in grey, tumor outlines cyan, liver outlines green), optionally the
masks as a Labelme file, and one row per case for ``summary.csv``."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from dsaviewer import __version__
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.inference.scope import scope_document
from dsaviewer.io.fingerprint import source_sha256
from dsaviewer.io.frame_labels import write_prediction_labels
from dsaviewer.io.video import Video
from dsaviewer.io.writers import replace_atomically

RESULT_FILE = "result.json"
TUMOR_FILE = "tumor.png"
LIVER_FILE = "liver.png"
OVERLAY_FILE = "overlay.png"
SUMMARY_FILE = "summary.csv"
SUMMARY_COLUMNS = (
    "case_id",
    "status",
    "in_scope",
    "key_frame",
    "key_frame_auto",
    "key_frame_source",
    "lesions",
    "flagged_lesions",
    "tumor_area_px",
    "tumor_area_mm2",
    "largest_diameter_mm",
    "liver_area_px",
    "response_probability",
    "responder",
    "device",
    "backend",
    "total_ms",
    "notes",
    "reason",
)

# BGR, as OpenCV draws.
TUMOR_COLOUR = (255, 255, 0)  # cyan
LIVER_COLOUR = (0, 255, 0)  # green


def write_result_files(
    folder: str | Path,
    case_id: str,
    video: Video,
    result: AnalysisResult,
    weights_dir: str | Path | None = None,
    labelme: bool = False,
    include_path: bool = False,
) -> list[Path]:
    """Write the case's result files into ``folder`` (created if needed); return their paths.
    ``include_path`` also records the input's absolute path (see :func:`result_document`).

    With ``labelme`` the post-processed masks also go to ``labels/NNNN.json`` (+ the key
    frame as ``NNNN.png``), flagged ``key_frame`` and ``model_prediction``: the case-folder
    layout, ready to be corrected in Labelme or the viewer.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    document = result_document(case_id, video, result, weights_dir, include_path)
    written = [
        _write_text(folder / RESULT_FILE, json.dumps(document, indent=2, allow_nan=False) + "\n"),
        _write_png(folder / TUMOR_FILE, result.tumor_mask.astype(np.uint8) * 255),
        _write_png(folder / LIVER_FILE, result.liver_mask.astype(np.uint8) * 255),
        _write_png(folder / OVERLAY_FILE, overlay_image(video, result)),
    ]
    if labelme:
        written.append(
            write_prediction_labels(
                folder, result.key_frame, video.frames[result.key_frame],
                result.tumor_mask, result.liver_mask, key_frame=True,
            )
        )
    return written


def result_document(
    case_id: str,
    video: Video,
    result: AnalysisResult,
    weights_dir: str | Path | None = None,
    include_path: bool = False,
) -> dict[str, Any]:
    """``result.json``'s content: everything but the pixel maps (those are the PNGs).

    The input is recorded by its file name and content hash (``source_sha256``), not by where
    it lives: hospital folder names often carry patient names. ``include_path`` adds the
    absolute path as ``source_path``.
    """
    prediction = result.prediction
    spacing = video.pixel_spacing_mm
    where = {"source_path": str(Path(video.source).absolute())} if include_path else {}
    return {
        "case_id": case_id,
        "source": Path(video.source).name,
        "source_sha256": source_sha256(video.source),
        **where,
        "frames": video.n_frames,
        "frame_shape": list(video.frame_shape),
        "fps": video.fps,
        "pixel_spacing_mm": None if spacing is None else list(spacing),
        "key_frame": {
            "used": result.key_frame,
            "automatic": result.key_frame_auto,
            "source": result.key_frame_source,
        },
        "device": result.device,
        "backend": result.backend,
        "weights": None if weights_dir is None else str(weights_dir),
        "weights_name": result.weights_name,  # e.g. "Shipped weights" or a fine-tuned run
        "timings_ms": {name: round(value, 3) for name, value in result.timings_ms.items()},
        "tumor_area_px": int(result.tumor_mask.sum()),
        "liver_area_px": int(result.liver_mask.sum()),
        # Smaller components are not listed; which limit held depends on the spacing.
        "min_lesion_size": {
            "area_mm2": result.min_lesion_size.area_mm2,
            "area_px": result.min_lesion_size.area_px,
            "applied": "area_px" if spacing is None else "area_mm2",
        },
        "lesions": [_lesion_dict(lesion) for lesion in result.lesions],
        "prediction": None
        if prediction is None
        else {
            "probability": prediction.probability,
            "threshold": prediction.threshold,
            "responder": prediction.responder,
            "call": prediction.call,  # "borderline" near the threshold
            "inputs_used": list(prediction.inputs_used),
            "missing_clinical": list(prediction.missing_clinical),
        },
        "notes": list(result.notes),
        "scope": scope_document(result.scope),
        "dsaviewer_version": __version__,
    }


def overlay_image(video: Video, result: AnalysisResult) -> np.ndarray:
    """The key frame in grey (full stored range) with the outlines of the liver (green) and
    tumors (cyan) drawn on top; BGR uint8 at the original frame size."""
    frame = video.frames[result.key_frame].astype(np.float32)
    grey = np.clip(np.rint(frame * (255.0 / video.max_value)), 0, 255).astype(np.uint8)
    image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    thickness = max(1, round(min(video.frame_shape) / 400))  # visible at 1000+ pixels too
    for mask, colour in ((result.liver_mask, LIVER_COLOUR), (result.tumor_mask, TUMOR_COLOUR)):
        contours, _ = cv2.findContours(
            mask.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE
        )
        cv2.drawContours(image, contours, -1, colour, thickness)
    return image


def summary_row(
    case_id: str, result: AnalysisResult | None = None, reason: str = "", refused: bool = False
) -> dict[str, Any]:
    """One ``summary.csv`` row: the figures of a finished case, or the reason it failed or
    was refused (``refused``: the file is not something the models analyse). ``in_scope`` is
    1 or 0, 0 for a refused case and empty for a failed one."""
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS, "")
    status = "ok" if result is not None else "refused" if refused else "failed"
    row.update(case_id=case_id, status=status, reason=reason)
    if refused:
        row.update(in_scope=0)
    if result is None:
        return row
    if result.scope is not None:
        row.update(in_scope=int(result.scope.in_scope))
        if result.scope.reasons:
            row.update(reason="out of scope: " + "; ".join(result.scope.reasons))
    diameters = [lesion.longest_diameter_mm for lesion in result.lesions]
    areas_mm2 = [lesion.area_mm2 for lesion in result.lesions]
    row.update(
        key_frame=result.key_frame,
        key_frame_auto=result.key_frame_auto,
        key_frame_source=result.key_frame_source,
        lesions=len(result.lesions),
        flagged_lesions=sum(lesion.flagged for lesion in result.lesions),
        tumor_area_px=int(result.tumor_mask.sum()),
        tumor_area_mm2="" if None in areas_mm2 else f"{sum(areas_mm2):.2f}",
        largest_diameter_mm="" if not diameters or None in diameters else f"{max(diameters):.2f}",
        liver_area_px=int(result.liver_mask.sum()),
        device=result.device,
        backend=result.backend,
        total_ms=f"{result.timings_ms.get('total', 0.0):.1f}",
        notes="; ".join(result.notes),
    )
    if result.prediction is not None:
        row.update(
            response_probability=f"{result.prediction.probability:.4f}",
            responder=int(result.prediction.responder),
        )
    return row


def write_summary(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return _write_text(Path(path), text.getvalue())


def _lesion_dict(lesion: Any) -> dict[str, Any]:
    # The outline is left out: tumor.png holds the exact pixels.
    values = {
        field.name: getattr(lesion, field.name)
        for field in dataclasses.fields(lesion)
        if field.name != "contour"
    }
    values["centroid"] = list(values["centroid"])
    values["bbox"] = list(values["bbox"])
    return values


def _write_png(path: Path, image: np.ndarray) -> Path:
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise OSError(f"OpenCV could not encode {path.name}")
    with replace_atomically(path) as temporary:
        temporary.write_bytes(encoded.tobytes())
    return path


def _write_text(path: Path, text: str) -> Path:
    with replace_atomically(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path
