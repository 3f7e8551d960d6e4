"""The scope check's data: every run of a folder analysed by the shipped models, keeping what
the scope score and its evaluation need (the scope features and score, and for labelled liver
runs each lesion's mean tumor probability and whether it hits a true tumor). Cached per
folder, so fitting and evaluating do not rerun the models."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dsaviewer.core.binary_masks import label_components
from dsaviewer.errors import InputError
from dsaviewer.inference.backend import ModelBackend
from dsaviewer.inference.batch import find_cases
from dsaviewer.inference.pipeline import analyze
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.key_frame_labels import labelled_key_frame
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import load_video
from training.synth.variety import FAMILIES

LIVER = "liver"


@dataclass
class ScopeRecord:
    case_id: str
    kind: str  # "liver" or a negative kind (training.synth.negatives_cli.KINDS)
    family: str  # a broad-mix liver run's family values ("territory=celiac;liver=small;...")
    features: list[float]
    score: float | None
    analyse_ms: float  # the whole analysis
    scope_ms: float  # the scope stage alone
    lesions: list[tuple[float, bool]]  # (mean tumor probability, overlaps a true tumor)
    refused: str = ""  # the refusal, when the run was not analysed


def collect(
    folder: Path, models: ModelBackend, cache_dir: Path, kinds: dict[str, str] | None = None
) -> list[ScopeRecord]:
    """The records of every run under ``folder`` (a dataset of case folders). ``kinds``:
    case_id -> kind for a negatives folder; None for a liver dataset (then lesions are
    checked against the labelled key frame's tumors)."""
    cache = Path(cache_dir) / f"{Path(folder).resolve().name}.jsonl"
    done = _read_cache(cache)
    families = _families(folder)
    records = []
    with cache.open("a", encoding="utf-8") as stream:
        for case in find_cases([folder]):
            if kinds is not None and case.case_id not in kinds:
                continue  # left from a larger run of the generator
            if case.case_id in done:
                records.append(done[case.case_id])
                continue
            kind = LIVER if kinds is None else kinds.get(case.case_id, "unknown")
            record = _record(case.case_id, case.path, kind, families.get(case.case_id, ""),
                             models, labelled=kinds is None)
            stream.write(json.dumps(asdict(record)) + "\n")
            stream.flush()
            records.append(record)
    return records


def collect_runs(
    liver: list[Path], negatives: list[Path], weights: Path | None, cache_dir: Path
) -> list[ScopeRecord]:
    """The records of the liver datasets and the synth-negatives folders, analysed with the
    weights folder ``weights`` (None: the bundled weights) on the CPU."""
    from dsaviewer.inference.backend import load_backend
    from training.synth.negatives_cli import read_kinds

    models = load_backend(weights, None, "cpu")
    records = []
    for folder in liver:
        records += collect(folder, models, cache_dir)
    for folder in negatives:
        records += collect(folder, models, cache_dir, read_kinds(folder))
    return records


def _record(
    case_id: str, path: Path, kind: str, family: str, models: ModelBackend, labelled: bool
) -> ScopeRecord:
    video = load_video(open_case(path).video_path)
    try:
        result = analyze(video, weights=models)
    except InputError as error:  # refused or unreadable: recorded, not fitted on
        return ScopeRecord(case_id, kind, family, [], None, 0.0, 0.0, [], error.reason)
    scope = result.scope
    lesions: list[tuple[float, bool]] = []
    if labelled:
        case = open_case(path)
        key = labelled_key_frame(case, required=True)
        truth_file = case.label_files[key]
        truth = read_labelme(truth_file).masks["tumor"]
        if key != result.key_frame:
            result = analyze(video, key_frame=key, weights=models, key_frame_source="labels")
        _, labels = label_components(result.tumor_mask)
        for lesion in result.lesions:
            row, column = lesion.contour[0]
            component = labels == labels[row, column]
            lesions.append((float(lesion.mean_probability), bool(truth[component].any())))
    return ScopeRecord(
        case_id, kind, family,
        list(scope.features) if scope is not None else [],
        None if scope is None else scope.score,
        result.timings_ms.get("total", 0.0), result.timings_ms.get("scope", 0.0), lesions,
    )


def feature_matrix(records: list[ScopeRecord]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(features (N, F), labels (N,) 1 for liver, kinds) of the analysed records."""
    usable = [record for record in records if record.features]
    features = np.array([record.features for record in usable], dtype=np.float64)
    labels = np.array([record.kind == LIVER for record in usable], dtype=np.float64)
    return features, labels, [record.kind for record in usable]


def _read_cache(cache: Path) -> dict[str, ScopeRecord]:
    cache.parent.mkdir(parents=True, exist_ok=True)
    if not cache.is_file():
        return {}
    records = {}
    for line in cache.read_text(encoding="utf-8").splitlines():
        if line.strip():
            values = json.loads(line)
            values["lesions"] = [tuple(item) for item in values["lesions"]]
            records[values["case_id"]] = ScopeRecord(**values)
    return records


def _families(folder: Path) -> dict[str, str]:
    """case_id -> "family=value;..." from the generator's truth.csv (empty in the default mix)."""
    truth = Path(folder) / "truth.csv"
    if not truth.is_file():
        return {}
    with truth.open(newline="", encoding="utf-8") as stream:
        return {
            row["case_id"]: ";".join(
                f"{family}={row[family]}" for family in FAMILIES if row.get(family)
            )
            for row in csv.DictReader(stream)
        }
