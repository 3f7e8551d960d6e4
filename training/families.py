"""Families of the broad mix (``training/synth/variety.py``) as the evaluation sees them:
which family values each case of a dataset has (from its ``truth.csv``), which cases a
held-out-family training may not see, and which it is tested on.

The split is a pure function of the truth table and the held-out values: no randomness,
the same on every machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from dsaviewer.errors import InputError
from training.synth.case_writer import read_truth_csv
from training.synth.variety import FAMILIES, parse_family_value

Families = dict[str, dict[str, str]]  # case id -> {family: value}


class _Case(Protocol):
    case_id: str


CaseT = TypeVar("CaseT", bound=_Case)


def read_families(dataset: str | Path | Sequence[str | Path]) -> Families:
    """The family values of every case of ``dataset``, one folder or several (empty for a
    dataset of the default mix, or one without ``truth.csv``)."""
    folders = [dataset] if isinstance(dataset, (str, Path)) else list(dataset)
    families: Families = {}
    for folder in folders:
        path = Path(folder) / "truth.csv"
        if not path.is_file():
            continue
        for row in read_truth_csv(path):
            values = {name: row.get(name, "") for name in FAMILIES}
            if any(values.values()):
                families[row["case_id"]] = {name: v for name, v in values.items() if v}
    return families


def parse_held_out(items: Iterable[str]) -> dict[str, str]:
    """``["territory=segmental", ...]`` -> {family: value}, checked against FAMILIES."""
    held: dict[str, str] = {}
    for item in items:
        try:
            family, value = parse_family_value(item)
        except ValueError as error:
            raise InputError(f"held-out family: {error}", "command line") from None
        held[family] = value
    return held


def is_held_out(values: Mapping[str, str], held_out: Mapping[str, str]) -> bool:
    """A case is held out when it has any held-out value."""
    return any(values.get(family) == value for family, value in held_out.items())


def training_cases(
    case_ids: Iterable[str], families: Families, held_out: Mapping[str, str]
) -> list[str]:
    """The cases a model held out from ``held_out`` may train on, in the given order."""
    return [c for c in case_ids if not is_held_out(families.get(c, {}), held_out)]



def without_held_out(
    records: Sequence[CaseT], data: Sequence[str | Path], held_out: Mapping[str, str],
    log: Callable[[str], None] = print,
) -> list[CaseT]:
    """The records of the datasets ``data`` that a run holding out ``held_out`` may train and
    validate on (all of them when nothing is held out), and a line saying how many."""
    if not held_out:
        return list(records)
    kept = set(training_cases([r.case_id for r in records], read_families(data), held_out))
    log(f"holding out {dict(held_out)}: training and validating on {len(kept)} of "
        f"{len(records)} cases")
    return [record for record in records if record.case_id in kept]

def family_groups(case_ids: Iterable[str], families: Families) -> dict[str, list[str]]:
    """``"family=value"`` -> its cases (in the given order), for every value present."""
    groups: dict[str, list[str]] = {}
    for case_id in case_ids:
        for family, value in families.get(case_id, {}).items():
            groups.setdefault(f"{family}={value}", []).append(case_id)
    return dict(sorted(groups.items()))


def held_out_groups(given: Iterable[str], options: Mapping[str, object]) -> set[str]:
    """``"family=value"`` of the values held out: those given (``--held-out``), else the
    ones a training run recorded in its options."""
    if given:
        return {f"{family}={value}" for family, value in parse_held_out(given).items()}
    stored = options.get("held_out", ()) if isinstance(options, Mapping) else ()
    return {f"{family}={value}" for family, value in stored}  # type: ignore[union-attr]
