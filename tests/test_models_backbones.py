"""The U-Net family: output shapes, size checks, memory formats and the context block."""

from __future__ import annotations

import math

import pytest
import torch

from dsaviewer.models import (
    BACKBONES,
    AttentionGate,
    ContextAggregation,
    UNetPlusPlus,
    build_backbone,
)

TINY = {"base_width": 4, "depth": 3}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


@pytest.mark.parametrize("name", sorted(BACKBONES))
@pytest.mark.parametrize("upsample", ["transpose", "bilinear"])
def test_backbone_maps_input_to_logits_of_same_size(name: str, upsample: str) -> None:
    net = build_backbone(name, 2, 3, upsample=upsample, **TINY)
    out = net(torch.rand(2, 2, 64, 64))
    assert out.shape == (2, 3, 64, 64)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("norm", ["batch", "instance", "group"])
def test_every_normalisation_builds_and_runs(norm: str) -> None:
    net = build_backbone("unet", 1, 1, norm=norm, **TINY)
    assert net(torch.rand(2, 1, 32, 48)).shape == (2, 1, 32, 48)


def test_unknown_backbone_or_norm_is_refused() -> None:
    with pytest.raises(ValueError, match="backbone"):
        build_backbone("segformer", 1, 1)
    with pytest.raises(ValueError, match="norm"):
        build_backbone("unet", 1, 1, norm="layer")


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_size_not_divisible_by_two_to_the_depth_is_refused(name: str) -> None:
    net = build_backbone(name, 1, 1, **TINY)
    with pytest.raises(ValueError, match="divisible by 2\\*\\*depth = 8"):
        net(torch.rand(1, 1, 60, 64))


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_channels_last_gives_the_same_logits(name: str) -> None:
    net = build_backbone(name, 2, 1, **TINY).eval()
    x = torch.rand(2, 2, 64, 64)
    with torch.no_grad():
        expected = net(x)
        net = net.to(memory_format=torch.channels_last)
        got = net(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_unet_plusplus_deep_supervision_averages_its_column_heads() -> None:
    net = UNetPlusPlus(1, 1, deep_supervision=True, **TINY).eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        columns = net.column_logits(x)
        out = net(x)
    assert len(columns) == 3
    torch.testing.assert_close(out, torch.stack(columns).mean(dim=0))
    assert len(UNetPlusPlus(1, 1, **TINY).column_logits(x)) == 1


def test_attention_gate_only_attenuates_the_skip() -> None:
    gate = AttentionGate(4)
    skip = torch.randn(2, 4, 8, 8)
    gated = gate(skip, torch.randn(2, 4, 8, 8))
    assert gated.shape == skip.shape
    assert (gated.abs() <= skip.abs() + 1e-7).all()
    ratio = gated / skip
    # One coefficient per pixel, shared by every channel.
    torch.testing.assert_close(ratio, ratio[:, :1].expand_as(ratio))


def test_context_block_starts_as_input_plus_residual() -> None:
    block = ContextAggregation(16)
    x = torch.randn(2, 16, 8, 8)
    assert block.alpha.item() == 0 and block.beta.item() == 0
    torch.testing.assert_close(block(x), 2 * x)


def _two_position_two_channel_block() -> ContextAggregation:
    """A block whose projections are simple enough to compute the attention by hand."""
    block = ContextAggregation(2)
    with torch.no_grad():
        for projection in (block.query[0], block.key[0]):
            projection.weight.copy_(torch.tensor([[1.0, 0.0]]).view(1, 2, 1, 1))
            projection.bias.zero_()
        block.value.weight.copy_(torch.eye(2).view(2, 2, 1, 1))
        block.value.bias.zero_()
    return block


def test_context_block_matches_hand_computed_attention() -> None:
    block = _two_position_two_channel_block()
    # Two positions: p0 = (1, 0) and p1 = (0, 1) across the two channels.
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]]).view(1, 2, 1, 2)
    e = math.e
    # Spatial: q = k = channel 0 = [1, 0]; energies [[1, 0], [0, 0]]; softmax rows
    # [e, 1]/(e+1) and [1/2, 1/2]; p0 <- (e·p0 + p1)/(e+1), p1 <- (p0 + p1)/2.
    spatial = torch.tensor([[e / (e + 1), 0.5], [1 / (e + 1), 0.5]])
    # Channel: rows c0 = [1, 0], c1 = [0, 1]; energies = identity; c0 <- (e·c0 + c1)/(e+1).
    channel = torch.tensor([[e / (e + 1), 1 / (e + 1)], [1 / (e + 1), e / (e + 1)]])
    with torch.no_grad():
        block.alpha.fill_(0.5)
        block.beta.fill_(2.0)
        got = block(x)
    expected = (0.5 * spatial + x.view(2, 2)) + (2.0 * channel + x.view(2, 2))
    torch.testing.assert_close(got.view(2, 2), expected)
