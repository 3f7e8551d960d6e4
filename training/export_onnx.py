"""Export the segmentation and response models of a weights folder to ONNX for the viewer's
ONNX Runtime backend; the .onnx files and their sha256 are added to the folder's manifest.

The graphs are the inference modules of :mod:`dsaviewer.inference.probability_modules`
(probabilities out, the response image built inside), traced by the TorchScript exporter
(``dynamo=False``) at opset 17 with a dynamic batch axis. Each graph carries the facts the
backend needs in its metadata, so the viewer runs it without torch.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from dsaviewer.inference.manifest import (
    RESPONSE,
    SEGMENTATION,
    OnnxEntry,
    WeightsManifest,
    read_manifest,
    sha256_of,
    with_onnx,
    write_manifest,
)
from dsaviewer.inference.onnx_backend import SPEC_METADATA_KEY
from dsaviewer.inference.probability_modules import (
    ResponseProbability,
    SegmentationProbabilities,
    response_input_names,
    response_spec_fields,
    segmentation_input_names,
    segmentation_output_names,
    segmentation_spec,
)
from dsaviewer.inference.weights import load_weights
from dsaviewer.io.writers import replace_atomically
from dsaviewer.models import RUN_MAP_CHANNELS

OPSET = 17
ONNX_FILES = {SEGMENTATION: "segmentation.onnx", RESPONSE: "response.onnx"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("weights_dir", type=Path, help="folder holding manifest.json")


def run(args: argparse.Namespace) -> int:
    manifest = export_onnx(args.weights_dir)
    for role, entry in manifest.entries().items():
        print(f"{role}: {args.weights_dir / entry.onnx.file} (sha256 {entry.onnx.sha256[:16]}…)")
    return 0


def export_onnx(weights_dir: str | Path, opset: int = OPSET) -> WeightsManifest:
    """Write ``segmentation.onnx`` (and ``response.onnx``) into ``weights_dir`` and record
    them in its manifest; return the updated manifest."""
    folder = Path(weights_dir)
    weights = load_weights(folder)
    config = weights.segmentation_config
    size = config.image_size
    examples = {
        "frames": torch.rand(1, config.n_frames, size, size),
        "aux": torch.rand(1, 1, size, size),
        "run_maps": torch.rand(1, RUN_MAP_CHANNELS, size, size),
    }
    input_names = segmentation_input_names(weights.segmentation)
    inputs = tuple(examples[name] for name in input_names)
    spec = dataclasses.asdict(segmentation_spec(weights.segmentation))
    manifest = _export(
        folder, weights.manifest, SEGMENTATION, SegmentationProbabilities(weights.segmentation),
        inputs, input_names,
        segmentation_output_names(weights.segmentation), spec, opset,
    )
    if weights.response is not None:
        response_config = weights.response_config
        image = torch.rand(1, 1, size, size)
        examples.update(key_frame=image, tumor=(image > 0.5).float(),
                        clinical=torch.randn(1, response_config.clinical_features))
        input_names = response_input_names(response_config)
        manifest = _export(
            folder, manifest, RESPONSE, ResponseProbability(weights.response, response_config),
            tuple(examples[name] for name in input_names), input_names, ["probability"],
            response_spec_fields(response_config), opset,
        )
    write_manifest(folder, manifest)
    return read_manifest(folder)


@contextlib.contextmanager
def legacy_exporter_notices_silenced() -> Iterator[None]:
    """The TorchScript exporter is chosen on purpose (its graphs run on every onnxruntime
    provider): its deprecation notices, and the tracer's note that the models' input-shape
    checks become constants, say nothing to act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message="You are using the legacy TorchScript")
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def _export(
    folder: Path,
    manifest: WeightsManifest,
    role: str,
    module: torch.nn.Module,
    inputs: tuple[torch.Tensor, ...],
    input_names: list[str],
    output_names: list[str],
    spec: dict,
    opset: int,
) -> WeightsManifest:
    import onnx

    path = folder / ONNX_FILES[role]
    with replace_atomically(path) as temporary, legacy_exporter_notices_silenced():
        torch.onnx.export(
            module.eval(),
            inputs,
            str(temporary),
            dynamo=False,
            opset_version=opset,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes={name: {0: "batch"} for name in (*input_names, *output_names)},
        )
        graph = onnx.load(str(temporary))
        entry = graph.metadata_props.add()
        entry.key, entry.value = SPEC_METADATA_KEY, json.dumps(spec)
        onnx.checker.check_model(graph)
        onnx.save(graph, str(temporary))
    return with_onnx(manifest, role, OnnxEntry(path.name, sha256_of(path), opset))
