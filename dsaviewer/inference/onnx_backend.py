"""The ONNX Runtime backend: the graphs ``python -m training export-onnx`` wrote beside the
weights, run by the CPU provider, or the CUDA / DirectML provider where installed. It needs
neither torch nor the .pt files; everything it must know about a graph is stored in the
graph's own metadata (:data:`SPEC_METADATA_KEY`)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from dsaviewer.core.probability_calibration import IDENTITY
from dsaviewer.errors import InputError
from dsaviewer.inference.backend import ResponseSpec, SegmentationMaps, SegmentationSpec
from dsaviewer.inference.manifest import (
    RESPONSE,
    SEGMENTATION,
    ModelEntry,
    WeightsError,
    read_manifest,
    verified_path,
)

SPEC_METADATA_KEY = "dsaviewer_spec"
_CPU = "CPUExecutionProvider"
_CUDA = "CUDAExecutionProvider"
_DIRECTML = "DmlExecutionProvider"
_DEVICE_PATTERN = re.compile(r"^(cpu|cuda|directml|dml)(?::(\d+))?$")


class OnnxBackend:
    name = "onnx"

    def __init__(self, weights_dir: Path, device: str | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise InputError(
                "the ONNX backend needs the onnxruntime package (pip install onnxruntime)",
                "backend",
            ) from error
        self._ort = onnxruntime
        manifest = read_manifest(weights_dir)
        self.weights_dir = Path(weights_dir)
        self.random_init = manifest.provenance.random_init
        providers = _providers(device, onnxruntime.get_available_providers())
        self._segment = self._session(manifest.segmentation, SEGMENTATION, providers)
        spec = _spec(self._segment, SEGMENTATION, self.weights_dir)
        self.segmentation = SegmentationSpec(**spec)
        self._outputs = [output.name for output in self._segment.get_outputs()]
        self.response = None
        self._respond = None
        if manifest.response is not None:
            self._respond = self._session(manifest.response, RESPONSE, providers)
            self.response = ResponseSpec(
                threshold=float(manifest.response.threshold),
                calibration=manifest.response.calibration or IDENTITY,
                **_spec(self._respond, RESPONSE, self.weights_dir),
            )
        self.device = _describe(self._segment.get_providers()[0], providers)

    @classmethod
    def load(cls, weights_dir: str | Path, device: str | None = None) -> OnnxBackend:
        return cls(Path(weights_dir), device)

    def segment(
        self, frames: np.ndarray, aux: np.ndarray | None, run_maps: np.ndarray | None = None
    ) -> SegmentationMaps:
        feeds = {"frames": np.ascontiguousarray(frames, np.float32)[None]}
        if aux is not None:
            feeds["aux"] = np.ascontiguousarray(aux, np.float32)[None, None]
        if run_maps is not None:
            feeds["run_maps"] = np.ascontiguousarray(run_maps, np.float32)[None]
        maps = dict(zip(self._outputs, self._segment.run(None, feeds), strict=True))
        return SegmentationMaps(
            tumor=maps["tumor"][0, 0],
            liver=maps["liver"][0, 0] if "liver" in maps else None,
            temporal=maps["temporal"][0, 0] if "temporal" in maps else None,
        )

    def predict_response(
        self, key_frame: np.ndarray, tumor: np.ndarray, clinical: np.ndarray | None,
        run_maps: np.ndarray | None = None,
    ) -> float:
        if self._respond is None:
            raise RuntimeError("these weights hold no response model")
        feeds = {
            "key_frame": np.ascontiguousarray(key_frame, np.float32)[None, None],
            "tumor": np.ascontiguousarray(tumor, np.float32)[None, None],
        }
        if run_maps is not None:
            feeds["run_maps"] = np.ascontiguousarray(run_maps, np.float32)[None]
        if clinical is not None:
            feeds["clinical"] = np.ascontiguousarray(clinical, np.float32)[None]
        (probability,) = self._respond.run(None, feeds)
        return float(probability[0])

    def _session(self, entry: ModelEntry, role: str, providers: list[Any]) -> Any:
        if entry.onnx is None:
            raise WeightsError(
                f"no ONNX export of the {role} model: run `python -m training export-onnx "
                f"{self.weights_dir}`",
                self.weights_dir,
            )
        path = verified_path(self.weights_dir, entry.onnx.file, entry.onnx.sha256)
        options = self._ort.SessionOptions()
        options.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads otherwise spin after each run and take the cores from OpenCV,
        # from the other session and from the GUI: measured 41 -> 23 ms (segmentation) and
        # 21 -> 12 ms (response) on 2 cores with OpenCV work in between.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            return self._ort.InferenceSession(str(path), options, providers=providers)
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise WeightsError(f"ONNX Runtime cannot load the graph: {error}", path) from error


def _providers(device: str | None, available: list[str]) -> list[Any]:
    """Execution providers in order of preference for ``device`` (None/"auto": the best)."""
    choice = (device or "auto").strip().lower()
    if choice == "auto":
        preferred = [name for name in (_CUDA, _DIRECTML) if name in available]
        return [*preferred, _CPU]
    match = _DEVICE_PATTERN.match(choice)
    if match is None:
        raise InputError(
            f"unknown device {device!r} for the ONNX backend: use auto, cpu, cuda, cuda:N "
            "or directml",
            "device",
        )
    kind, index = match.group(1), int(match.group(2) or 0)
    if kind == "cpu":
        return [_CPU]
    provider = _CUDA if kind == "cuda" else _DIRECTML
    if provider not in available:
        raise InputError(
            f"{kind} was asked for, but this onnxruntime has no {provider} "
            f"(available: {', '.join(available)})",
            "device",
        )
    return [(provider, {"device_id": index}), _CPU]


def _describe(active: str, requested: list[Any]) -> str:
    if active == _CPU:
        return "CPU"
    for provider in requested:
        if isinstance(provider, tuple) and provider[0] == active:
            index = provider[1]["device_id"]
            break
    else:
        index = 0
    kind = "cuda" if active == _CUDA else "directml"
    return f"{kind}:{index} (onnxruntime {active})"


def _spec(session: Any, role: str, folder: Path) -> dict[str, Any]:
    text = session.get_modelmeta().custom_metadata_map.get(SPEC_METADATA_KEY)
    try:
        spec = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise WeightsError(
            f"the {role} ONNX graph lacks its {SPEC_METADATA_KEY!r} metadata: export it again "
            "with `python -m training export-onnx`",
            folder,
        ) from error
    fields = dataclasses.fields(SegmentationSpec if role == SEGMENTATION else ResponseSpec)
    # threshold and calibration come from the manifest, not the graph; a field with a default
    # was added after graphs were first exported, which do not name it.
    names = {field.name for field in fields} - {"threshold", "calibration"}
    required = {field.name for field in fields
                if field.name in names and field.default is dataclasses.MISSING}
    if not isinstance(spec, dict) or not required <= set(spec) <= names:
        raise WeightsError(f"the {role} ONNX graph's metadata is {spec!r}", folder)
    return spec
