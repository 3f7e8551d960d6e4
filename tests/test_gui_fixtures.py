"""Shared by the viewer tests: small case folders written with the project's writers, and
a stand-in for the analysis pipeline with the pipeline's signature whose masks are known by
construction. (No tests here.)"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from dsaviewer.app.case_session import exposed_field
from dsaviewer.core.difference import frame_difference
from dsaviewer.core.keyframe import select_key_frame
from dsaviewer.core.lesions import extract_lesions
from dsaviewer.errors import DSAViewerError
from dsaviewer.inference.results import AnalysisResult, ResponsePrediction
from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.writers import write_avi, write_dicom_xa

SIDE = 96
N_FRAMES = 14
FPS = 7.5
SPACING_MM = (0.5, 0.4)
# Two tumours by construction, (row, col, radius): number 1 is the larger.
TUMORS = ((30, 62, 9), (66, 30, 5))
LIVER_BOX = (14, 84, 12, 86)  # row0, row1, col0, col1
PATIENT = {"PatientName": "Test^Patient", "PatientID": "P-0042", "StudyDate": "20240102"}
THRESHOLD = 0.5


def run_frames(n_frames: int = N_FRAMES, side: int = SIDE, seed: int = 0) -> np.ndarray:
    """(T, side, side) uint8: a grey field in a black border where the two tumours stain a
    little more each frame until frame T-4, then hold still (the key frame is among those)."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[:side, :side]
    border = max(2, side // 16)
    frames = np.zeros((n_frames, side, side), np.uint8)
    for t in range(n_frames):
        image = 110 + rng.integers(-2, 3, (side, side))
        stain = min(t, n_frames - 4) * 6
        for row, col, radius in _scaled(side):
            image[(rows - row) ** 2 + (cols - col) ** 2 <= radius**2] += stain
        image[:, :border] = 0
        image[:, -border:] = 0
        frames[t] = np.clip(image, 0, 255)
    # The held frames are identical, so the key frame is certain.
    frames[n_frames - 4 :] = frames[n_frames - 4]
    return frames


def write_avi_case(root: Path, frames: np.ndarray | None = None) -> Path:
    write_avi(root / "video.avi", run_frames() if frames is None else frames, FPS)
    return root


def write_dicom_case(root: Path, frames: np.ndarray | None = None) -> Path:
    write_dicom_xa(root / "video.dcm", run_frames() if frames is None else frames, FPS,
                   pixel_spacing_mm=SPACING_MM, patient=PATIENT)
    return root


def tumor_mask(shape: tuple[int, int]) -> np.ndarray:
    rows, cols = np.mgrid[: shape[0], : shape[1]]
    mask = np.zeros(shape, bool)
    for row, col, radius in _scaled(shape[0]):
        mask |= (rows - row) ** 2 + (cols - col) ** 2 <= radius**2
    return mask


def _scaled(side: int) -> list[tuple[int, int, int]]:
    factor = side / SIDE
    return [(round(r * factor), round(c * factor), round(rad * factor)) for r, c, rad in TUMORS]


class FakeAnalysis:
    """The pipeline's ``analyze`` signature; masks from the known tumours, a prediction that
    depends on the clinical values (age given: responder). Records every call. With
    ``gate`` set it waits for the gate (or a cancel) before answering."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[dict] = []
        self.gate = gate

    def __call__(self, video, clinical=None, key_frame=None, progress=None, cancel=None,
                 key_frame_source="override") -> AnalysisResult:
        self.calls.append({"key_frame": key_frame, "clinical": clinical,
                           "source": key_frame_source})
        if self.gate is not None:
            while not self.gate.wait(0.01):
                if cancel is not None and cancel():
                    raise DSAViewerError("analysis cancelled")
        auto = select_key_frame(video.frames, field=exposed_field(video)).index
        index = auto if key_frame is None else key_frame
        if progress is not None:
            progress("segmentation", 0.8)
        tumor = tumor_mask(video.frame_shape)
        probability = np.where(tumor, 0.9, 0.02).astype(np.float32)
        liver = np.zeros(video.frame_shape, bool)
        row0, row1, col0, col1 = (round(v * video.frame_shape[0] / SIDE) for v in LIVER_BOX)
        liver[row0:row1, col0:col1] = True
        clinical = clinical or ClinicalVariables()
        return AnalysisResult(
            key_frame=index,
            key_frame_auto=auto,
            key_frame_source="auto" if key_frame is None else key_frame_source,
            tumor_probability=probability,
            liver_probability=liver.astype(np.float32),
            tumor_mask=tumor,
            liver_mask=liver,
            frame_difference=frame_difference(video.frames, index),
            lesions=extract_lesions(tumor, probability, video.pixel_spacing_mm),
            prediction=ResponsePrediction(
                probability=0.8 if clinical.age is not None else 0.3,
                threshold=THRESHOLD,
                inputs_used=("image", "mask", "clinical"),
                missing_clinical=tuple(clinical.missing()),
            ),
            device="CPU (stand-in)",
            backend="stand-in",
            timings_ms={"total": 5.0},
        )
