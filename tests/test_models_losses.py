"""The DSA-LTDNet losses against values worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from dsaviewer.models import (
    ABLATIONS,
    SegmentationOutput,
    bce_dice_loss,
    dice_loss,
    ltdnet_loss,
)

LN3 = math.log(3)
# sigmoid of these logits: 0.5, 0.75, 0.25, 0.5
LOGITS = torch.tensor([0.0, LN3, -LN3, 0.0]).view(1, 1, 2, 2)
TARGET = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 2, 2)
# Dice: overlap 0.5 + 0.75 = 1.25, Σp = 2, Σt = 2 → (2·1.25 + 1) / (2 + 2 + 1) = 0.7.
DICE_LOSS = 0.3
# BCE: −(ln 0.5 + ln 0.75 + ln 0.75 + ln 0.5) / 4 = (ln 2 + ln 4/3) / 2 = ln(8/3) / 2.
BCE = math.log(8 / 3) / 2


def test_dice_loss_matches_hand_computation() -> None:
    assert dice_loss(LOGITS, TARGET).item() == pytest.approx(DICE_LOSS)


def test_dice_loss_is_the_mean_of_per_sample_losses() -> None:
    # Second sample: certain-empty prediction on an empty target scores a perfect 0.
    logits = torch.cat([LOGITS, torch.full_like(LOGITS, -100.0)])
    target = torch.cat([TARGET, torch.zeros_like(TARGET)])
    assert dice_loss(logits, target).item() == pytest.approx(DICE_LOSS / 2)


def test_bce_dice_loss_weights_its_terms_by_a() -> None:
    assert bce_dice_loss(LOGITS, TARGET).item() == pytest.approx(0.5 * BCE + 0.5 * DICE_LOSS)
    assert bce_dice_loss(LOGITS, TARGET, a=1.0).item() == pytest.approx(BCE)
    assert bce_dice_loss(LOGITS, TARGET, a=0.0).item() == pytest.approx(DICE_LOSS)


def test_losses_refuse_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        dice_loss(LOGITS, TARGET.view(1, 4))


def test_losses_stay_float32_under_bfloat16_logits() -> None:
    loss = bce_dice_loss(LOGITS.bfloat16(), TARGET)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(0.5 * BCE + 0.5 * DICE_LOSS, abs=1e-2)


def _outputs() -> SegmentationOutput:
    temporal = torch.full((1, 1, 2, 2), 0.25)
    return SegmentationOutput(tumor_logits=LOGITS, liver_logits=-LOGITS, temporal=temporal)


def _batch() -> dict[str, torch.Tensor]:
    # |0.25 − fd| = 0.25, 0.25, 0.5, 0 → L1 = 0.25.
    fd = torch.tensor([0.0, 0.5, 0.75, 0.25]).view(1, 1, 2, 2)
    return {"tumor": TARGET, "liver": 1 - TARGET, "fd": fd}


def test_ltdnet_loss_is_the_papers_weighted_sum() -> None:
    # The liver pair is the tumor pair mirrored (p → 1−p, t → 1−t): BCE is unchanged; Dice
    # becomes overlap 0.5 + 0.75, Σp = 2, Σt = 2, i.e. the same 0.3.
    liver = 0.5 * BCE + 0.5 * DICE_LOSS
    loss = ltdnet_loss(_outputs(), _batch(), ABLATIONS["full"])
    assert loss.tumor.item() == pytest.approx(0.5 * BCE + 0.5 * DICE_LOSS)
    assert loss.liver.item() == pytest.approx(liver)
    assert loss.temporal.item() == pytest.approx(0.25)
    assert loss.total.item() == pytest.approx(loss.tumor.item() + liver + 0.1 * 0.25)

    weighted = ltdnet_loss(_outputs(), _batch(), ABLATIONS["full"], lambda0=2.0, lambda1=0.5)
    assert weighted.total.item() == pytest.approx(loss.tumor.item() + 0.5 * liver + 2.0 * 0.25)
    assert weighted.as_floats() == pytest.approx(
        {
            "total": weighted.total.item(),
            "tumor": loss.tumor.item(),
            "liver": liver,
            "temporal": 0.25,
        }
    )


def test_unsupervised_tdl_adds_no_temporal_term() -> None:
    config = ABLATIONS["kf_tdl_unsupervised"]
    outputs = _outputs()._replace(liver_logits=None)
    loss = ltdnet_loss(outputs, {"tumor": TARGET}, config)
    assert loss.temporal is None and loss.liver is None
    assert loss.total.item() == pytest.approx(loss.tumor.item())
    assert set(loss.as_floats()) == {"total", "tumor"}


def test_missing_target_is_named() -> None:
    with pytest.raises(ValueError, match="'fd'"):
        ltdnet_loss(_outputs(), {"tumor": TARGET, "liver": 1 - TARGET}, ABLATIONS["full"])
    with pytest.raises(ValueError, match="'liver'"):
        ltdnet_loss(_outputs(), {"tumor": TARGET, "fd": TARGET}, ABLATIONS["full"])


def test_loss_gradients_reach_every_output() -> None:
    outputs = SegmentationOutput(
        LOGITS.clone().requires_grad_(),
        (-LOGITS).clone().requires_grad_(),
        torch.full((1, 1, 2, 2), 0.25, requires_grad=True),
    )
    ltdnet_loss(outputs, _batch(), ABLATIONS["full"]).total.backward()
    assert all(tensor.grad is not None and tensor.grad.abs().sum() > 0 for tensor in outputs)
