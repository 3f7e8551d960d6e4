"""Loading and writing the PyTorch weights of a weights folder (format: :mod:`.manifest`).

A tensor file is read only after its sha256 matched the manifest, and only with
``torch.load(weights_only=True)``: plain dicts, numbers, strings and tensors, never arbitrary
pickled objects. Each file also stores its config (``dsaviewer.models.factory``), which must
equal the manifest's, and its tensors must fit the architecture the config builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import (
    RESPONSE,
    SEGMENTATION,
    ModelEntry,
    Provenance,
    WeightsError,
    WeightsManifest,
    read_manifest,
    sha256_of,
    verified_path,
    write_manifest,
)
from dsaviewer.io.writers import replace_atomically

if TYPE_CHECKING:
    from torch import nn

    from dsaviewer.models import DSALTDNet, ResponseConfig, ResponseNet, SegmentationConfig

TENSOR_FILES = {SEGMENTATION: "segmentation.pt", RESPONSE: "response.pt"}


@dataclass(frozen=True)
class LoadedWeights:
    """The models of a weights folder, on the CPU, in eval mode."""

    directory: Path
    manifest: WeightsManifest
    segmentation: DSALTDNet
    segmentation_config: SegmentationConfig
    response: ResponseNet | None
    response_config: ResponseConfig | None

    @property
    def threshold(self) -> float | None:
        return None if self.manifest.response is None else self.manifest.response.threshold


def load_weights(directory: str | Path) -> LoadedWeights:
    """Read and verify a weights folder; WeightsError (an InputError) names what is wrong."""
    from dsaviewer.models import (
        ResponseConfig,
        SegmentationConfig,
        build_response_model,
        build_segmentation_model,
    )

    folder = Path(directory)
    manifest = read_manifest(folder)
    segmentation_config = _config(SegmentationConfig, manifest.segmentation, folder)
    segmentation = _load_model(
        folder, manifest.segmentation, segmentation_config,
        build_segmentation_model(segmentation_config),
    )
    response = response_config = None
    if manifest.response is not None:
        response_config = _config(ResponseConfig, manifest.response, folder)
        if response_config.image_size != segmentation_config.image_size:
            raise WeightsError(
                f"the response model reads {response_config.image_size} px images but the "
                f"segmentation model makes {segmentation_config.image_size} px masks",
                folder,
            )
        response = _load_model(
            folder, manifest.response, response_config, build_response_model(response_config)
        )
    return LoadedWeights(
        directory=folder,
        manifest=manifest,
        segmentation=segmentation,
        segmentation_config=segmentation_config,
        response=response,
        response_config=response_config,
    )


def write_weights(
    directory: str | Path,
    seg_model: nn.Module,
    seg_config: SegmentationConfig,
    response_model: nn.Module | None,
    response_config: ResponseConfig | None,
    threshold: float | None,
    provenance: Provenance | Mapping[str, Any],
) -> WeightsManifest:
    """Write the models' tensor files and the manifest into ``directory`` (created if needed),
    replacing an earlier build there; return the manifest written.

    ``response_model`` and ``response_config`` are None for a segmentation-only build;
    otherwise ``threshold`` (the response operating point, in [0, 1]) is required.
    ``provenance`` is a :class:`Provenance` or a dict of its fields.
    """
    import torch

    if (response_model is None) != (response_config is None):
        raise ValueError("give both the response model and its config, or neither")
    if response_model is not None and (threshold is None or not 0.0 <= threshold <= 1.0):
        raise ValueError(f"the response threshold must be in [0, 1], not {threshold!r}")
    if not isinstance(provenance, Provenance):
        provenance = Provenance(**dict(provenance))
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)

    def save(role: str, model: nn.Module, config: Any, threshold: float | None) -> ModelEntry:
        path = folder / TENSOR_FILES[role]
        state = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
        with replace_atomically(path) as temporary:
            torch.save({"config": config.to_dict(), "state_dict": state}, temporary)
        return ModelEntry(path.name, sha256_of(path), config.to_dict(), threshold)

    manifest = WeightsManifest(
        segmentation=save(SEGMENTATION, seg_model, seg_config, None),
        response=None
        if response_model is None
        else save(RESPONSE, response_model, response_config, float(threshold)),
        provenance=provenance,
    )
    write_manifest(folder, manifest)
    return read_manifest(folder)


def _config(cls: type, entry: ModelEntry, folder: Path) -> Any:
    try:
        return cls.from_dict(entry.config, folder / entry.file)
    except InputError as error:
        raise WeightsError(f"manifest config: {error.reason}", error.source) from error


def _load_model(folder: Path, entry: ModelEntry, config: Any, model: nn.Module) -> nn.Module:
    import torch

    path = verified_path(folder, entry.file, entry.sha256)
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
        raise WeightsError(
            f"not a weights file that can be loaded safely: {_load_problem(error)}", path
        ) from error
    if not isinstance(stored, dict) or not isinstance(stored.get("state_dict"), dict):
        raise WeightsError('expected {"config": ..., "state_dict": ...}', path)
    stored_config = stored.get("config")
    if stored_config is not None:
        try:
            built_for = type(config).from_dict(stored_config, path)
        except InputError as error:
            raise WeightsError(f"stored config: {error.reason}", path) from error
        if built_for != config:
            difference = _first_difference(built_for, config)
            raise WeightsError(f"the file was built for another architecture: {difference}", path)
    _check_state_dict(stored["state_dict"], model.state_dict(), path)
    model.load_state_dict(stored["state_dict"], strict=True)
    return model.eval()


def _check_state_dict(stored: Mapping[str, Any], expected: Mapping[str, Any], path: Path) -> None:
    """WeightsError naming the first tensor that is missing, extra or of the wrong shape."""
    for name, tensor in expected.items():
        if name not in stored:
            raise WeightsError(
                f"built for another architecture: tensor {name!r} {tuple(tensor.shape)} is missing",
                path,
            )
        found = stored[name]
        if not hasattr(found, "shape") or tuple(found.shape) != tuple(tensor.shape):
            shape = tuple(found.shape) if hasattr(found, "shape") else type(found).__name__
            raise WeightsError(
                f"built for another architecture: tensor {name!r} is {shape}, the model "
                f"needs {tuple(tensor.shape)}",
                path,
            )
    extra = [name for name in stored if name not in expected]
    if extra:
        raise WeightsError(
            f"built for another architecture: unexpected tensor {extra[0]!r} "
            f"({len(extra)} extra in all)",
            path,
        )


def _first_difference(stored: Any, manifest: Any) -> str:
    for name in type(manifest).__dataclass_fields__:
        if getattr(stored, name) != getattr(manifest, name):
            return (
                f"{name} = {getattr(stored, name)!r} in the file, "
                f"{getattr(manifest, name)!r} in the manifest"
            )
    return "configs differ"


def _load_problem(error: Exception) -> str:
    """What was wrong with a file torch.load refused, in words. torch's own message advises
    re-running with weights_only=False, which would execute code from the file: never
    passed on."""
    text = str(error)
    if "weights_only" in text or "Weights only load failed" in text:
        found = text.rpartition("WeightsUnpickler error:")[2].strip().splitlines()
        detail = f" ({found[0]})" if found and found[0] else ""
        return f"it holds Python objects other than tensors, numbers and strings{detail}"
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return f"it is damaged or not a PyTorch file ({first[:200]})"
