"""Train / validation splits by case for k-fold cross-validation.

Cases, never frames, are the unit: the key frame and its k+1, k+2 augmentation frames of one
case always fall on the same side. The split depends only on the set of case ids, the seed and
the fold, not on the order cases were read in, so every run, process and machine agrees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CaseSplit:
    train: tuple[str, ...]
    validation: tuple[str, ...]
    fold: int
    n_folds: int
    seed: int

    def to_dict(self) -> dict[str, object]:
        return {
            "train": list(self.train),
            "validation": list(self.validation),
            "fold": self.fold,
            "n_folds": self.n_folds,
            "seed": self.seed,
        }


def split_cases(
    case_ids: Sequence[str],
    fold: int = 0,
    n_folds: int = 5,
    seed: int = 0,
    strata: Mapping[str, int] | None = None,
) -> CaseSplit:
    """Fold ``fold`` of ``n_folds`` as the validation set, the other folds for training.

    Cases are shuffled by ``seed`` and dealt round-robin into the folds, within each stratum
    when ``strata`` (case id -> label, e.g. responder or not) is given, so every fold keeps the
    class balance. Fold sizes differ by at most one case per stratum.
    """
    ids = sorted(set(case_ids))
    if len(ids) != len(case_ids):
        raise ValueError("case ids must be unique")
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds}")
    if not 0 <= fold < n_folds:
        raise ValueError(f"fold must be in 0..{n_folds - 1}, got {fold}")
    if len(ids) < n_folds:
        raise ValueError(f"{len(ids)} cases cannot make {n_folds} folds")
    rng = np.random.default_rng(seed)
    groups: dict[int, list[str]] = {}
    for case_id in ids:
        groups.setdefault(0 if strata is None else int(strata[case_id]), []).append(case_id)
    validation: set[str] = set()
    offset = 0  # continue dealing where the previous stratum stopped, to balance fold sizes
    for label in sorted(groups):
        members = groups[label]
        order = rng.permutation(len(members))
        for position, index in enumerate(order):
            if (position + offset) % n_folds == fold:
                validation.add(members[index])
        offset += len(members)
    return CaseSplit(
        train=tuple(case_id for case_id in ids if case_id not in validation),
        validation=tuple(case_id for case_id in ids if case_id in validation),
        fold=fold,
        n_folds=n_folds,
        seed=seed,
    )
