"""Two segmentation evaluations of the same cases, paired: per case the new model's Dice minus
the base model's, their mean with a bootstrap CI over cases, for all cases, for the cases of a
held-out family value and the others, and per family value.

A difference measured on the same cases is what decides between two models (docs/evaluation.md
fixes each rule as "paired against ..."): the case-to-case spread that makes each model's own
interval wide cancels in it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsaviewer.core.bootstrap import ConfidenceInterval, bootstrap_ci
from dsaviewer.errors import InputError
from training.report import markdown_table

# Per-case metrics compared: (key in a segmentation.json case, column title).
PAIRED_METRICS = (("dice", "tumor Dice"), ("liver_dice", "liver Dice"))
ALL = "all"
HELD_OUT = "held-out values"
OTHERS = "other cases"


@dataclass(frozen=True)
class PairedMetric:
    n_cases: int  # cases where both models have the metric (liver Dice needs a liver net)
    base: float
    new: float
    difference: ConfidenceInterval  # new - base, mean over the cases, paired bootstrap


@dataclass(frozen=True)
class PairedRow:
    group: str  # "all", "held-out values", "other cases" or "family=value"
    n_cases: int
    held_out: bool
    metrics: Mapping[str, PairedMetric]

    def to_dict(self) -> dict[str, object]:
        return {
            "group": self.group, "n_cases": self.n_cases, "held_out": self.held_out,
            **{key: {"n_cases": m.n_cases, "base": m.base, "new": m.new,
                     "difference": m.difference._asdict()}
               for key, m in self.metrics.items()},
        }


def case_values(
    evaluation: Mapping, source: str | Path = "segmentation.json"
) -> dict[str, dict[str, float | None]]:
    """Case id -> its paired metrics, from the post-processed cases of an ``evaluate-seg``
    report (``source``, its segmentation.json), as the viewer shows masks."""
    try:
        cases = evaluation["postprocessed"]["cases"]
        return {case["case_id"]: {key: case[key] for key, _ in PAIRED_METRICS}
                for case in cases}
    except (KeyError, TypeError) as error:
        raise InputError(f"is not an evaluate-seg report (missing {error})", source) from error


def same_cases(base: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """The case ids both evaluations scored, in the base's order; InputError when they
    differ: a paired difference over different cases is not one."""
    only_base = sorted(base.keys() - new.keys())
    only_new = sorted(new.keys() - base.keys())
    if only_base or only_new:
        parts = [f"{len(ids)} case(s) only in the {name} one, e.g. {ids[0]}"
                 for name, ids in (("base", only_base), ("new", only_new)) if ids]
        raise InputError("the two evaluations scored different cases: " + "; ".join(parts),
                         "evaluations")
    return list(base)


def compare_segmentations(
    base: Mapping[str, Mapping[str, float | None]],
    new: Mapping[str, Mapping[str, float | None]],
    groups: Mapping[str, Sequence[str]],
    held_out: Collection[str] = (),
    n_resamples: int = 2000,
    seed: int = 0,
) -> list[PairedRow]:
    """Paired rows for all cases, then (with ``held_out`` values) the cases of any held-out
    value and the others, then each group of ``groups`` (``"family=value"`` -> case ids)."""
    case_ids = same_cases(base, new)
    held_cases = {case_id for group in held_out for case_id in groups.get(group, ())}
    selections: list[tuple[str, list[str], bool]] = [(ALL, case_ids, False)]
    if held_out:
        selections.append((HELD_OUT, [c for c in case_ids if c in held_cases], True))
        selections.append((OTHERS, [c for c in case_ids if c not in held_cases], False))
    selections += [(group, [c for c in members if c in base], group in held_out)
                   for group, members in groups.items()]
    return [
        PairedRow(name, len(chosen), is_held,
                  {key: _paired(base, new, chosen, key, n_resamples, seed)
                   for key, _ in PAIRED_METRICS})
        for name, chosen, is_held in selections if chosen
    ]


def _paired(
    base: Mapping[str, Mapping[str, float | None]],
    new: Mapping[str, Mapping[str, float | None]],
    case_ids: Sequence[str],
    key: str,
    n_resamples: int,
    seed: int,
) -> PairedMetric:
    pairs = [(base[c][key], new[c][key]) for c in case_ids]
    pairs = [(b, n) for b, n in pairs if _defined(b) and _defined(n)]
    if not pairs:
        nan = math.nan
        return PairedMetric(0, nan, nan, ConfidenceInterval(nan, nan, nan))
    values = np.array(pairs, dtype=float)
    difference = bootstrap_ci(values[:, 1] - values[:, 0], n_resamples=n_resamples, seed=seed)
    return PairedMetric(len(pairs), float(values[:, 0].mean()), float(values[:, 1].mean()),
                        difference)


def _defined(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def comparison_markdown(rows: Sequence[PairedRow], base_name: str, new_name: str) -> str:
    """A table, a row per group: each metric's base and new means and the paired difference
    with its 95 % CI."""
    headers = ["cases", "n", "held out"]
    for _, title in PAIRED_METRICS:
        headers += [f"{title}: {base_name}", new_name, "difference (95 % CI)"]
    body = []
    for row in rows:
        cells = [row.group, str(row.n_cases), "yes" if row.held_out else ""]
        for key, _ in PAIRED_METRICS:
            metric = row.metrics[key]
            d = metric.difference
            cells += [_number(metric.base), _number(metric.new),
                      f"{d.estimate:+.3f} ({d.low:+.3f} to {d.high:+.3f})"
                      if math.isfinite(d.estimate) else "-"]
        body.append(cells)
    return markdown_table(headers, body)


def _number(value: float) -> str:
    return f"{value:.3f}" if math.isfinite(value) else "-"
