"""torch Datasets over preprocessed cases (:class:`training.dataset.CaseRecord`), the batch
samplers that make epochs reproducible and resumable, and the inputs each model config reads.

Segmentation items are labelled frames: the key frame and, for training, the k+1, k+2 frames
the annotators also labelled (the papers' augmentation). Validation and evaluation use key
frames only. Each item carries what any loss may need: the ``n_frames`` stack (key frame
last), the hand-made temporal channel ``aux`` when the config reads one (FD, optical flow or
background subtraction, computed exactly as the viewer computes it), the run maps when the
liver network reads them, the tumor and liver masks and the frame difference (the TDL target).

Optional photometric / geometric jitter is off by default: the anatomy of a DSA run is
oriented (the liver on the patient's right, catheter from below), and the papers rotate
nothing. Its random draws come from ``(seed, epoch, item)``, never from global state, so
data loader workers, resumed runs and every process of a distributed run agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from dsaviewer.core.alternative_inputs import temporal_channel
from dsaviewer.core.difference import temporal_stack
from dsaviewer.core.run_maps import run_maps
from dsaviewer.models import SegmentationConfig
from training.augment import RobustAugmentation, robust_augment
from training.dataset import CaseRecord, make_samples
from training.lesion_weights import LesionWeighting, lesion_balanced_weights


@dataclass(frozen=True)
class Augmentation:
    """Per-item random jitter for training (all off by default, see the module doc)."""

    horizontal_flip: float = 0.0  # probability of mirroring frames and masks left-right
    intensity: float = 0.0  # frames scaled by a gain drawn from [1 - x, 1 + x], then clipped
    robust: RobustAugmentation = field(default_factory=RobustAugmentation)  # see augment.py

    def __post_init__(self) -> None:
        if isinstance(self.robust, Mapping):  # read back from a checkpoint's options
            object.__setattr__(self, "robust", RobustAugmentation(**self.robust))
        if not 0.0 <= self.horizontal_flip <= 1.0:
            raise ValueError(f"horizontal_flip must be a probability, got {self.horizontal_flip}")
        if not 0.0 <= self.intensity < 1.0:
            raise ValueError(f"intensity must be in [0, 1), got {self.intensity}")

    @property
    def enabled(self) -> bool:
        return self.horizontal_flip > 0.0 or self.intensity > 0.0 or self.robust.enabled


class SegmentationDataset(Dataset):
    """One item per labelled frame of ``records`` (key frames only if asked).

    An item is a dict of float32 tensors: ``frames`` ``(n_frames, S, S)``, ``tumor``,
    ``liver``, ``fd``, when the config reads one ``aux``, when it reads them ``run_maps``
    ``(len(RUN_MAPS), S, S)``, and with ``lesion_weighting`` on
    ``tumor_weight`` (training/lesion_weights.py), each ``(1, S, S)``; plus ``item`` (the
    item's index, to find its case again).

    Optical flow and background subtraction cost 15-20 ms an item (a 256 px training step
    of the key-frame model takes about 300 ms on one CPU core), so without augmentation, which
    would change them, each item's channel is computed once and kept (256 KB an item).
    """

    def __init__(
        self,
        records: Sequence[CaseRecord],
        config: SegmentationConfig,
        key_frames_only: bool = False,
        augmentation: Augmentation | None = None,
        seed: int = 0,
        lesion_weighting: LesionWeighting | None = None,
    ) -> None:
        self.records = list(records)
        self.config = config
        self.augmentation = augmentation or Augmentation()
        self.lesion_weighting = lesion_weighting or LesionWeighting()
        self.seed = seed
        self.epoch = 0
        self._aux_cache: dict[int, np.ndarray] = {}
        self.items: list[tuple[int, int]] = []  # (record, labelled frame)
        for record_index, record in enumerate(self.records):
            size = record.clip.shape[-1]
            if record.clip.shape[-2:] != (config.image_size, config.image_size):
                raise ValueError(
                    f"case {record.case_id} is {record.clip.shape[-2]}x{size} px, the model "
                    f"reads {config.image_size} px: read the dataset at that size"
                )
            for label_index, label in enumerate(record.labelled):
                if not key_frames_only or label.frame_index == record.key_frame:
                    self.items.append((record_index, label_index))

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on the epoch (call before creating the epoch's loader)."""
        self.epoch = epoch

    def case_id(self, item: int) -> str:
        return self.records[self.items[item][0]].case_id

    def frame_index(self, item: int) -> int:
        record_index, label_index = self.items[item]
        return self.records[record_index].labelled[label_index].frame_index

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        record_index, label_index = self.items[item]
        record = self.records[record_index]
        label = record.labelled[label_index]
        frames01 = record.frames01()
        tumor, liver = label.tumor, label.liver
        if self.augmentation.enabled:
            rng = np.random.default_rng([self.seed, self.epoch, item])
            frames01, tumor, liver = _augment(self.augmentation, rng, frames01, tumor, liver)
        # make_samples of a record holding just this label: the lead's sample definition,
        # without building the other labelled frames' stacks.
        (sample,) = make_samples(replace(record, labelled=(replace(label, tumor=tumor,
                                                                   liver=liver),)), frames01)
        n_frames = self.config.n_frames
        frames = (
            sample.frames
            if sample.frames.shape[0] == n_frames
            else temporal_stack(frames01, label.frame_index, n_frames)
        )
        batch = {
            "frames": torch.from_numpy(np.ascontiguousarray(frames)),
            "tumor": torch.from_numpy(sample.tumor[None]),
            "liver": torch.from_numpy(sample.liver[None]),
            "fd": torch.from_numpy(sample.fd[None]),
            "item": torch.tensor(item),
        }
        if self.lesion_weighting.enabled:  # from the mask the model is scored on: augmented
            weights = lesion_balanced_weights(sample.tumor, self.lesion_weighting)
            batch["tumor_weight"] = torch.from_numpy(weights[None])
        aux = self._aux_cache.get(item)
        if aux is None:
            aux = temporal_channel(self.config.temporal, frames01, label.frame_index)
            if aux is not None and self.config.temporal != "fd" and not self.augmentation.enabled:
                self._aux_cache[item] = aux
        if aux is not None:
            batch["aux"] = torch.from_numpy(aux[None].astype(np.float32))
        if self.config.reads_run_maps:  # of the augmented clip: the same jitter as the frames
            batch["run_maps"] = torch.from_numpy(run_maps(frames01))
        return batch


def model_inputs(batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor | None, ...]:
    """A segmentation batch's model arguments: ``(frames, aux, run_maps)``, None where the
    config reads no such input."""
    return batch["frames"], batch.get("aux"), batch.get("run_maps")


def _augment(
    augmentation: Augmentation,
    rng: np.random.Generator,
    frames01: np.ndarray,
    tumor: np.ndarray,
    liver: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    flip = rng.random() < augmentation.horizontal_flip
    gain = 1.0 + rng.uniform(-augmentation.intensity, augmentation.intensity)
    if flip:
        frames01, tumor, liver = frames01[..., ::-1], tumor[..., ::-1], liver[..., ::-1]
    if gain != 1.0:
        frames01 = np.clip(frames01 * np.float32(gain), 0.0, 1.0)
    if augmentation.robust.enabled:
        return robust_augment(augmentation.robust, rng, frames01, tumor, liver)
    return (
        np.ascontiguousarray(frames01, dtype=np.float32),
        np.ascontiguousarray(tumor),
        np.ascontiguousarray(liver),
    )


class ResponseDataset(Dataset):
    """One item per case with a known response: ``key_frame`` and ``tumor`` ``(1, S, S)``
    (the mask Model 2 reads: predicted or ground truth, see ``masks``), ``clinical``
    (values then presence flags, as the viewer builds them) and ``label`` (1 responder);
    with ``run_maps`` also ``run_maps`` ``(RUN_MAP_CHANNELS, S, S)`` of the whole clip, as the
    viewer computes them.

    ``dihedral``: each item turned by a random multiple of 90° and maybe mirrored, image and
    mask together. What decides a response in an image (how much tumor, how many, how
    vascular) does not change under these, while the exact picture, which a ResNet otherwise
    memorises with its noisy label within a few epochs, does. Draws come from
    ``(seed, epoch, item)`` as in :class:`SegmentationDataset`.
    """

    def __init__(
        self,
        records: Sequence[CaseRecord],
        masks: Mapping[str, np.ndarray],
        dihedral: bool = False,
        seed: int = 0,
        run_maps: bool = False,
    ) -> None:
        self.records = [record for record in records if record.response is not None]
        missing = [record.case_id for record in self.records if record.case_id not in masks]
        if missing:
            raise ValueError(f"no tumor mask for {len(missing)} case(s), e.g. {missing[0]}")
        self.masks = masks
        self.dihedral = dihedral
        self.seed = seed
        self.run_maps = run_maps
        self._run_maps: dict[int, np.ndarray] = {}  # per item: the same every epoch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on the epoch (call before creating the epoch's loader)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.records)

    def case_id(self, item: int) -> str:
        return self.records[item].case_id

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        record = self.records[item]
        scale = np.float32(1.0 / 255.0)
        images = [record.clip[record.key_frame].astype(np.float32) * scale,
                  np.asarray(self.masks[record.case_id], np.float32)]
        if self.run_maps:
            if item not in self._run_maps:
                self._run_maps[item] = run_maps(record.frames01())
            images.extend(self._run_maps[item])
        if self.dihedral:
            rng = np.random.default_rng([self.seed, self.epoch, item])
            turns, mirror = int(rng.integers(4)), bool(rng.integers(2))
            images = [_dihedral(image, turns, mirror) for image in images]
        clinical = np.concatenate([record.clinical_values, record.clinical_present])
        result = {
            "key_frame": torch.from_numpy(images[0][None]),
            "tumor": torch.from_numpy(images[1][None]),
            "clinical": torch.from_numpy(clinical.astype(np.float32)),
            "label": torch.tensor(float(record.response)),
            "item": torch.tensor(item),
        }
        if self.run_maps:
            result["run_maps"] = torch.from_numpy(np.stack(images[2:]))
        return result


def _dihedral(image: np.ndarray, turns: int, mirror: bool) -> np.ndarray:
    turned = np.rot90(image, turns)
    return np.ascontiguousarray(turned[:, ::-1] if mirror else turned)


def clinical_feature_count(records: Sequence[CaseRecord]) -> int:
    """Width of the clinical vector the records give (values plus presence flags)."""
    return int(records[0].clinical_values.size + records[0].clinical_present.size)


def ground_truth_key_frame_masks(records: Sequence[CaseRecord]) -> dict[str, np.ndarray]:
    """The annotated tumor mask of each case's key frame (the upper-bound input of Model 2)."""
    return {
        record.case_id: next(
            label.tumor for label in record.labelled if label.frame_index == record.key_frame
        ).astype(np.float32)
        for record in records
    }


class ResumableSampler(DistributedSampler):
    """``DistributedSampler`` (shuffled by seed + epoch, sharded by rank) that can start an
    epoch part-way through, so a run resumed mid-epoch sees exactly the remaining items."""

    def __init__(
        self, dataset: Dataset, rank: int, world_size: int, seed: int, shuffle: bool = True
    ) -> None:
        super().__init__(dataset, num_replicas=world_size, rank=rank, shuffle=shuffle,
                         seed=seed, drop_last=False)
        self.skip = 0

    def start_epoch(self, epoch: int, skip: int = 0) -> None:
        """Order items for ``epoch`` and leave out this process's first ``skip`` of them."""
        self.set_epoch(epoch)
        self.skip = skip

    def __iter__(self) -> Iterator[int]:
        indices = list(super().__iter__())
        return iter(indices[self.skip :])

    def __len__(self) -> int:
        return max(0, self.num_samples - self.skip)
