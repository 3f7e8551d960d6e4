"""The scope classifier's data: what it reads of every run of a folder
(:func:`dsaviewer.inference.pipeline.scope_maps`), with the run's kind ("liver" or a
synth-negatives kind) and, for the broad mix, its family values. Cached per folder as one
``.npz``, so fitting and evaluating read each video once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.core.scope_input import SCOPE_CHANNELS, SCOPE_INPUT_SIZE
from dsaviewer.errors import InputError
from dsaviewer.inference.batch import find_cases
from dsaviewer.inference.pipeline import scope_maps
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.video import load_video
from training.families import read_families

LIVER = "liver"


@dataclass(frozen=True)
class ScopeInputs:
    maps: np.ndarray  # (N, channels, 64, 64) float32
    case_ids: np.ndarray  # (N,) str
    kinds: np.ndarray  # (N,) "liver" or a negative kind
    families: np.ndarray  # (N,) "territory=celiac;liver=small;..." ("" outside the broad mix)
    refused: tuple[tuple[str, str, str], ...]  # (case id, kind, why) of runs not readable

    @property
    def is_liver(self) -> np.ndarray:
        return self.kinds == LIVER

    def select(self, chosen: np.ndarray) -> ScopeInputs:
        return ScopeInputs(self.maps[chosen], self.case_ids[chosen], self.kinds[chosen],
                           self.families[chosen], self.refused)

    def groups(self) -> dict[str, np.ndarray]:
        """Kind -> its rows, and for liver runs "liver/family=value" -> its rows."""
        found = {kind: self.kinds == kind for kind in sorted(set(self.kinds.tolist()))}
        values = sorted({v for text in self.families.tolist() for v in text.split(";") if v})
        for value in values:
            found[f"{LIVER}/{value}"] = self.is_liver & np.array(
                [value in text.split(";") for text in self.families.tolist()])
        return found


def folder_inputs(folder: Path, cache_dir: Path, kinds: dict[str, str] | None = None
                  ) -> ScopeInputs:
    """The inputs of every run under ``folder`` (cached in ``cache_dir``). ``kinds``: case id
    -> kind for a synth-negatives folder; None for a liver dataset."""
    cases = [case for case in find_cases([folder])
             if kinds is None or case.case_id in kinds]  # others: from a larger generator run
    cache = Path(cache_dir) / f"{Path(folder).resolve().name}.scope-inputs.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            refused = tuple(tuple(row) for row in stored["refused"].tolist())
            # Read back only what was made of these very runs: another folder of the same
            # name, or one that has grown since, is read again.
            same_runs = sorted([*stored["case_ids"].tolist(), *(row[0] for row in refused)]
                               ) == sorted(case.case_id for case in cases)
            if tuple(stored["channels"].tolist()) == SCOPE_CHANNELS and same_runs:
                return ScopeInputs(stored["maps"].astype(np.float32), stored["case_ids"],
                                   stored["kinds"], stored["families"], refused)
    families = read_families(folder)
    maps, ids, run_kinds, run_families, refused = [], [], [], [], []
    for case in cases:
        kind = LIVER if kinds is None else kinds[case.case_id]
        try:
            maps.append(scope_maps(load_video(open_case(case.path).video_path)))
        except InputError as error:
            refused.append((case.case_id, kind, error.reason))
            continue
        ids.append(case.case_id)
        run_kinds.append(kind)
        values = families.get(case.case_id, {})
        run_families.append(";".join(f"{name}={value}" for name, value in values.items()))
    inputs = ScopeInputs(
        np.stack(maps) if maps else np.zeros((0, len(SCOPE_CHANNELS), SCOPE_INPUT_SIZE,
                                              SCOPE_INPUT_SIZE), np.float32),
        np.array(ids, dtype=str), np.array(run_kinds, dtype=str),
        np.array(run_families, dtype=str), tuple(refused))
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        cache, maps=inputs.maps.astype(np.float16), case_ids=inputs.case_ids,
        kinds=inputs.kinds, families=inputs.families, channels=np.array(SCOPE_CHANNELS),
        refused=np.array(refused, dtype=str).reshape(-1, 3))
    return inputs


def collect_inputs(liver: list[Path], negatives: list[Path], cache_dir: Path) -> ScopeInputs:
    """The inputs of the liver datasets and the synth-negatives folders, in one table."""
    from training.synth.negatives_cli import read_kinds

    parts = [folder_inputs(folder, cache_dir) for folder in liver]
    parts += [folder_inputs(folder, cache_dir, read_kinds(folder)) for folder in negatives]
    refused = tuple(row for part in parts for row in part.refused)
    return ScopeInputs(
        np.concatenate([part.maps for part in parts]),
        np.concatenate([part.case_ids for part in parts]),
        np.concatenate([part.kinds for part in parts]),
        np.concatenate([part.families for part in parts]),
        refused,
    )
