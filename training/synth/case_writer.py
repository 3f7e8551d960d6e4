"""Synthetic cases on disk, in the case-folder contract of DESIGN.md.

Everything goes through the project's own writers (``dsaviewer.io.writers``, ``.labelme``,
``.clinical``), so a synthetic dataset is read exactly like a hospital export. Beside the
contract's ``clinical.csv`` and case folders a dataset holds what only a generator knows:
``truth.csv`` (per case: the true response probability, the key frame, the tumors...) and
``synth.json`` (how the dataset was made, and which case folders it wrote).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path

import numpy as np

from dsaviewer.io.clinical import ClinicalRow, parse_clinical, write_clinical_csv
from dsaviewer.io.labelme import KEY_FRAME_FLAG, write_labelme
from dsaviewer.io.writers import replace_atomically, write_avi, write_dicom_xa, write_frame_folder
from training.synth.case import SyntheticCase
from training.synth.options import SynthOptions
from training.synth.variety import FAMILIES
from training.synth.version import GENERATOR_VERSION

CLINICAL_CSV = "clinical.csv"
TRUTH_CSV = "truth.csv"
MANIFEST = "synth.json"
MANIFEST_FORMAT = "dsaviewer-synthetic-dataset"
LABELS_FOLDER = "labels"
# Labelme image flag of broad-mix labels: the liver label is the liver the injection
# perfuses (the whole liver in the field for a celiac or hepatic run, else its territory).
PERFUSED_LIVER_FLAG = "liver_label_is_perfused_liver"

TRUTH_COLUMNS = (
    "case_id",
    "seed",
    "index",
    "response_probability",
    "visible_response_probability",
    "response",
    "key_frame",
    "n_frames",
    "fps",
    "width",
    "height",
    "video_format",
    "bits_stored",
    "n_tumors",
    "n_tumors_visible",
    "n_rich",
    "vascularity",
    "total_diameter_cm",
    "largest_diameter_cm",
    "tumor_diameters_px",
    "n_gi",
    "gi_on_liver_edge",
    "moving_frames",
    "contrast_frame",
    "inverted",
    "zoom",
    "round_collimator",
    "burned_in_text",
    *FAMILIES,
)


def write_case(case: SyntheticCase, dataset: str | Path) -> Path:
    """Write ``case`` as ``<dataset>/<case_id>/`` (video and Labelme files); return the folder.
    The folder must not exist yet."""
    folder = Path(dataset) / case.case_id
    folder.mkdir(parents=True, exist_ok=False)
    if case.video_format == "avi":
        write_avi(folder / "video.avi", case.frames, case.fps)
    elif case.video_format == "dcm":
        white = (1 << case.bits_stored) - 1
        stored = case.frames if case.monochrome == "MONOCHROME2" else white - case.frames
        write_dicom_xa(
            folder / "video.dcm",
            stored.astype(case.frames.dtype),
            case.fps,
            pixel_spacing_mm=case.pixel_spacing_mm,
            bits_stored=case.bits_stored,
            monochrome=case.monochrome,
            patient={
                "PatientID": case.case_id,
                "PatientName": f"SYNTHETIC^{case.case_id}",
                "Manufacturer": "dsaviewer synthetic generator",
                "SeriesDescription": "Hepatic arteriography DSA (synthetic)",
            },
        )
    elif case.video_format == "png":
        write_frame_folder(folder / "frames", case.frames)
    else:
        raise ValueError(f"unknown video format {case.video_format!r}")

    white = (1 << case.bits_stored) - 1
    for labels in case.labels:
        image = case.frames[labels.frame_index]
        if image.dtype != np.uint8:  # Labelme shows an 8-bit image
            image = np.round(image.astype(np.float32) * (255.0 / white)).astype(np.uint8)
        flags = {KEY_FRAME_FLAG: True} if labels.frame_index == case.key_frame else {}
        if case.truth.families:  # the broad mix says what its liver label means
            flags[PERFUSED_LIVER_FLAG] = True
        write_labelme(
            folder / LABELS_FOLDER / f"{labels.frame_index:04d}.json",
            image,
            masks={"tumor": labels.tumor, "liver": labels.liver},
            flags=flags,
        )
    return folder


def clinical_row(case: SyntheticCase) -> ClinicalRow:
    return ClinicalRow(
        variables=parse_clinical(case.patient.recorded), response=case.patient.response
    )


def truth_row(case: SyntheticCase) -> dict[str, object]:
    patient, truth = case.patient, case.truth
    height, width = case.frames.shape[1:]
    return {
        "case_id": case.case_id,
        "seed": case.seed,
        "index": case.index,
        "response_probability": f"{patient.response_probability:.6f}",
        "visible_response_probability": f"{truth.visible_response_probability:.6f}",
        "response": patient.response,
        "key_frame": case.key_frame,
        "n_frames": len(case.frames),
        "fps": case.fps,
        "width": width,
        "height": height,
        "video_format": case.video_format,
        "bits_stored": case.bits_stored,
        "n_tumors": truth.n_tumors,
        "n_tumors_visible": truth.n_tumors_visible,
        "n_rich": truth.n_rich,
        "vascularity": f"{patient.burden.rich_fraction:.4f}",
        "total_diameter_cm": f"{patient.burden.total_diameter_cm:.3f}",
        "largest_diameter_cm": f"{patient.burden.largest_diameter_cm:.3f}",
        "tumor_diameters_px": ";".join(f"{d:g}" for d in truth.tumor_diameters_px),
        "n_gi": truth.n_gi,
        "gi_on_liver_edge": int(truth.gi_on_liver_edge),
        "moving_frames": ";".join(str(f) for f in truth.moving_frames),
        "contrast_frame": truth.contrast_frame,
        "inverted": int(truth.inverted),
        "zoom": truth.zoom,
        "round_collimator": int(truth.round_collimator),
        "burned_in_text": int(truth.burned_in_text),
        # Broad mix: the case's value of each family (empty in the default mix).
        **{family: dict(truth.families).get(family, "") for family in FAMILIES},
    }


def write_truth_csv(path: str | Path, rows: Iterable[Mapping[str, object]]) -> Path:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target = Path(path)
    with replace_atomically(target) as temporary:
        temporary.write_text(text.getvalue(), encoding="utf-8", newline="")
    return target


def read_truth_csv(path: str | Path) -> list[dict[str, str]]:
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_manifest(
    dataset: Path, seed: int, indices: list[int], options: SynthOptions, case_ids: list[str]
) -> Path:
    document = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "generator": "training.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "indices": [indices[0], indices[-1] + 1] if indices else [0, 0],
        "options": asdict(options),
        "cases": case_ids,
    }
    target = dataset / MANIFEST
    with replace_atomically(target) as temporary:
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target


def is_synthetic_dataset(folder: str | Path) -> bool:
    return read_manifest(folder) is not None


def read_manifest(folder: str | Path) -> dict | None:
    path = Path(folder) / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (
        document
        if isinstance(document, dict) and document.get("format") == MANIFEST_FORMAT
        else None
    )


def clear_dataset(folder: Path) -> None:
    """Remove what an earlier run of the generator wrote into ``folder`` (the case folders
    its manifest lists, and its three files); anything else is left alone."""
    manifest = read_manifest(folder)
    if manifest is None:
        return
    for case_id in manifest.get("cases", []):
        case_folder = folder / str(case_id)
        if case_folder.parent == folder and case_folder.is_dir() and not case_folder.is_symlink():
            shutil.rmtree(case_folder)
    for name in (CLINICAL_CSV, TRUTH_CSV, MANIFEST):
        (folder / name).unlink(missing_ok=True)


def write_clinical(dataset: Path, rows: Mapping[str, ClinicalRow]) -> Path:
    return write_clinical_csv(dataset / CLINICAL_CSV, rows)
