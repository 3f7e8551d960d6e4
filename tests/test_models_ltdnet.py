"""DSA-LTDNet and its ablations: configs, forward contract, training step, weights round trip."""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dsaviewer.core.run_maps import RUN_MAPS
from dsaviewer.errors import InputError
from dsaviewer.models import (
    ABLATIONS,
    SegmentationConfig,
    build_segmentation_model,
    count_parameters,
    ltdnet_loss,
)

SIZE = 64


def tiny(name: str) -> SegmentationConfig:
    return replace(ABLATIONS[name], base_width=4, depth=3, image_size=SIZE)


def inputs(config: SegmentationConfig, batch: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    frames = torch.rand(batch, config.n_frames, SIZE, SIZE, generator=generator)
    args = {"frames": frames}
    if config.needs_aux:
        args["aux"] = torch.rand(batch, 1, SIZE, SIZE, generator=generator)
    if config.reads_run_maps:
        args["run_maps"] = torch.rand(batch, len(RUN_MAPS), SIZE, SIZE, generator=generator)
    return args


def targets(frames: torch.Tensor) -> dict[str, torch.Tensor]:
    """A fixed batch: a tumor square inside a liver rectangle, FD from the frames."""
    batch = frames.shape[0]
    tumor = torch.zeros(batch, 1, SIZE, SIZE)
    tumor[:, :, 20:30, 24:34] = 1
    liver = torch.zeros(batch, 1, SIZE, SIZE)
    liver[:, :, 8:48, 8:56] = 1
    fd = (frames[:, -1:] - frames[:, :1]).abs()
    return {"tumor": tumor, "liver": liver, "fd": fd}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("name", sorted(ABLATIONS))
def test_every_ablation_builds_and_gives_the_outputs_it_promises(name: str) -> None:
    config = tiny(name)
    model = build_segmentation_model(config)
    out = model(**inputs(config))
    assert out.tumor_logits.shape == (2, 1, SIZE, SIZE)
    assert (out.liver_logits is not None) == (config.use_lrs or config.cascade)
    assert (out.temporal is not None) == (config.temporal == "tdl")
    if out.liver_logits is not None:
        assert out.liver_logits.shape == (2, 1, SIZE, SIZE)
    if out.temporal is not None:
        assert out.temporal.shape == (2, 1, SIZE, SIZE)
        assert out.temporal.min() >= 0 and out.temporal.max() <= 1


def test_presets_are_the_papers_rows() -> None:
    full = ABLATIONS["full"]
    assert (full.temporal, full.tdl_supervised) == ("tdl", True)
    assert (full.use_lrs, full.cascade) == (True, False)
    assert ABLATIONS["kf_tdl_unsupervised"].tdl_supervised is False
    assert ABLATIONS["kf_only"].tumor_in_channels == 1
    assert full.tumor_in_channels == 3
    # The baseline has one sub-network, the full model three of the same kind.
    baseline = count_parameters(build_segmentation_model(tiny("kf_only")))
    assert count_parameters(build_segmentation_model(tiny("full"))) > 2.9 * baseline


def test_aux_is_required_exactly_when_the_mode_uses_it() -> None:
    fd_model = build_segmentation_model(tiny("kf_fd"))
    frames = torch.rand(1, 10, SIZE, SIZE)
    with pytest.raises(ValueError, match="needs aux"):
        fd_model(frames)
    with pytest.raises(ValueError, match="needs aux"):
        fd_model(frames, torch.rand(1, 2, SIZE, SIZE))
    with pytest.raises(ValueError, match="does not use it"):
        build_segmentation_model(tiny("full"))(frames, torch.rand(1, 1, SIZE, SIZE))


def test_wrong_number_of_frames_is_refused() -> None:
    model = build_segmentation_model(tiny("full"))
    with pytest.raises(ValueError, match=r"\(B, 10, H, W\)"):
        model(torch.rand(1, 9, SIZE, SIZE))


def test_temporal_channel_changes_the_tumor_prediction() -> None:
    model = build_segmentation_model(tiny("kf_fd")).eval()
    args = inputs(tiny("kf_fd"), batch=1)
    with torch.no_grad():
        first = model(**args).tumor_logits
        second = model(args["frames"], torch.zeros_like(args["aux"])).tumor_logits
    assert not torch.allclose(first, second)


def test_cascade_liver_probability_gates_the_tumor_input() -> None:
    model = build_segmentation_model(tiny("cascade")).eval()
    with torch.no_grad():
        # A liver network certain there is no liver anywhere zeroes the tumor network's input.
        model.liver_net.head.bias.fill_(-1e4)
        a = model(torch.rand(1, 10, SIZE, SIZE)).tumor_logits
        b = model(torch.rand(1, 10, SIZE, SIZE)).tumor_logits
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("liver_input", ["key_frame", "frames", "frames_and_run"])
def test_the_liver_network_reads_the_inputs_its_config_names(liver_input: str) -> None:
    config = replace(tiny("full"), liver_input=liver_input)
    model = build_segmentation_model(config).eval()
    given = inputs(config, batch=1)
    earlier_changed = dict(given, frames=given["frames"].clone())
    earlier_changed["frames"][:, :-1] = torch.rand(1, 9, SIZE, SIZE)
    with torch.no_grad():
        liver = model(**given).liver_logits
        same = torch.allclose(liver, model(**earlier_changed).liver_logits)
        if config.reads_run_maps:
            other_run = dict(given, run_maps=torch.rand(1, len(RUN_MAPS), SIZE, SIZE))
            assert not torch.allclose(liver, model(**other_run).liver_logits)
    assert same == (liver_input == "key_frame")


def test_run_maps_are_required_exactly_when_the_liver_network_reads_them() -> None:
    frames = torch.rand(1, 10, SIZE, SIZE)
    run_model = build_segmentation_model(replace(tiny("full"), liver_input="frames_and_run"))
    with pytest.raises(ValueError, match="needs run_maps"):
        run_model(frames)
    with pytest.raises(ValueError, match="needs run_maps"):
        run_model(frames, None, torch.rand(1, 1, SIZE, SIZE))
    with pytest.raises(ValueError, match="does not use them"):
        build_segmentation_model(tiny("full"))(frames, None, torch.rand(1, 2, SIZE, SIZE))
    with pytest.raises(ValueError, match="needs a liver network"):
        replace(tiny("kf_tdl"), liver_input="frames_and_run")


def test_config_round_trips_through_json() -> None:
    for config in ABLATIONS.values():
        text = json.dumps(config.to_dict())
        assert SegmentationConfig.from_dict(json.loads(text)) == config
    # Weights stored before the liver network could read the stack read the key frame.
    stored = {k: v for k, v in ABLATIONS["full"].to_dict().items() if k != "liver_input"}
    assert SegmentationConfig.from_dict(stored).liver_input == "key_frame"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"backbone": "unet", "widht": 8}, "unknown SegmentationConfig field"),
        ({"base_width": "8"}, "base_width must be int"),
        ({"use_lrs": 1}, "use_lrs must be bool"),
        ({"depth": True}, "depth must be int"),
        ({"backbone": "transformer"}, "backbone must be one of"),
        ({"temporal": "fd", "tdl_supervised": True}, "tdl_supervised needs temporal='tdl'"),
        ({"image_size": 100}, "multiple of 2\\*\\*depth"),
        ({"liver_input": "video"}, "liver_input must be one of"),
        ({"liver_input": "frames"}, "needs a liver network"),
    ],
)
def test_bad_stored_config_raises_input_error_naming_the_source(data: dict, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        SegmentationConfig.from_dict(data, source="weights/seg.pt")
    assert caught.value.source == "weights/seg.pt"


def test_one_adam_step_lowers_the_full_model_loss() -> None:
    config = tiny("full")
    model = build_segmentation_model(config).train()
    batch = inputs(config, batch=4)
    batch.update(targets(batch["frames"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    before = ltdnet_loss(model(batch["frames"]), batch, config)
    assert set(before.as_floats()) == {"total", "tumor", "liver", "temporal"}
    optimizer.zero_grad()
    before.total.backward()
    optimizer.step()
    after = ltdnet_loss(model(batch["frames"]), batch, config)
    assert after.total.item() < before.total.item()


def test_weights_round_trip_through_a_weights_only_load(tmp_path: Path) -> None:
    config = tiny("full")
    model = build_segmentation_model(config).train()
    model(**inputs(config, batch=4, seed=1))  # move the batch-norm running statistics
    model.eval()
    path = tmp_path / "segmentation.pt"
    torch.save({"config": config.to_dict(), "state_dict": model.state_dict()}, path)

    stored = torch.load(path, weights_only=True)
    restored = build_segmentation_model(SegmentationConfig.from_dict(stored["config"]))
    restored.load_state_dict(stored["state_dict"])
    restored.eval()
    args = inputs(config, seed=2)
    with torch.no_grad():
        expected, got = model(**args), restored(**args)
    for a, b in zip(expected, got, strict=True):
        assert torch.equal(a, b)


ONNX_OUTPUTS = ["tumor_logits", "liver_logits", "temporal"]


@pytest.fixture(scope="module", params=["key_frame", "frames"])
def onnx_export(request) -> tuple[torch.nn.Module, bytes]:
    """The full model at 256×256 (its liver network reading the key frame or the stack) and
    its ONNX export (legacy TorchScript exporter, opset 17)."""
    pytest.importorskip("onnx", reason="onnx is not installed; torch.onnx.export needs it")
    torch.manual_seed(0)
    model = build_segmentation_model(replace(ABLATIONS["full"], liver_input=request.param))
    model.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the legacy exporter's notice
        torch.onnx.export(
            model,
            (torch.rand(1, 10, 256, 256),),
            buffer,
            dynamo=False,
            opset_version=17,
            input_names=["frames"],
            output_names=ONNX_OUTPUTS,
        )
    return model, buffer.getvalue()


def test_full_model_exports_to_a_valid_onnx_graph(onnx_export: tuple) -> None:
    import onnx

    exported = onnx.load_from_string(onnx_export[1])
    onnx.checker.check_model(exported)
    assert [output.name for output in exported.graph.output] == ONNX_OUTPUTS


def test_onnx_export_computes_what_the_model_computes(onnx_export: tuple) -> None:
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    model, graph = onnx_export
    frames = torch.rand(1, 10, 256, 256)
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    got = session.run(None, {"frames": frames.numpy()})
    with torch.no_grad():
        expected = model(frames)
    for from_onnx, from_torch in zip(got, expected, strict=True):
        torch.testing.assert_close(torch.from_numpy(from_onnx), from_torch, rtol=1e-4, atol=1e-4)
