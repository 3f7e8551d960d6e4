"""Training data: case splits, segmentation and response items, resumable sampling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from training_fixtures import tiny_record, tiny_records

from dsaviewer.core.alternative_inputs import background_subtraction, optical_flow_magnitude
from dsaviewer.core.run_maps import run_maps
from dsaviewer.models import ABLATIONS
from training.splits import split_cases
from training.torch_data import (
    Augmentation,
    ResponseDataset,
    ResumableSampler,
    SegmentationDataset,
    ground_truth_key_frame_masks,
)

TINY = dataclasses.replace(ABLATIONS["kf_only"], base_width=4, depth=3, image_size=64)


def test_folds_partition_the_cases_and_do_not_depend_on_their_order() -> None:
    ids = [f"case{i:02d}" for i in range(23)]
    folds = [split_cases(ids, fold, 5, seed=3) for fold in range(5)]
    validation = [set(split.validation) for split in folds]
    assert set().union(*validation) == set(ids)
    assert sum(len(v) for v in validation) == len(ids)
    assert {len(v) for v in validation} <= {4, 5}
    for split in folds:
        assert not set(split.train) & set(split.validation)
    assert split_cases(list(reversed(ids)), 2, 5, seed=3) == folds[2]
    assert split_cases(ids, 2, 5, seed=4) != folds[2]


def test_stratified_folds_keep_the_class_balance() -> None:
    ids = [f"case{i:02d}" for i in range(40)]
    strata = {case_id: int(i < 10) for i, case_id in enumerate(ids)}  # 10 positives
    for fold in range(5):
        split = split_cases(ids, fold, 5, strata=strata)
        assert sum(strata[c] for c in split.validation) == 2
        assert len(split.validation) == 8


def test_split_rejects_impossible_requests() -> None:
    with pytest.raises(ValueError, match="fold"):
        split_cases(["a", "b", "c"], fold=3, n_folds=3)
    with pytest.raises(ValueError, match="cannot make"):
        split_cases(["a", "b"], fold=0, n_folds=3)


def test_training_items_are_the_labelled_frames_and_validation_only_key_frames() -> None:
    records = tiny_records(3)
    training = SegmentationDataset(records, TINY)
    validation = SegmentationDataset(records, TINY, key_frames_only=True)
    assert len(training) == 9 and len(validation) == 3
    record = records[1]
    item = validation[1]
    assert validation.case_id(1) == record.case_id
    assert validation.frame_index(1) == record.key_frame
    frames01 = record.frames01()
    k = record.key_frame
    np.testing.assert_array_equal(item["frames"].numpy(), frames01[k - 9 : k + 1])
    np.testing.assert_allclose(item["fd"][0].numpy(), np.abs(frames01[k] - frames01[k - 9]))
    np.testing.assert_array_equal(item["tumor"][0].numpy(), record.labelled[0].tumor)
    np.testing.assert_array_equal(item["liver"][0].numpy(), record.labelled[0].liver)
    assert "aux" not in item
    augmentation_frames = sorted(training.frame_index(i) for i in range(3, 6))
    assert augmentation_frames == [k, k + 1, k + 2]


@pytest.mark.parametrize("temporal", ["fd", "optical_flow", "background_subtraction"])
def test_aux_channel_is_the_configured_temporal_input(temporal: str) -> None:
    record = tiny_record(0)
    config = dataclasses.replace(TINY, temporal=temporal)
    aux = SegmentationDataset([record], config, key_frames_only=True)[0]["aux"][0].numpy()
    frames01, k = record.frames01(), record.key_frame
    expected = {
        "fd": lambda: np.abs(frames01[k] - frames01[k - 9]),
        "optical_flow": lambda: optical_flow_magnitude(frames01[k - 9], frames01[k]),
        "background_subtraction": lambda: background_subtraction(frames01, k),
    }[temporal]()
    np.testing.assert_allclose(aux, expected, atol=1e-6)
    assert aux.max() > 0


def test_run_maps_are_of_the_whole_clip_as_augmented() -> None:
    records = tiny_records(2)
    config = dataclasses.replace(ABLATIONS["full"], base_width=4, depth=3, image_size=64,
                                 liver_input="frames_and_run")
    plain = SegmentationDataset(records, config)
    item = plain[0]
    np.testing.assert_allclose(item["run_maps"].numpy(), run_maps(records[0].frames01()))
    assert "run_maps" not in SegmentationDataset(records, TINY)[0]
    flipped = SegmentationDataset(records, config, augmentation=Augmentation(horizontal_flip=1.0))
    torch.testing.assert_close(flipped[0]["run_maps"], item["run_maps"].flip(-1))


def test_augmentation_is_reproducible_per_epoch_and_flips_frames_with_masks() -> None:
    records = tiny_records(2)
    flip = Augmentation(horizontal_flip=1.0)
    item = SegmentationDataset(records, TINY, augmentation=flip)[0]
    plain = SegmentationDataset(records, TINY)[0]
    for name in ("frames", "tumor", "liver", "fd"):
        torch.testing.assert_close(item[name], plain[name].flip(-1))

    jitter = SegmentationDataset(records, TINY, augmentation=Augmentation(intensity=0.3), seed=1)
    first = jitter[2]["frames"]
    torch.testing.assert_close(jitter[2]["frames"], first)
    jitter.set_epoch(1)
    assert not torch.equal(jitter[2]["frames"], first)


def test_dataset_refuses_cases_of_another_size() -> None:
    with pytest.raises(ValueError, match="64 px"):
        SegmentationDataset(tiny_records(1, size=32), TINY)


def test_resumable_sampler_continues_the_epochs_order() -> None:
    dataset = list(range(10))
    sampler = ResumableSampler(dataset, rank=0, world_size=1, seed=5)
    sampler.start_epoch(2)
    order = list(sampler)
    assert sorted(order) == dataset
    sampler.start_epoch(2, skip=4)
    assert list(sampler) == order[4:] and len(sampler) == 6
    sampler.start_epoch(3)
    assert list(sampler) != order
    shards = []
    for rank in range(2):
        shard = ResumableSampler(dataset, rank=rank, world_size=2, seed=5)
        shard.start_epoch(2)
        shards.append(list(shard))
    assert sorted(shards[0] + shards[1]) == dataset


def test_response_items_hold_the_model_2_inputs() -> None:
    records = tiny_records(4)
    records[2] = dataclasses.replace(records[2], response=None)
    masks = ground_truth_key_frame_masks(records)
    dataset = ResponseDataset(records, masks)
    assert len(dataset) == 3
    item = dataset[0]
    record = records[0]
    assert item["key_frame"].shape == (1, 64, 64)
    np.testing.assert_allclose(item["key_frame"][0].numpy(), record.frames01()[record.key_frame])
    np.testing.assert_array_equal(item["tumor"][0].numpy(), record.labelled[0].tumor)
    np.testing.assert_array_equal(
        item["clinical"].numpy(),
        np.concatenate([record.clinical_values, record.clinical_present]),
    )
    assert float(item["label"]) == record.response
    with pytest.raises(ValueError, match="no tumor mask"):
        ResponseDataset(records, {})


def test_response_items_carry_the_run_maps_turned_with_the_image() -> None:
    records = tiny_records(3)
    masks = ground_truth_key_frame_masks(records)
    plain = ResponseDataset(records, masks, run_maps=True)
    record = plain.records[1]
    np.testing.assert_allclose(plain[1]["run_maps"].numpy(), run_maps(record.frames01()))
    assert "run_maps" not in ResponseDataset(records, masks)[1]
    turned = ResponseDataset(records, masks, dihedral=True, seed=5, run_maps=True)
    for epoch in range(4):
        turned.set_epoch(epoch)
        item = turned[1]
        frames = _dihedral_images(plain[1]["key_frame"][0].numpy())
        (which,) = [k for k, frame in enumerate(frames)
                    if np.array_equal(frame, item["key_frame"][0].numpy())]
        for channel in range(2):
            expected = _dihedral_images(plain[1]["run_maps"][channel].numpy())[which]
            np.testing.assert_array_equal(item["run_maps"][channel].numpy(), expected)


def _dihedral_images(image: np.ndarray) -> list[np.ndarray]:
    turns = [np.rot90(image, k) for k in range(4)]
    return turns + [turned[:, ::-1] for turned in turns]


def test_response_augmentation_turns_image_and_mask_together_per_epoch() -> None:
    records = tiny_records(3)
    masks = ground_truth_key_frame_masks(records)
    dataset = ResponseDataset(records, masks, dihedral=True, seed=5)
    plain = ResponseDataset(records, masks)
    seen = set()
    for epoch in range(8):
        dataset.set_epoch(epoch)
        item, original = dataset[1], plain[1]
        frames = _dihedral_images(original["key_frame"][0].numpy())
        tumors = _dihedral_images(original["tumor"][0].numpy())
        (which,) = [k for k, frame in enumerate(frames)
                    if np.array_equal(frame, item["key_frame"][0].numpy())]
        np.testing.assert_array_equal(item["tumor"][0].numpy(), tumors[which])  # same turn
        assert torch.equal(item["clinical"], original["clinical"])
        assert float(item["label"]) == float(original["label"])
        seen.add(which)
        again = ResponseDataset(records, masks, dihedral=True, seed=5)
        again.set_epoch(epoch)
        assert torch.equal(again[1]["key_frame"], item["key_frame"])  # reproducible
    assert len(seen) > 2  # the epochs draw different turns
