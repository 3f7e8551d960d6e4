"""Reads a dataset folder (DESIGN.md case-folder contract) into preprocessed training cases.

Training and inference see identical inputs because both go through
:mod:`dsaviewer.core.preprocess` (field crop, one intensity window per clip, contrast bright,
model size). Each case keeps its whole model-size clip once, as uint8, plus its labelled
frames; the samples (10-frame stack, frame difference, masks) are cut from it on demand, so
memory is about ``T x S x S`` bytes a case (≈1.6 MB at 25 frames, 256 px) and an epoch over
1,000 cases reads no video twice. Quantising the [0, 1] model input to 8 bits loses nothing
for 8-bit sources and less than the detector noise for deeper ones.

Preprocessed cases are cached as ``.npz`` files keyed by the case's files (path, size, mtime)
and the preprocessing version, so a second run skips decoding entirely.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.core.clinical_features import clinical_feature_vector
from dsaviewer.core.difference import frame_difference, temporal_stack
from dsaviewer.core.preprocess import MODEL_SIZE, make_geometry, mask_to_model, to_model
from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import Case, is_case_folder, open_case
from dsaviewer.io.clinical import ClinicalRow, read_clinical_csv
from dsaviewer.io.key_frame_labels import flagged_key_frame
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import load_video

log = logging.getLogger(__name__)

# Bump when preprocessing changes what a cached case holds.
PREPROCESS_VERSION = 1
LABELS = ("tumor", "liver")


@dataclass(frozen=True)
class LabelledFrame:
    frame_index: int
    tumor: np.ndarray  # (S, S) bool
    liver: np.ndarray  # (S, S) bool


@dataclass(frozen=True)
class CaseRecord:
    """One case in model space: everything training needs, nothing it must decode again."""

    case_id: str
    clip: np.ndarray  # (T, S, S) uint8, model input x 255
    key_frame: int
    labelled: tuple[LabelledFrame, ...]  # the key frame first, then k+1, k+2, ...
    clinical_values: np.ndarray  # float32 (n,), standardised, 0 where missing
    clinical_present: np.ndarray  # float32 (n,), 1 where the value was given
    response: int | None

    def frames01(self) -> np.ndarray:
        return self.clip.astype(np.float32) * np.float32(1.0 / 255.0)


@dataclass(frozen=True)
class Sample:
    """One labelled frame j as the networks take it (all float32, model size)."""

    case_id: str
    frame_index: int
    is_key_frame: bool
    frames: np.ndarray  # (10, S, S): frames j-9 .. j, the labelled frame last
    fd: np.ndarray  # (S, S): |F_j - F_(j-9)|
    tumor: np.ndarray  # (S, S)
    liver: np.ndarray  # (S, S)


@dataclass(frozen=True)
class DatasetReport:
    records: list[CaseRecord]
    rejected: list[tuple[str, str]]  # (case id, reason)


def make_samples(record: CaseRecord, frames01: np.ndarray | None = None) -> list[Sample]:
    """The key frame's sample and the augmentation samples k+1, k+2 of a case."""
    frames01 = record.frames01() if frames01 is None else frames01
    return [
        Sample(
            case_id=record.case_id,
            frame_index=label.frame_index,
            is_key_frame=label.frame_index == record.key_frame,
            frames=temporal_stack(frames01, label.frame_index),
            fd=frame_difference(frames01, label.frame_index),
            tumor=label.tumor.astype(np.float32),
            liver=label.liver.astype(np.float32),
        )
        for label in record.labelled
    ]


def load_case_record(
    case: Case, clinical: ClinicalRow | None, size: int = MODEL_SIZE
) -> CaseRecord:
    """Decode and preprocess one case; InputError names what is wrong with it."""
    if not case.label_files:
        raise InputError("has no labels/NNNN.json files", case.root)
    video = load_video(case.video_path)
    geometry = make_geometry(video.frames, size=size, white_level=video.max_value)
    clip = to_model(video.frames, geometry)
    labelled: list[LabelledFrame] = []
    flagged: dict[int, bool] = {}
    for frame_index, json_path in sorted(case.label_files.items()):
        if frame_index >= video.n_frames:
            raise InputError(
                f"labels frame {frame_index} but the video has {video.n_frames} frames", json_path
            )
        annotation = read_labelme(json_path)
        if annotation.image_shape != video.frame_shape:
            raise InputError(
                f"label image is {annotation.image_shape}, video frames are {video.frame_shape}",
                json_path,
            )
        masks = {
            name: mask_to_model(annotation.masks.get(name, np.zeros(video.frame_shape, bool)),
                                geometry)
            for name in LABELS
        }
        if not masks["liver"].any():
            raise InputError("has no liver shape", json_path)
        flagged[frame_index] = annotation.is_key_frame
        labelled.append(LabelledFrame(frame_index, masks["tumor"], masks["liver"]))
    key_frame = flagged_key_frame(flagged, case.root, required=True)
    labelled.sort(key=lambda label: (label.frame_index != key_frame, label.frame_index))

    values, present = _clinical_vectors(clinical)
    return CaseRecord(
        case_id=case.case_id,
        clip=np.round(clip * 255.0).astype(np.uint8),
        key_frame=key_frame,
        labelled=tuple(labelled),
        clinical_values=values,
        clinical_present=present,
        response=None if clinical is None else clinical.response,
    )


