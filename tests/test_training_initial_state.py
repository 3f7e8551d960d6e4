"""Starting a run from trained weights of a slightly different model: a liver network that
read the key frame alone, widened to read the whole frame stack, or a network with more
channels, each without changing the outputs it starts from."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from dsaviewer.core.run_maps import RUN_MAPS
from dsaviewer.inference.weights import write_weights
from dsaviewer.models import ABLATIONS, build_segmentation_model
from dsaviewer.models.backbones import BACKBONES
from training.__main__ import main as training_main
from training.initial_state import initial_state
from training.synth import write_dataset
from training.synth.options import SynthOptions

WEIGHTS = Path(__file__).resolve().parents[1] / "resources" / "weights" / "segmentation.pt"
KEY_FRAME = replace(ABLATIONS["full"], base_width=4, depth=3, image_size=64)
STACK = replace(KEY_FRAME, liver_input="frames")
RUN = replace(KEY_FRAME, liver_input="frames_and_run")


def test_the_widened_liver_network_starts_with_the_key_frame_networks_outputs() -> None:
    torch.manual_seed(0)
    trained = build_segmentation_model(KEY_FRAME).eval()
    widened = build_segmentation_model(STACK).eval()
    widened.load_state_dict(initial_state(trained.state_dict(), KEY_FRAME, STACK))
    frames = torch.rand(2, KEY_FRAME.n_frames, 64, 64)
    with torch.no_grad():
        before, after = trained(frames), widened(frames)
        torch.testing.assert_close(after.liver_logits, before.liver_logits)
        torch.testing.assert_close(after.tumor_logits, before.tumor_logits)
        # The earlier frames are inputs now: weights on them change the liver output.
        widened.liver_net.encoder.stem[0].weight[:, 0].fill_(0.5)
        assert not torch.allclose(widened(frames).liver_logits, before.liver_logits)


@pytest.mark.parametrize("source", [KEY_FRAME, STACK], ids=["key_frame", "frames"])
def test_a_liver_network_given_the_run_maps_starts_with_its_outputs(source) -> None:
    torch.manual_seed(0)
    trained = build_segmentation_model(source).eval()
    widened = build_segmentation_model(RUN).eval()
    widened.load_state_dict(initial_state(trained.state_dict(), source, RUN))
    frames = torch.rand(2, RUN.n_frames, 64, 64)
    run_maps = torch.rand(2, len(RUN_MAPS), 64, 64)
    with torch.no_grad():
        before, after = trained(frames), widened(frames, None, run_maps)
        torch.testing.assert_close(after.liver_logits, before.liver_logits)
        torch.testing.assert_close(after.tumor_logits, before.tumor_logits)
        stem = widened.liver_net.encoder.stem[0].weight
        assert torch.count_nonzero(stem[:, RUN.n_frames:]) == 0  # the run maps: new, zero
        stem[:, RUN.n_frames:].fill_(0.5)
        assert not torch.allclose(widened(frames, None, run_maps).liver_logits,
                                  before.liver_logits)


@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_a_u_net_gains_context_blocks_and_starts_with_its_outputs(upsample) -> None:
    unet = replace(RUN, upsample=upsample)
    context = replace(unet, backbone="context_unet")
    torch.manual_seed(0)
    trained = build_segmentation_model(unet)
    gained = build_segmentation_model(context)
    gained.load_state_dict(initial_state(trained.state_dict(), unet, context))
    frames = torch.rand(2, RUN.n_frames, 64, 64)
    run_maps = torch.rand(2, len(RUN_MAPS), 64, 64)
    for mode in ("eval", "train"):
        getattr(trained, mode)(), getattr(gained, mode)()
        with torch.no_grad():
            before, after = trained(frames, None, run_maps), gained(frames, None, run_maps)
        for name in ("tumor_logits", "liver_logits", "temporal"):
            torch.testing.assert_close(getattr(after, name), getattr(before, name),
                                       atol=1e-5, rtol=1e-5)
    with torch.no_grad():  # once the attention weighs in, the outputs move
        gained.tumor_net.bottleneck.alpha.fill_(0.5)
        assert not torch.allclose(gained(frames, None, run_maps).tumor_logits,
                                  before.tumor_logits)


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        # narrowing would throw the earlier frames' weights away
        (STACK, KEY_FRAME, "only the input size, the liver input"),
        (RUN, STACK, "only the input size, the liver input"),
        (KEY_FRAME, replace(KEY_FRAME, temporal="fd", tdl_supervised=False),
         "only the input size, the liver input"),
        # so would a narrower network its channels
        (replace(STACK, base_width=8), STACK, "can only start a wider one"),
        (replace(STACK, norm="group"), replace(STACK, norm="group", base_width=8),
         "group normalisation"),
        # a context U-Net back to a U-Net would drop its trained context blocks
        (replace(STACK, backbone="context_unet"), STACK, "a U-Net to a context U-Net"),
        (STACK, replace(STACK, backbone="unet_plusplus"), "a U-Net to a context U-Net"),
        (STACK, replace(STACK, backbone="context_unet", base_width=8), "at the same width"),
    ],
)
def test_any_other_change_of_model_is_refused(source, target, reason) -> None:
    state = build_segmentation_model(source).state_dict()
    with pytest.raises(ValueError, match=reason):
        initial_state(state, source, target)


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
@pytest.mark.parametrize("norm", ["batch", "instance"])
def test_a_wider_network_starts_with_the_narrow_networks_outputs(backbone, norm) -> None:
    narrow_config = replace(KEY_FRAME, backbone=backbone, norm=norm)
    wide_config = replace(STACK, backbone=backbone, norm=norm, base_width=6)
    torch.manual_seed(0)
    narrow = build_segmentation_model(narrow_config)
    wide = build_segmentation_model(wide_config)
    wide.load_state_dict(initial_state(narrow.state_dict(), narrow_config, wide_config))
    frames = torch.rand(2, KEY_FRAME.n_frames, 64, 64)
    for mode in ("eval", "train"):  # running statistics, and a batch's own
        getattr(narrow, mode)(), getattr(wide, mode)()
        with torch.no_grad():
            before, after = narrow(frames), wide(frames)
        for name in ("tumor_logits", "liver_logits", "temporal"):
            torch.testing.assert_close(getattr(after, name), getattr(before, name),
                                       atol=1e-4, rtol=1e-4)


def test_the_new_channels_are_computed_and_feed_the_outputs_once_trained() -> None:
    wide_config = replace(KEY_FRAME, base_width=8)
    narrow = build_segmentation_model(KEY_FRAME).eval()
    wide = build_segmentation_model(wide_config).eval()
    wide.load_state_dict(initial_state(narrow.state_dict(), KEY_FRAME, wide_config))
    stem = wide.tumor_net.encoder.stem[0].weight  # (8 channels out, 3 in): 0, 2, 4, 6 old
    torch.testing.assert_close(stem[::2], narrow.tumor_net.encoder.stem[0].weight)
    assert stem[1::2].abs().sum() > 0  # new channels read the input from the start
    head = wide.tumor_net.head.weight  # 1 out, 8 in: nothing read from a new channel yet
    assert torch.count_nonzero(head[:, 1::2]) == 0
    frames = torch.rand(1, KEY_FRAME.n_frames, 64, 64)
    with torch.no_grad():
        before = wide(frames).tumor_logits
        head[:, 1::2] = 0.5
        assert not torch.allclose(wide(frames).tumor_logits, before)


def test_a_run_at_another_input_size_starts_from_the_same_weights() -> None:
    finer = replace(STACK, image_size=128)
    trained = build_segmentation_model(KEY_FRAME)
    state = initial_state(trained.state_dict(), KEY_FRAME, finer)
    model = build_segmentation_model(finer).eval()
    model.load_state_dict(state)
    assert torch.equal(state["tumor_net.encoder.stem.0.weight"],
                       trained.state_dict()["tumor_net.encoder.stem.0.weight"])
    with torch.no_grad():
        assert model(torch.rand(1, finer.n_frames, 128, 128)).tumor_logits.shape[-1] == 128


def _weights_folder(folder: Path, config) -> Path:
    torch.manual_seed(0)
    write_weights(folder, build_segmentation_model(config), config, None, None, None,
                  {"training_command": "a test's random model"})
    return folder


def _train_one_step(data: Path, out: Path, weights: Path, *extra: str) -> dict:
    code = training_main([
        "train-seg", str(data), str(out), "--config", "full", "--base-width", "4",
        "--depth", "3", "--epochs", "1", "--tdl-warmup-epochs", "0", "--batch-size", "2",
        "--max-steps", "1", "--folds", "2", "--threads", "1", "--init-weights", str(weights),
        *extra,
    ])
    assert code == 0
    return torch.load(out / "last.pt", map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def two_cases(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    write_dataset(data, n=2, seed=10, options=SynthOptions(
        sizes=(((256, 256), 1.0),), formats=(("avi", 1.0),)), workers=1)
    return data


def test_train_seg_widens_a_key_frame_liver_network_to_the_frame_stack_at_another_size(
        two_cases, tmp_path) -> None:
    weights = _weights_folder(tmp_path / "key_frame", KEY_FRAME)
    stored = _train_one_step(two_cases, tmp_path / "run", weights,
                             "--image-size", "128", "--liver-input", "frames")
    assert stored["config"]["liver_input"] == "frames"
    assert stored["config"]["image_size"] == 128  # the weights' is 64
    start = torch.load(weights / "segmentation.pt", map_location="cpu",
                       weights_only=True)["state_dict"]
    name = "liver_net.encoder.stem.0.weight"
    stem, trained = stored["model"][name], start[name]
    assert stem.shape[1] == 10 and trained.shape[1] == 1
    # One Adam step moves a weight by at most the learning rate: from zero on the earlier
    # frames' channels, from the starting weights on the key frame's.
    step = 1.01 * stored["options"]["learning_rate"]
    assert stem[:, :-1].abs().max() <= step
    torch.testing.assert_close(stem[:, -1:], trained, atol=step, rtol=0)


def test_a_liver_only_phase_from_trained_weights_leaves_the_other_networks_as_they_were(
        two_cases, tmp_path) -> None:
    weights = _weights_folder(tmp_path / "weights", STACK)
    stored = _train_one_step(two_cases, tmp_path / "run", weights, "--image-size", "64",
                             "--trainable", "liver")
    assert tuple(stored["options"]["trainable"]) == ("liver_net.",)
    start = torch.load(weights / "segmentation.pt", map_location="cpu",
                       weights_only=True)["state_dict"]
    moved = {name.split(".")[0] for name, value in stored["model"].items()
             if not torch.equal(value, start[name])}
    assert moved == {"liver_net"}


def test_new_context_blocks_learn_at_their_own_rate_and_the_trained_weights_at_theirs(
        two_cases, tmp_path) -> None:
    weights = _weights_folder(tmp_path / "weights", STACK)
    stored = _train_one_step(two_cases, tmp_path / "run", weights, "--image-size", "64",
                             "--backbone", "context_unet", "--lr", "1e-6",
                             "--lr-for", "context=1e-2")
    assert [tuple(pair) for pair in stored["options"]["learning_rates"]] == [
        ("temporal_net.bottleneck.", 1e-2), ("liver_net.bottleneck.", 1e-2),
        ("tumor_net.bottleneck.", 1e-2)]
    context = replace(STACK, backbone="context_unet")
    start = initial_state(torch.load(weights / "segmentation.pt", map_location="cpu",
                                     weights_only=True)["state_dict"], STACK, context)
    model = stored["model"]
    # Adam's first step moves each weight by at most its rate, and by about it where the
    # gradient is not zero: the blocks' attention weights start at zero and do move.
    block_moves = {name: float(model[name].abs().max()) for name in model
                   if name.endswith(("bottleneck.alpha", "bottleneck.beta"))}
    assert len(block_moves) == 6
    assert all(0.005 < move <= 1.01e-2 for move in block_moves.values()), block_moves
    trained_moves = [float((model[name] - start[name]).abs().max())
                     for name, _ in build_segmentation_model(context).named_parameters()
                     if ".bottleneck." not in name]
    # (float32 rounding of a weight near 1 is about 6e-8)
    assert len(trained_moves) > 50 and max(trained_moves) <= 1.1e-6


def test_a_rate_for_parts_that_are_not_there_is_refused(two_cases, tmp_path, capsys) -> None:
    assert training_main(["train-seg", str(two_cases), str(tmp_path / "run"),
                          "--lr-for", "encoders=1e-3"]) == 2
    assert "--lr-for 'encoders=1e-3'" in capsys.readouterr().err
    assert training_main(["train-seg", str(two_cases), str(tmp_path / "run"),
                          "--lr-for", "context=fast"]) == 2
    assert "must be a number" in capsys.readouterr().err
    assert training_main(["train-seg", str(two_cases), str(tmp_path / "run"),
                          "--lr-for", "context=0"]) == 2
    assert "must be positive" in capsys.readouterr().err
    # A plain U-Net has no context blocks: refused before the data are read.
    assert training_main(["train-seg", str(two_cases), str(tmp_path / "run"),
                          "--lr-for", "context=1e-3"]) == 2
    printed = capsys.readouterr()
    assert "bottleneck" in printed.err and "unet model" in printed.err
    assert "read 1/2" not in printed.out


@pytest.mark.parametrize("config", [KEY_FRAME, STACK], ids=["key_frame", "frames"])
def test_without_liver_input_a_run_keeps_the_starting_weights_liver_input(
        two_cases, tmp_path, config) -> None:
    weights = _weights_folder(tmp_path / "weights", config)
    stored = _train_one_step(two_cases, tmp_path / "run", weights, "--image-size", "64")
    assert stored["config"]["liver_input"] == config.liver_input


def test_a_frame_stack_liver_network_cannot_be_narrowed_to_the_key_frame(
        two_cases, tmp_path, capsys) -> None:
    weights = _weights_folder(tmp_path / "frames", STACK)
    code = training_main([
        "train-seg", str(two_cases), str(tmp_path / "run"), "--config", "full",
        "--base-width", "4", "--depth", "3", "--image-size", "64", "--liver-input", "key_frame",
        "--max-steps", "1", "--threads", "1", "--init-weights", str(weights),
    ])
    assert code != 0
    assert "cannot start this run" in capsys.readouterr().err


def test_train_seg_names_the_weights_that_cannot_start_the_run(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    write_dataset(data, n=2, seed=10, options=SynthOptions(
        sizes=(((256, 256), 1.0),), formats=(("avi", 1.0),)), workers=1)
    code = training_main([
        "train-seg", str(data), str(tmp_path / "run"), "--config", "full",
        "--base-width", "4", "--image-size", "256", "--max-steps", "1", "--threads", "1",
        "--init-weights", str(WEIGHTS.parent),
    ])
    assert code != 0
    error = capsys.readouterr().err
    assert str(WEIGHTS.parent) in error and "cannot start this run" in error


def test_train_seg_widens_the_starting_weights_to_the_base_width_asked_for(
        two_cases, tmp_path) -> None:
    weights = _weights_folder(tmp_path / "narrow", STACK)
    stored = _train_one_step(two_cases, tmp_path / "run", weights, "--image-size", "64",
                             "--base-width", "6")
    assert stored["config"]["base_width"] == 6
    start = torch.load(weights / "segmentation.pt", map_location="cpu",
                       weights_only=True)["state_dict"]
    name = "tumor_net.encoder.stem.0.weight"
    assert start[name].shape[0] == 4 and stored["model"][name].shape[0] == 6
    # The trained channels sit at floor(i * 6 / 4) = 0, 1, 3, 4, moved by one Adam step at most.
    step = 1.01 * stored["options"]["learning_rate"]
    torch.testing.assert_close(stored["model"][name][[0, 1, 3, 4]], start[name],
                               atol=step, rtol=0)
