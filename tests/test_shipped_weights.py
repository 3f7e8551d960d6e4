"""The weights the viewer ships: intact, loadable as tensors only, trained, calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from dsaviewer.core.metrics_segmentation import dice
from dsaviewer.inference.manifest import read_manifest, sha256_of
from dsaviewer.inference.pipeline import analyze
from dsaviewer.inference.weights import load_weights
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.labelme import read_labelme
from dsaviewer.resources import demo_case_dir, weights_dir

pytestmark = pytest.mark.skipif(
    not (weights_dir() / "manifest.json").is_file(), reason="no weights shipped in resources/"
)


def test_every_shipped_file_matches_its_manifest_checksum():
    folder = weights_dir()
    manifest = read_manifest(folder)
    for entry in manifest.entries().values():
        assert sha256_of(folder / entry.file) == entry.sha256
        assert entry.onnx is not None, "the packaged CPU build runs the ONNX export"
        assert sha256_of(folder / entry.onnx.file) == entry.onnx.sha256
    provenance = manifest.provenance
    assert not provenance.random_init
    assert provenance.training_command and provenance.data_size and provenance.evaluation


def test_shipped_weights_load_as_the_architecture_the_manifest_names():
    loaded = load_weights(weights_dir())
    assert loaded.segmentation_config.temporal == "tdl" and loaded.segmentation_config.use_lrs
    assert loaded.response is not None and 0.0 < loaded.threshold < 1.0
    slope, _ = loaded.manifest.response.calibration  # fitted by calibrate-response
    assert slope > 0


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_shipped_weights_segment_the_demo_case(backend):
    """Trained weights find the demo's liver and tumors; random ones would not."""
    case = open_case(demo_case_dir())
    key_frame = next(i for i, p in case.label_files.items() if read_labelme(p).is_key_frame)
    truth = read_labelme(case.label_files[key_frame]).masks
    result = analyze(case.root, key_frame=key_frame, key_frame_source="labels",
                     weights=weights_dir(), backend=backend)
    assert dice(result.liver_mask, truth["liver"]) > 0.9
    assert dice(result.tumor_mask, truth["tumor"]) > 0.7
    assert 0.0 <= result.prediction.probability <= 1.0
    assert np.isfinite(result.tumor_probability).all()
