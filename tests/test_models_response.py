"""DSA-Net Model 2: ResNet18 image branch, clinical MLP, missing clinical data, training step."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from dsaviewer.errors import InputError
from dsaviewer.models import (
    RUN_MAP_CHANNELS,
    ResNet18,
    ResponseConfig,
    ResponseNet,
    build_response_model,
    count_parameters,
    response_image,
    response_image_channels,
    tumor_measurements,
)

CLINICAL = 6
TINY = ResponseConfig(clinical_features=CLINICAL, width=8, clinical_hidden=8, fusion_hidden=8)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_resnet18_at_standard_width_is_torchvisions_feature_extractor() -> None:
    net = ResNet18(in_channels=3, width=64)
    # torchvision's resnet18 has 11,689,512 parameters, 513,000 of them in its 1000-class fc.
    assert count_parameters(net) == 11_689_512 - 513_000
    assert net.feature_dim == 512


def test_resnet18_width_and_channels_set_the_features() -> None:
    net = ResNet18(in_channels=5, width=8)
    assert net(torch.rand(2, 5, 64, 64)).shape == (2, 64)


def test_response_image_stacks_key_frame_product_and_prediction() -> None:
    key = torch.rand(2, 1, 8, 8)
    pred = torch.rand(2, 1, 8, 8)
    image = response_image(key, pred)
    assert image.shape == (2, 3, 8, 8)
    torch.testing.assert_close(image[:, 0], key[:, 0])
    torch.testing.assert_close(image[:, 1], key[:, 0] * pred[:, 0])
    torch.testing.assert_close(image[:, 2], pred[:, 0])
    with pytest.raises(ValueError, match="both be"):
        response_image(key, pred[:, :, :4])


def test_response_image_goes_on_with_the_run_maps() -> None:
    key, pred = torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8)
    maps = torch.rand(2, RUN_MAP_CHANNELS, 8, 8)
    image = response_image(key, pred, maps)
    assert image.shape == (2, response_image_channels(True), 8, 8)
    torch.testing.assert_close(image[:, :3], response_image(key, pred))
    torch.testing.assert_close(image[:, 3:], maps)
    with pytest.raises(ValueError, match="run maps must be"):
        response_image(key, pred, maps[:, :1])


def test_a_run_reading_config_reads_the_run_maps_channels() -> None:
    config = ResponseConfig(clinical_features=CLINICAL, width=8, reads_run_maps=True,
                            image_channels=response_image_channels(True))
    model = build_response_model(config).eval()
    assert model(torch.rand(1, 5, 64, 64), torch.zeros(1, CLINICAL)).shape == (1,)
    with pytest.raises(ValueError, match="reads 5 image channels"):
        ResponseConfig(clinical_features=CLINICAL, reads_run_maps=True)
    with pytest.raises(ValueError, match="not reading the run maps reads 3 image channels"):
        ResponseConfig(clinical_features=CLINICAL, image_channels=5)
    # Configs stored before the option existed read no run maps.
    stored = {k: v for k, v in TINY.to_dict().items() if k != "reads_run_maps"}
    assert ResponseConfig.from_dict(stored).reads_run_maps is False


def test_response_net_gives_one_logit_per_case() -> None:
    model = build_response_model(TINY).eval()
    logits = model(torch.rand(3, 3, 64, 64), torch.randn(3, CLINICAL))
    assert logits.shape == (3,)
    assert torch.isfinite(logits).all()


def test_clinical_values_change_the_prediction() -> None:
    model = build_response_model(TINY).eval()
    image = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        low = model(image, torch.full((1, CLINICAL), -2.0))
        high = model(image, torch.full((1, CLINICAL), 2.0))
    assert not torch.allclose(low, high)


def test_batch_with_all_clinical_data_missing() -> None:
    model = build_response_model(TINY).eval()
    image = torch.rand(4, 3, 64, 64)
    with torch.no_grad():
        absent = model(image, torch.zeros(4, CLINICAL))
        omitted = model(image, None)
    assert torch.isfinite(absent).all()
    torch.testing.assert_close(absent, omitted)


def test_image_only_model_refuses_clinical_values() -> None:
    model = ResponseNet(clinical_features=0, width=8).eval()
    assert model(torch.rand(2, 3, 64, 64)).shape == (2,)
    with pytest.raises(ValueError, match="without a clinical branch"):
        model(torch.rand(2, 3, 64, 64), torch.zeros(2, 3))


def test_wrong_clinical_width_is_refused() -> None:
    model = build_response_model(TINY)
    with pytest.raises(ValueError, match=f"\\(2, {CLINICAL}\\)"):
        model(torch.rand(2, 3, 64, 64), torch.zeros(2, CLINICAL + 1))


def test_one_adam_step_lowers_the_response_loss() -> None:
    model = build_response_model(ResponseConfig(clinical_features=CLINICAL, width=8, dropout=0.0))
    model.train()
    image = torch.rand(8, 3, 64, 64)
    clinical = torch.randn(8, CLINICAL)
    clinical[:2] = 0  # two cases with every variable missing
    label = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    before = loss_fn(model(image, clinical), label)
    optimizer.zero_grad()
    before.backward()
    optimizer.step()
    after = loss_fn(model(image, clinical), label)
    assert after.item() < before.item()


def test_response_weights_round_trip_through_a_weights_only_load(tmp_path: Path) -> None:
    model = build_response_model(TINY).train()
    model(torch.rand(4, 3, 64, 64), torch.randn(4, CLINICAL))
    model.eval()
    path = tmp_path / "response.pt"
    torch.save({"config": TINY.to_dict(), "state_dict": model.state_dict()}, path)
    stored = torch.load(path, weights_only=True)
    restored = build_response_model(ResponseConfig.from_dict(stored["config"])).eval()
    restored.load_state_dict(stored["state_dict"])
    image, clinical = torch.rand(2, 3, 64, 64), torch.randn(2, CLINICAL)
    with torch.no_grad():
        assert torch.equal(model(image, clinical), restored(image, clinical))


def test_response_config_from_bad_data_raises_input_error() -> None:
    with pytest.raises(InputError, match="lacks required field.*clinical_features"):
        ResponseConfig.from_dict({"width": 8}, source="resp.pt")
    with pytest.raises(InputError, match="dropout must be in"):
        ResponseConfig.from_dict({"clinical_features": 4, "dropout": 1.5})
    integer_dropout = ResponseConfig.from_dict({"clinical_features": 4, "dropout": 0})
    assert isinstance(integer_dropout.dropout, float)


def test_linear_clinical_path_adds_a_logistic_regression_to_the_logit() -> None:
    config = ResponseConfig.from_dict({**TINY.to_dict(), "clinical_linear": True})
    model = build_response_model(config).eval()
    plain = build_response_model(TINY).eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith("clinical_linear.")})
    image, clinical = torch.rand(3, 3, 64, 64), torch.randn(3, CLINICAL)
    with torch.no_grad():
        path = model.clinical_linear(clinical).squeeze(1)
        torch.testing.assert_close(model(image, clinical), plain(image, clinical) + path)
    assert count_parameters(model) == count_parameters(plain) + CLINICAL + 1
    # Weights saved before the option existed have no such key and load as before.
    assert ResponseConfig.from_dict({"clinical_features": CLINICAL}).clinical_linear is False
    with pytest.raises(InputError, match="clinical_linear needs clinical features"):
        ResponseConfig.from_dict({"clinical_features": 0, "clinical_linear": True})


def test_tumor_measurements_are_the_contrast_inside_the_mask_and_its_log_area() -> None:
    key_frame, tumor = torch.full((2, 1, 64, 64), 0.2), torch.zeros(2, 1, 64, 64)
    key_frame[0, :, 10:20, 10:20] = 0.8
    tumor[0, :, 10:20, 10:20] = 1.0  # the second image predicts no tumor
    run_maps = torch.zeros(2, RUN_MAP_CHANNELS, 64, 64)
    run_maps[0, 0, 10:20, 10:20] = 0.5  # the tumor enhances in the maximum map only
    measured = tumor_measurements(response_image(key_frame, tumor, run_maps))
    # Inside minus outside, over the 100 tumor pixels plus one of slack (and the outside mean
    # over its 3,996 pixels plus one).
    outside = 0.2 * 3996 / 3997
    expected_first = [(0.8 - outside) * 100 / 101, 0.5 * 100 / 101, 0.0,
                      math.log(100 / 4096 + 1e-3)]
    torch.testing.assert_close(measured[0], torch.tensor(expected_first))
    torch.testing.assert_close(measured[1], torch.tensor([0.0, 0.0, 0.0, math.log(1e-3)]))
    # Without the run maps: the key frame's contrast and the area.
    alone = tumor_measurements(response_image(key_frame, tumor))
    torch.testing.assert_close(alone, measured[:, [0, 3]])


@pytest.mark.parametrize("run_maps", [False, True])
def test_measurement_path_adds_a_linear_map_of_the_measurements_to_the_logit(run_maps) -> None:
    plain_config = ResponseConfig.from_dict({
        **TINY.to_dict(), "reads_run_maps": run_maps,
        "image_channels": response_image_channels(run_maps)})
    config = ResponseConfig.from_dict({**plain_config.to_dict(), "tumor_measurements": True})
    model, plain = build_response_model(config).eval(), build_response_model(plain_config).eval()
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith("measurement_linear.")})
    image = torch.rand(3, config.image_channels, 64, 64)
    clinical = torch.randn(3, CLINICAL)
    with torch.no_grad():
        path = model.measurement_linear(tumor_measurements(image)).squeeze(1)
        torch.testing.assert_close(model(image, clinical), plain(image, clinical) + path)
    measured = 4 if run_maps else 2
    assert count_parameters(model) == count_parameters(plain) + measured + 1
    assert ResponseConfig.from_dict({"clinical_features": CLINICAL}).tumor_measurements is False
