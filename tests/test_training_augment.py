"""Robustness augmentation: each kind changes the clip, geometry moves frames and masks
together, values stay in [0, 1], and the settings survive a checkpoint's options."""

from __future__ import annotations

import numpy as np
import pytest

from training.augment import ROBUST, RobustAugmentation, robust_augment
from training.torch_data import Augmentation
from training.train_segmentation import SegmentationTrainingOptions


def clip() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ramp = np.linspace(0.1, 0.4, 64, dtype=np.float32)  # a background that varies
    frames = np.broadcast_to(ramp[None, None, :], (4, 64, 64)).copy()
    tumor = np.zeros((64, 64), bool)
    tumor[20:36, 24:40] = True
    frames[:, tumor] = 0.9
    liver = np.zeros((64, 64), bool)
    liver[8:56, 8:56] = True
    return frames, tumor, liver


@pytest.mark.parametrize(
    "kind", ["gamma", "noise", "blur", "resolution", "scale", "elastic", "cutout"]
)
def test_each_kind_changes_the_clip_and_keeps_it_in_range(kind):
    frames, tumor, liver = clip()
    strength = {"cutout": 1.0}.get(kind, getattr(ROBUST, kind))
    changed = False
    for seed in range(6):  # blur and resolution act on half of the items
        out, out_tumor, _ = robust_augment(
            RobustAugmentation(**{kind: strength}), np.random.default_rng(seed), frames, tumor,
            liver,
        )
        assert out.shape == frames.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 1.0
        changed |= not np.allclose(out, frames, atol=1e-4)
        if kind not in ("scale", "elastic"):
            assert np.array_equal(out_tumor, tumor)  # photometric kinds leave the masks
    assert changed


def test_geometry_moves_frames_and_masks_together():
    frames, tumor, liver = clip()
    augmentation = RobustAugmentation(scale=0.3, elastic=4.0)
    for seed in range(5):
        out, out_tumor, out_liver = robust_augment(
            augmentation, np.random.default_rng(seed), frames, tumor, liver
        )
        assert not np.array_equal(out_tumor, tumor) or not np.array_equal(out_liver, liver)
        bright = out[-1] > 0.55
        agreement = (bright == out_tumor).mean()
        assert agreement > 0.97


def test_the_same_seed_gives_the_same_item():
    frames, tumor, liver = clip()
    a = robust_augment(ROBUST, np.random.default_rng(7), frames, tumor, liver)
    b = robust_augment(ROBUST, np.random.default_rng(7), frames, tumor, liver)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_settings_survive_a_checkpoint_round_trip_and_old_options_still_load():
    options = SegmentationTrainingOptions(
        augmentation=Augmentation(robust=ROBUST), held_out=(("territory", "segmental"),)
    )
    again = SegmentationTrainingOptions.from_dict(options.to_dict())
    assert again == options and again.augmentation.enabled
    newer = ("held_out", "init_weights", "init_segmentation_sha256")
    old = {k: v for k, v in options.to_dict().items() if k not in newer}
    old["augmentation"] = {"horizontal_flip": 0.0, "intensity": 0.0}
    assert not SegmentationTrainingOptions.from_dict(old).augmentation.enabled
    with pytest.raises(ValueError, match="negative"):
        RobustAugmentation(noise=-1.0)
