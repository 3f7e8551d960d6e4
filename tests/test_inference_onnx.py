"""ONNX export (``python -m training export-onnx``) and the ONNX Runtime backend against the
PyTorch reference.

Tolerance: the two runtimes differ only in float32 rounding (convolution order, fused
kernels); probabilities agree to 1e-5 absolute, and masks, lesions and the key frame exactly
(no pixel of these clips lies within 1e-5 of the 0.5 threshold)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from test_inference_fixtures import synthetic_video, write_tiny_weights  # noqa: E402

from dsaviewer.inference.backend import load_backend  # noqa: E402
from dsaviewer.inference.manifest import MANIFEST_NAME, WeightsError, sha256_of  # noqa: E402
from dsaviewer.inference.pipeline import analyze  # noqa: E402
from training.__main__ import main as training_main  # noqa: E402

PROBABILITY_TOLERANCE = 1e-5


# ablation, then optionally the liver input, the backbone and "response_run_maps" (a response
# model reading the run maps and measuring the tumor); "-" keeps the ablation's own.
@pytest.fixture(scope="module",
                params=["full", "kf_fd", "full+frames_and_run", "full+frames_and_run+context_unet",
                        "full+-+-+response_run_maps"])
def exported(request, tmp_path_factory):
    ablation, liver_input, backbone, response = (request.param.split("+") + ["-"] * 3)[:4]
    folder = write_tiny_weights(tmp_path_factory.mktemp(ablation), ablation=ablation,
                                liver_input=None if liver_input == "-" else liver_input,
                                backbone=None if backbone == "-" else backbone,
                                response_run_maps=response == "response_run_maps",
                                response_measurements=response == "response_run_maps")
    assert training_main(["export-onnx", str(folder)]) == 0
    return folder


def test_export_records_the_graphs_and_checksums_in_the_manifest(exported) -> None:
    manifest = json.loads((exported / MANIFEST_NAME).read_text())
    for role in ("segmentation", "response"):
        onnx_entry = manifest[role]["onnx"]
        assert onnx_entry["opset"] == 17
        assert onnx_entry["sha256"] == sha256_of(exported / onnx_entry["file"])


def test_onnx_and_torch_backends_agree(exported) -> None:
    # What the graph's metadata says of its inputs is what the PyTorch model reads.
    onnx_models, torch_models = load_backend(exported, "onnx"), load_backend(exported, "torch")
    assert onnx_models.segmentation == torch_models.segmentation
    assert onnx_models.response == torch_models.response
    video = synthetic_video()
    clinical = {"age": 58, "sex": "F", "hbv": 1, "afp": 350.0, "bclc": "B"}
    reference = analyze(video, clinical=clinical, weights=load_backend(exported, "torch"))
    onnx_result = analyze(video, clinical=clinical, weights=load_backend(exported, "onnx"))

    assert onnx_result.backend == "onnx" and onnx_result.device == "CPU"
    for name in ("tumor_probability", "liver_probability"):
        np.testing.assert_allclose(
            getattr(onnx_result, name), getattr(reference, name), atol=PROBABILITY_TOLERANCE
        )
    np.testing.assert_array_equal(onnx_result.tumor_mask, reference.tumor_mask)
    np.testing.assert_array_equal(onnx_result.liver_mask, reference.liver_mask)
    assert [lesion.bbox for lesion in onnx_result.lesions] == [
        lesion.bbox for lesion in reference.lesions
    ]
    assert onnx_result.prediction.probability == pytest.approx(
        reference.prediction.probability, abs=PROBABILITY_TOLERANCE
    )
    assert onnx_result.key_frame == reference.key_frame


def test_onnx_backend_needs_an_export(tmp_path) -> None:
    with pytest.raises(WeightsError, match="export-onnx"):
        load_backend(write_tiny_weights(tmp_path), "onnx")


def test_corrupt_onnx_graph_is_refused(exported, tmp_path) -> None:
    copy = tmp_path / "weights"
    copy.mkdir()
    for path in exported.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    with (copy / "segmentation.onnx").open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff\xff")
    with pytest.raises(WeightsError, match="checksum mismatch"):
        load_backend(copy, "onnx")
