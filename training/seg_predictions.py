"""A trained segmentation model run over the key frames of a dataset, and its predictions
cached on disk, for the response model (the paper's realistic setting: Model 2 reads what
Model 1 found) and for evaluation.

Predictions are computed in float32 (no bf16: the viewer runs float32), as probabilities
stored to 8 bits. ``q = round(255 p)`` keeps the 0.5 threshold exact: ``q >= 128`` exactly
when ``p >= 0.5``. A cache file belongs to one checkpoint (its sha256) and holds a digest of
each case's clip, so a changed case is predicted again.

The mask Model 2 reads is the viewer's: tumor probability at 0.5, post-processed as the
viewer post-processes (Lambert's steps; tumors off the liver removed only when the model has
a liver network). The viewer post-processes at the video's resolution and maps the mask back
to model size; here it happens at model size directly, which differs by at most resampling.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader

from dsaviewer.core.postprocess import PostprocessConfig, postprocess_masks
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import sha256_of
from dsaviewer.io.writers import replace_atomically
from dsaviewer.models import DSALTDNet, SegmentationConfig, build_segmentation_model
from training.checkpoint import load_model_checkpoint, load_trained_model
from training.dataset import CaseRecord
from training.device import RuntimeOptions, prepare_batch_tensor, prepare_model, select_device
from training.torch_data import SegmentationDataset, model_inputs

THRESHOLD = 0.5


@dataclass(frozen=True)
class KeyFramePrediction:
    """Probabilities on a case's key frame, model size; ``liver`` None without a liver net."""

    tumor: np.ndarray
    liver: np.ndarray | None

    def resized(self, size: int) -> KeyFramePrediction:
        """The maps at ``size`` x ``size``, linearly resized as the viewer brings them to the
        frame before it thresholds and post-processes them."""
        def resize(probability: np.ndarray) -> np.ndarray:
            return cv2.resize(probability.astype(np.float32), (size, size),
                              interpolation=cv2.INTER_LINEAR)

        return KeyFramePrediction(resize(self.tumor),
                                  None if self.liver is None else resize(self.liver))

    def masks(self, postprocess: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Boolean tumor and liver masks at 0.5, post-processed as the viewer does if asked."""
        if not postprocess:
            liver = None if self.liver is None else self.liver >= THRESHOLD
            return self.tumor >= THRESHOLD, liver
        has_liver = self.liver is not None
        tumor, liver = postprocess_masks(
            self.tumor,
            self.liver if has_liver else np.zeros_like(self.tumor),
            THRESHOLD,
            PostprocessConfig(remove_tumors_off_liver=has_liver),
        )
        return tumor, liver if has_liver else None


@dataclass(frozen=True)
class TrainedSegmentation:
    model: DSALTDNet
    config: SegmentationConfig
    stored: Mapping  # the checkpoint's other entries (split, metrics, options)
    path: Path


def load_trained_segmentation(path: str | Path) -> TrainedSegmentation:
    """The model of a segmentation ``best.pt`` / ``last.pt`` or of a weights folder's
    ``segmentation.pt``, on the CPU, in eval mode."""
    return TrainedSegmentation(*load_trained_model(path, "segmentation",
                                                   SegmentationConfig.from_dict,
                                                   build_segmentation_model))


def predict_key_frames(
    trained: TrainedSegmentation,
    records: Sequence[CaseRecord],
    runtime: RuntimeOptions | None = None,
    batch_size: int = 8,
) -> dict[str, KeyFramePrediction]:
    """Run the model over each record's key frame."""
    runtime = runtime or RuntimeOptions()
    device = select_device(runtime.device)
    channels_last = runtime.use_channels_last(device)
    model = prepare_model(trained.model, device, channels_last).eval()
    dataset = SegmentationDataset(records, trained.config, key_frames_only=True)
    predictions: dict[str, KeyFramePrediction] = {}
    with torch.inference_mode():
        for batch in DataLoader(dataset, batch_size=batch_size):
            inputs = [None if tensor is None
                      else prepare_batch_tensor(tensor, device, channels_last)
                      for tensor in model_inputs(batch)]
            output = model(*inputs)
            tumor = torch.sigmoid(output.tumor_logits.float())[:, 0].cpu().numpy()
            liver = (None if output.liver_logits is None
                     else torch.sigmoid(output.liver_logits.float())[:, 0].cpu().numpy())
            for row, item in enumerate(batch["item"].tolist()):
                predictions[dataset.case_id(item)] = KeyFramePrediction(
                    tumor[row], None if liver is None else liver[row]
                )
    return predictions


def cached_key_frame_predictions(
    checkpoint: str | Path,
    records: Sequence[CaseRecord],
    cache_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, KeyFramePrediction]:
    """:func:`predict_key_frames` of the checkpoint, read from ``cache_dir`` where it was
    computed before for the same checkpoint and case contents; the cache is updated."""
    source = Path(checkpoint)
    if not source.is_file():
        raise InputError("segmentation checkpoint not found", source)
    cache_file = Path(cache_dir) / f"seg-predictions-{sha256_of(source)[:16]}.npz"
    digests = {record.case_id: _clip_digest(record) for record in records}
    cached = _read_cache(cache_file)
    found = {case_id: prediction for case_id, (digest, prediction) in cached.items()
             if digests.get(case_id) == digest}
    missing = [record for record in records if record.case_id not in found]
    if missing:
        log(f"segmenting {len(missing)} key frame(s) with {source}")
        computed = predict_key_frames(load_trained_segmentation(source), missing, runtime)
        found.update({case_id: _quantised(p) for case_id, p in computed.items()})
        kept = {case_id: entry for case_id, entry in cached.items() if case_id not in digests}
        kept.update({case_id: (digests[case_id], p) for case_id, p in found.items()})
        _write_cache(cache_file, kept)
    return {record.case_id: found[record.case_id] for record in records}


def _clip_digest(record: CaseRecord) -> str:
    digest = hashlib.sha1(record.clip.tobytes())
    digest.update(f"{record.key_frame}:{record.clip.shape}".encode())
    return digest.hexdigest()[:16]


def _quantise(probability: np.ndarray) -> np.ndarray:
    return np.round(np.clip(probability, 0.0, 1.0) * 255.0).astype(np.uint8)


def _dequantise(quantised: np.ndarray) -> np.ndarray:
    return quantised.astype(np.float32) / np.float32(255.0)


def _quantised(prediction: KeyFramePrediction) -> KeyFramePrediction:
    """The prediction as the cache will give it back, so a first run and a cached run agree."""
    liver = None if prediction.liver is None else _dequantise(_quantise(prediction.liver))
    return KeyFramePrediction(_dequantise(_quantise(prediction.tumor)), liver)


def _read_cache(path: Path) -> dict[str, tuple[str, KeyFramePrediction]]:
    if not path.is_file():
        return {}
    try:
        with np.load(path) as data:
            has_liver = bool(data["has_liver"])
            return {
                str(case_id): (str(digest), KeyFramePrediction(
                    _dequantise(tumor), _dequantise(data["liver"][row]) if has_liver else None))
                for row, (case_id, digest, tumor) in enumerate(
                    zip(data["case_ids"], data["digests"], data["tumor"], strict=True))
            }
    except (OSError, KeyError, ValueError):
        return {}  # unreadable: predict again and overwrite it


def _write_cache(path: Path, entries: Mapping[str, tuple[str, KeyFramePrediction]]) -> None:
    case_ids = sorted(entries)
    has_liver = bool(case_ids) and entries[case_ids[0]][1].liver is not None
    tumor = np.stack([_quantise(entries[c][1].tumor) for c in case_ids])
    liver = (np.stack([_quantise(entries[c][1].liver) for c in case_ids]) if has_liver
             else np.zeros((0,), np.uint8))
    with replace_atomically(path) as temporary:
        np.savez(temporary, case_ids=np.array(case_ids), digests=np.array(
            [entries[c][0] for c in case_ids]), tumor=tumor, liver=liver, has_liver=has_liver)


def response_input_masks(
    checkpoints: Sequence[str | Path],
    records: Sequence[CaseRecord],
    cache_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, np.ndarray]:
    """The post-processed predicted key-frame tumor mask (float32 0/1) of every record.

    With several checkpoints (the folds of a cross-validation), each case is segmented by a
    model that held it out for validation where one did, so Model 2 trains on masks as
    imperfect as those it will meet; other cases go to the first checkpoint.
    """
    if not checkpoints:
        raise InputError("give at least one segmentation checkpoint, or use ground-truth masks",
                         "segmentation checkpoint")
    paths = [Path(path) for path in checkpoints]
    held_out = {path: set(load_model_checkpoint(path, "segmentation")["split"]["validation"])
                for path in paths}
    assigned: dict[Path, list[CaseRecord]] = {path: [] for path in paths}
    for record in records:
        owner = next((path for path in paths if record.case_id in held_out[path]), paths[0])
        assigned[owner].append(record)
    masks: dict[str, np.ndarray] = {}
    for path, members in assigned.items():
        if not members:
            continue
        predictions = cached_key_frame_predictions(path, members, cache_dir, runtime, log)
        for case_id, prediction in predictions.items():
            masks[case_id] = prediction.masks(postprocess=True)[0].astype(np.float32)
    return masks
