"""Lesion-balanced weights of the tumor BCE, on constructed masks, and through the loss and
the training items."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from training_fixtures import tiny_records

from dsaviewer.models import ABLATIONS, bce_dice_loss
from training.lesion_weights import LesionWeighting, lesion_balanced_weights
from training.torch_data import Augmentation, SegmentationDataset

TINY = dataclasses.replace(ABLATIONS["kf_only"], base_width=4, depth=3, image_size=64)
# A disc of 16 px diameter covers 201.06 px.
REFERENCE_AREA = math.pi * 8**2


def _two_lesions() -> np.ndarray:
    mask = np.zeros((64, 64), bool)
    mask[10:15, 10:15] = True  # 25 px: weight 201.06 / 25 = 8.04
    mask[30:60, 30:60] = True  # 900 px, larger than the reference: weight 1
    return mask


def test_each_lesion_weighs_reference_area_over_its_area_with_a_margin() -> None:
    weights = lesion_balanced_weights(_two_lesions(), LesionWeighting(16.0, max_weight=10.0))
    small = REFERENCE_AREA / 25
    assert weights[12, 12] == pytest.approx(small)
    assert weights[10, 8] == pytest.approx(small)  # 2 px outside its left edge: the margin
    assert weights[10, 7] == 1.0  # 3 px outside
    assert weights[8, 8] == 1.0  # the margin is a disc, not a square: its corner stays 1
    assert weights[45, 45] == 1.0 and weights[0, 63] == 1.0
    assert weights.dtype == np.float32 and weights.shape == (64, 64)


def test_the_weight_is_capped_and_off_by_default() -> None:
    mask = np.zeros((32, 32), bool)
    mask[5, 5] = True  # one pixel: 201 times the reference, capped
    assert lesion_balanced_weights(mask, LesionWeighting(16.0, max_weight=4.0))[5, 5] == 4.0
    assert np.all(lesion_balanced_weights(mask, LesionWeighting()) == 1.0)
    assert np.all(lesion_balanced_weights(np.zeros((8, 8)), LesionWeighting(16.0)) == 1.0)


def test_a_lesion_keeps_its_own_weight_inside_a_heavier_neighbours_margin() -> None:
    mask = np.zeros((40, 40), bool)
    mask[5:7, 5:7] = True  # 4 px: heavy (capped at 10)
    mask[8:30, 5:30] = True  # 550 px, one pixel row apart, not 8-connected to it
    weights = lesion_balanced_weights(mask, LesionWeighting(16.0, max_weight=10.0))
    assert weights[5, 5] == 10.0
    assert weights[8, 5] == 1.0  # the large lesion's own pixel, inside the small one's margin
    assert weights[7, 5] == 10.0  # the background between them takes the heavier margin


@pytest.mark.parametrize("bad", [dict(reference_diameter_px=-1.0), dict(max_weight=0.5),
                                 dict(margin_px=-1), dict(reference_diameter_px=math.nan)])
def test_impossible_settings_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        LesionWeighting(**bad)


def test_weighted_bce_is_the_mean_of_weighted_pixel_losses() -> None:
    logits = torch.tensor([0.0, 2.0, -1.0, 0.5]).view(1, 1, 2, 2)
    target = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 2, 2)
    weight = torch.tensor([4.0, 1.0, 1.0, 2.0]).view(1, 1, 2, 2)
    p = torch.sigmoid(logits)
    per_pixel = -(target * p.log() + (1 - target) * (1 - p).log())
    expected = (weight * per_pixel).mean().item()
    assert bce_dice_loss(logits, target, a=1.0, weight=weight).item() == pytest.approx(expected)
    assert bce_dice_loss(logits, target, weight=torch.ones_like(weight)).item() == pytest.approx(
        bce_dice_loss(logits, target).item())
    with pytest.raises(ValueError, match="shape"):
        bce_dice_loss(logits, target, weight=weight.view(1, 4))


def test_training_items_carry_the_weights_of_their_augmented_mask() -> None:
    records = tiny_records(3)
    weighting = LesionWeighting(12.0)
    flip = Augmentation(horizontal_flip=1.0)
    items = SegmentationDataset(records, TINY, augmentation=flip, lesion_weighting=weighting)
    for index in range(len(items)):
        item = items[index]
        expected = lesion_balanced_weights(item["tumor"][0].numpy(), weighting)
        np.testing.assert_array_equal(item["tumor_weight"][0].numpy(), expected)
        assert item["tumor_weight"].max() > 1.0  # the fixture's lesions are under 12 px
    assert "tumor_weight" not in SegmentationDataset(records, TINY)[0]