def read_dataset(
    root: str | Path,
    size: int = MODEL_SIZE,
    cache_dir: str | Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DatasetReport:
    """Every case folder under ``root``, preprocessed; malformed cases are reported and skipped.

    ``cache_dir`` defaults to ``root/.cache``; ``workers`` (default: the CPU count) decode cases
    in parallel processes.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("is not a folder", root)
    clinical_path = root / "clinical.csv"
    clinical = read_clinical_csv(clinical_path) if clinical_path.is_file() else {}
    case_dirs = sorted(path for path in root.iterdir() if path.is_dir() and is_case_folder(path))
    if not case_dirs:
        raise InputError("holds no case folders (see the case-folder contract)", root)
    cache = Path(cache_dir) if cache_dir is not None else root / ".cache"
    cache.mkdir(parents=True, exist_ok=True)

    jobs = [(path, clinical.get(path.name), size, cache) for path in case_dirs]
    records: list[CaseRecord] = []
    rejected: list[tuple[str, str]] = []
    workers = workers or os.cpu_count() or 1
    results: Iterable[tuple[str, CaseRecord | str]]
    if workers > 1 and len(jobs) > 1:
        # Fresh interpreters, not fork: forking after OpenCV has run its thread pool can
        # deadlock the children.
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"))
        results = pool.map(_load_cached_job, jobs, chunksize=4)
    else:
        pool, results = None, map(_load_cached_job, jobs)
    try:
        for done, (case_id, outcome) in enumerate(results, start=1):
            if isinstance(outcome, str):
                log.warning("skipping case %s: %s", case_id, outcome)
                rejected.append((case_id, outcome))
            else:
                records.append(outcome)
            if progress is not None:
                progress(done, len(jobs))
    finally:
        if pool is not None:
            pool.shutdown()
    return DatasetReport(records=records, rejected=rejected)


def _load_cached_job(
    job: tuple[Path, ClinicalRow | None, int, Path],
) -> tuple[str, CaseRecord | str]:
    case_dir, clinical, size, cache = job
    try:
        case = open_case(case_dir)
        cache_file = cache / f"{case.case_id}-{_fingerprint(case, size)}.npz"
        record = _read_cache(cache_file, case.case_id, clinical)
        if record is None:
            record = load_case_record(case, clinical, size)
            _write_cache(cache_file, record)
        return case_dir.name, record
    except InputError as exc:
        return case_dir.name, str(exc)


def _fingerprint(case: Case, size: int) -> str:
    """Changes when any file of the case, the model size or the preprocessing changes."""
    files = [case.video_path, *case.label_files.values()]
    if case.video_path.is_dir():
        files += sorted(case.video_path.iterdir())
    digest = hashlib.sha1(f"v{PREPROCESS_VERSION}:{size}".encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def _write_cache(cache_file: Path, record: CaseRecord) -> None:
    # A temporary name of this process's own: two runs reading one dataset into an empty
    # cache at once (a run and its held-out twin) write the same case at the same moment.
    temporary = cache_file.with_name(f"{cache_file.stem}.{os.getpid()}.tmp.npz")
    np.savez(
        temporary,
        clip=record.clip,
        key_frame=record.key_frame,
        frame_indices=np.array([label.frame_index for label in record.labelled]),
        tumor=np.stack([label.tumor for label in record.labelled]),
        liver=np.stack([label.liver for label in record.labelled]),
    )
    os.replace(temporary, cache_file)


def _read_cache(cache_file: Path, case_id: str, clinical: ClinicalRow | None) -> CaseRecord | None:
    if not cache_file.is_file():
        return None
    try:
        with np.load(cache_file) as data:
            labelled = tuple(
                LabelledFrame(int(index), tumor, liver)
                for index, tumor, liver in zip(
                    data["frame_indices"], data["tumor"], data["liver"], strict=True
                )
            )
            clip, key_frame = data["clip"], int(data["key_frame"])
    except (OSError, KeyError, ValueError) as exc:
        log.warning("ignoring unreadable cache %s: %s", cache_file, exc)
        return None
    # Clinical values are cheap and come from clinical.csv, which may change on its own.
    values, present = _clinical_vectors(clinical)
    return CaseRecord(case_id, clip, key_frame, labelled, values, present,
                      None if clinical is None else clinical.response)


def _clinical_vectors(clinical: ClinicalRow | None) -> tuple[np.ndarray, np.ndarray]:
    from dsaviewer.io.clinical import ClinicalVariables

    variables = clinical.variables if clinical is not None else ClinicalVariables()
    return clinical_feature_vector(variables)
