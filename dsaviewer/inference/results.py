"""What one analysis of a DSA run produces: the plain records the viewer, the command line
and the packaged self-test read. They hold arrays and numbers only, no models."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsaviewer.core.lesions import Lesion, MinLesionSize

# A response probability this close to the threshold is not called either way: which side of
# the threshold it falls on is not a finding (a choice, documented in docs/evaluation.md).
BORDERLINE_MARGIN = 0.05


@dataclass(frozen=True)
class ResponsePrediction:
    """DSA-Net Model 2's answer for the first TACE session."""

    probability: float  # of response (CR or PR by mRECIST)
    threshold: float  # the model's operating point
    inputs_used: tuple[str, ...]  # e.g. ("image", "mask", "clinical")
    missing_clinical: tuple[str, ...]  # clinical variables that were not given

    @property
    def responder(self) -> bool:
        return self.probability >= self.threshold

    @property
    def borderline(self) -> bool:
        """Within :data:`BORDERLINE_MARGIN` of the threshold: shown as borderline."""
        return abs(self.probability - self.threshold) < BORDERLINE_MARGIN

    @property
    def call(self) -> str:
        """"borderline", "responder" or "non-responder", as people are shown it."""
        if self.borderline:
            return "borderline"
        return "responder" if self.responder else "non-responder"


@dataclass(frozen=True)
class ScopeDecision:
    """Whether the run is inside the scope the models were made for (hepatic DSA runs)."""

    in_scope: bool
    score: float | None  # 0..1: how much the image looks like a hepatic DSA run; None: not scored
    reasons: tuple[str, ...] = ()  # why it is out of scope, in words a clinician reads


@dataclass(frozen=True)
class AnalysisResult:
    """Masks and probabilities are at the original frame size, exactly aligned with it."""

    key_frame: int  # the frame the analysis used
    key_frame_auto: int  # DSA-LTDNet's automatic choice
    key_frame_source: str  # "auto", "override" or "labels"
    tumor_probability: np.ndarray  # (H, W) float32 in [0, 1]
    liver_probability: np.ndarray  # (H, W) float32 in [0, 1]
    tumor_mask: np.ndarray  # (H, W) bool, after post-processing
    liver_mask: np.ndarray  # (H, W) bool, after post-processing
    frame_difference: np.ndarray  # (H, W) float32, |F_k - F_(k-9)| in the video's grey units
    lesions: list[Lesion]  # components of at least min_lesion_size
    prediction: ResponsePrediction | None
    device: str  # e.g. "CPU" or "cuda:0 (NVIDIA RTX A4000)"
    backend: str  # "torch" or "onnx"
    timings_ms: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # e.g. fewer than 10 frames: the first frame was repeated
    weights_name: str = ""  # which weights made it, e.g. "Shipped weights" (weights_library)
    scope: ScopeDecision | None = None  # None: not decided (e.g. a result saved before scopes)
    min_lesion_size: MinLesionSize = field(default_factory=MinLesionSize)
