"""The weights folder: manifest + tensor files written, verified and loaded back."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import pytest
import torch
from test_inference_fixtures import tiny_config, write_tiny_weights

from dsaviewer.errors import InputError
from dsaviewer.inference.backend import load_backend
from dsaviewer.inference.manifest import (
    MANIFEST_NAME,
    WeightsError,
    read_manifest,
    sha256_of,
)
from dsaviewer.inference.weights import load_weights, write_weights
from dsaviewer.models import ResponseConfig, build_response_model, build_segmentation_model


def _edit_manifest(folder, edit) -> None:
    path = folder / MANIFEST_NAME
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_round_trip_restores_configs_tensors_and_provenance(tmp_path) -> None:
    write_tiny_weights(tmp_path, seed=3)
    torch.manual_seed(3)
    original = build_segmentation_model(tiny_config())

    loaded = load_weights(tmp_path)

    assert loaded.segmentation_config == tiny_config()
    assert loaded.response_config.clinical_features == 26
    assert loaded.threshold == 0.5
    assert not loaded.segmentation.training and not loaded.response.training
    for name, tensor in original.state_dict().items():
        assert torch.equal(loaded.segmentation.state_dict()[name], tensor), name
    manifest = read_manifest(tmp_path)
    assert manifest.provenance.data_seed == 3 and manifest.provenance.random_init
    for entry in manifest.entries().values():
        assert entry.sha256 == sha256_of(tmp_path / entry.file)


def test_segmentation_only_build_loads_without_response(tmp_path) -> None:
    write_tiny_weights(tmp_path, with_response=False)
    loaded = load_weights(tmp_path)
    assert loaded.response is None and loaded.threshold is None


def test_corrupt_file_is_refused_by_checksum_before_loading(tmp_path) -> None:
    write_tiny_weights(tmp_path)
    with (tmp_path / "segmentation.pt").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00corrupt")
    with pytest.raises(WeightsError, match="checksum mismatch") as caught:
        load_weights(tmp_path)
    assert caught.value.source.endswith("segmentation.pt")
    assert isinstance(caught.value, InputError)


@pytest.mark.parametrize("file", ["segmentation.pt", "response.pt", MANIFEST_NAME])
def test_missing_file_is_named(tmp_path, file) -> None:
    write_tiny_weights(tmp_path)
    (tmp_path / file).unlink()
    with pytest.raises(WeightsError, match="missing|no weights manifest") as caught:
        load_weights(tmp_path)
    assert caught.value.source.endswith(file)


def test_manifest_architecture_differing_from_the_file_names_the_field(tmp_path) -> None:
    write_tiny_weights(tmp_path)
    _edit_manifest(tmp_path, lambda doc: doc["segmentation"]["config"].update(base_width=8))
    with pytest.raises(WeightsError, match="base_width = 4 in the file, 8 in the manifest"):
        load_weights(tmp_path)


def test_tensors_of_another_architecture_name_the_first_mismatch(tmp_path) -> None:
    write_tiny_weights(tmp_path)
    wider = build_segmentation_model(replace(tiny_config(), base_width=8))
    # A tensor file without its own config: only the tensors can tell the architecture.
    torch.save({"state_dict": wider.state_dict()}, tmp_path / "segmentation.pt")
    _edit_manifest(tmp_path, lambda doc: doc["segmentation"].update(
        sha256=sha256_of(tmp_path / "segmentation.pt")))
    with pytest.raises(WeightsError, match=r"tensor 'temporal_net\.\S+' is \(8, 10, 3, 3\)"):
        load_weights(tmp_path)


def test_arbitrary_pickles_are_never_unpickled(tmp_path, capsys) -> None:
    write_tiny_weights(tmp_path)

    class Payload:
        def __reduce__(self):
            return (print, ("unpickled!",))

    (tmp_path / "segmentation.pt").write_bytes(pickle.dumps({"state_dict": Payload()}, protocol=2))
    _edit_manifest(tmp_path, lambda doc: doc["segmentation"].update(
        sha256=sha256_of(tmp_path / "segmentation.pt")))
    with pytest.raises(WeightsError, match="Python objects other than tensors") as raised:
        load_weights(tmp_path)
    assert "unpickled!" not in capsys.readouterr().out
    # torch's hint to retry with the unsafe option must not reach the user.
    assert "weights_only" not in str(raised.value)
    assert "False" not in str(raised.value)


def test_bad_manifest_values_are_named(tmp_path) -> None:
    write_tiny_weights(tmp_path)
    _edit_manifest(tmp_path, lambda doc: doc["response"].update(threshold=1.5))
    with pytest.raises(WeightsError, match=r"response\.threshold must be a number in \[0, 1\]"):
        read_manifest(tmp_path)
    _edit_manifest(tmp_path, lambda doc: doc.update(format_version=99))
    with pytest.raises(WeightsError, match="format version 99"):
        read_manifest(tmp_path)


@pytest.mark.parametrize("calibration", [{"slope": 0, "intercept": 0.1}, {"slope": 1.0},
                                         [1.0, 0.0], {"slope": "1", "intercept": 0}])
def test_a_bad_response_calibration_is_named(tmp_path, calibration) -> None:
    write_tiny_weights(tmp_path)
    _edit_manifest(tmp_path, lambda doc: doc["response"].update(calibration=calibration))
    with pytest.raises(WeightsError, match=r"response\.calibration must be"):
        load_weights(tmp_path)


def test_a_response_calibration_is_read_back(tmp_path) -> None:
    write_tiny_weights(tmp_path)
    _edit_manifest(tmp_path, lambda doc: doc["response"].update(
        calibration={"slope": 0.8, "intercept": -0.2}))
    assert load_weights(tmp_path).manifest.response.calibration == (0.8, -0.2)


def test_write_weights_refuses_a_response_model_without_threshold(tmp_path) -> None:
    config = tiny_config()
    with pytest.raises(ValueError, match="both the response model and its config"):
        write_weights(tmp_path, build_segmentation_model(config), config, None, object(), 0.5, {})


def test_response_model_for_another_clinical_encoding_is_refused(tmp_path) -> None:
    config = tiny_config()
    response_config = ResponseConfig(clinical_features=5, width=8, image_size=64)
    write_weights(tmp_path, build_segmentation_model(config), config,
                  build_response_model(response_config), response_config, 0.5, {})
    with pytest.raises(WeightsError, match="reads 5 clinical features; this program makes 26"):
        load_backend(tmp_path)
