"""What the pipeline needs from a model runtime, whichever it is (PyTorch or ONNX Runtime):
two calls on model-size numpy arrays and the few facts about the models that shape their
inputs. No torch here."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from dsaviewer.core.clinical_features import clinical_feature_vector
from dsaviewer.core.probability_calibration import IDENTITY, platt
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import WeightsError
from dsaviewer.io.clinical import ClinicalVariables

BACKENDS = ("torch", "onnx")
AUTO_BACKEND = "auto"


@dataclass(frozen=True)
class SegmentationSpec:
    """The segmentation model's inputs and outputs as the pipeline sees them."""

    n_frames: int  # frames k-n+1..k, the key frame last
    image_size: int  # model input side
    temporal: str  # SegmentationConfig.temporal: which aux channel to compute, if any
    has_liver: bool  # whether a liver probability map comes out
    # Whether the model reads the run maps (dsaviewer.core.run_maps); graphs exported before
    # that input existed do not say, and read none.
    run_maps: bool = False


@dataclass(frozen=True)
class ResponseSpec:
    clinical_features: int  # width of the clinical vector; 0 for an image-only model
    threshold: float  # the operating point stored with the weights (on the shown probability)
    calibration: tuple[float, float] = IDENTITY  # Platt slope, intercept on the model's logit
    # Whether the model reads the run maps beside the key frame; graphs exported before that
    # input existed do not say, and read none.
    run_maps: bool = False

    def shown_probability(self, model_probability: float) -> float:
        """The probability people see: the model's, through the weights' calibration."""
        return float(platt(model_probability, *self.calibration))


@dataclass(frozen=True)
class SegmentationMaps:
    """Model-size probability maps, float32 in [0, 1]."""

    tumor: np.ndarray  # (S, S)
    liver: np.ndarray | None  # (S, S); None when the model has no liver network
    temporal: np.ndarray | None  # (S, S) learned temporal difference (TDL models only)


class ModelBackend(Protocol):
    name: str  # "torch" or "onnx"
    device: str  # what runs the models, e.g. "CPU" or "cuda:0 (NVIDIA RTX A4000)"
    weights_dir: Path
    segmentation: SegmentationSpec
    response: ResponseSpec | None
    random_init: bool  # untrained weights: results mean nothing

    def segment(
        self, frames: np.ndarray, aux: np.ndarray | None, run_maps: np.ndarray | None = None
    ) -> SegmentationMaps:
        """``frames`` ``(n_frames, S, S)``, ``aux`` ``(S, S)`` or None and ``run_maps``
        ``(len(RUN_MAPS), S, S)`` or None, float32, as the spec says the model reads them."""
        ...

    def predict_response(
        self, key_frame: np.ndarray, tumor: np.ndarray, clinical: np.ndarray | None,
        run_maps: np.ndarray | None = None,
    ) -> float:
        """Probability of response from the model-size key frame and tumor mask ``(S, S)``,
        the clinical vector ``(clinical_features,)`` (None for an image-only model) and the
        run maps ``(len(RUN_MAPS), S, S)`` where the spec says the model reads them."""
        ...


def default_backend() -> str:
    """"torch" where PyTorch is installed, else "onnx": the packaged CPU build ships ONNX
    Runtime and the ONNX exports without torch. Looks torch up without importing it."""
    return "torch" if importlib.util.find_spec("torch") is not None else "onnx"


def load_backend(
    weights_dir: str | Path | None = None, backend: str | None = None, device: str | None = None
) -> ModelBackend:
    """Load the weights in ``weights_dir`` (default: the bundled ``resources/weights``) into
    ``backend`` ("torch", "onnx", or None / "auto": :func:`default_backend`) on ``device``
    (None: the best available). InputError (WeightsError) for a bad folder, device or
    backend name."""
    from dsaviewer.resources import weights_dir as bundled_weights_dir

    folder = Path(weights_dir) if weights_dir is not None else bundled_weights_dir()
    if backend in (None, AUTO_BACKEND):
        backend = default_backend()
    if backend == "torch":
        if importlib.util.find_spec("torch") is None:
            raise InputError(
                "PyTorch is not installed in this program (the packaged CPU build runs the "
                "ONNX exports): use the onnx backend",
                "backend",
            )
        from dsaviewer.inference.torch_backend import TorchBackend

        models: ModelBackend = TorchBackend.load(folder, device)
    elif backend == "onnx":
        from dsaviewer.inference.onnx_backend import OnnxBackend

        models = OnnxBackend.load(folder, device)
    else:
        raise InputError(f"unknown backend {backend!r}: use {' or '.join(BACKENDS)}", "backend")
    width = clinical_input(ClinicalVariables()).size
    if models.response is not None and models.response.clinical_features not in (0, width):
        raise WeightsError(
            f"the response model reads {models.response.clinical_features} clinical features; "
            f"this program makes {width}: the weights belong to another version",
            folder,
        )
    return models


def clinical_input(variables: ClinicalVariables) -> np.ndarray:
    """The response model's clinical vector: the encoded values, then their presence flags
    (``dsaviewer.core.clinical_features``), float32."""
    values, present = clinical_feature_vector(variables)
    return np.concatenate([values, present]).astype(np.float32)
