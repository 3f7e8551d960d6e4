"""The generator's true response probabilities of dataset cases, read from ``truth.csv``:
what a Bayes ceiling, a calibration error against the truth and a calibration fitted to the
truth need. Real cases have none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from training.dataset import CaseRecord
from training.synth.case_writer import TRUTH_CSV, read_truth_csv


def true_probabilities(
    data: Sequence[Path], records: Sequence[CaseRecord], truth_file: Path | None = None
) -> np.ndarray | None:
    """The true probabilities of ``records``, in their order: from ``truth_file``, else from
    the truth.csv of every ``data`` folder (None when one of them has none). InputError for
    a file without the columns or without a row for a case."""
    if truth_file is not None:
        if not truth_file.is_file():
            raise InputError("truth file not found", truth_file)
        paths = [truth_file]
    else:
        paths = [Path(folder) / TRUTH_CSV for folder in data]
        if not all(path.is_file() for path in paths):
            return None
    rows: dict[str, float] = {}
    for path in paths:
        try:
            rows.update({row["case_id"]: float(row["response_probability"])
                         for row in read_truth_csv(path)})
        except (KeyError, ValueError) as error:
            raise InputError(f"needs case_id and response_probability columns: {error}",
                             path) from error
    missing = [record.case_id for record in records if record.case_id not in rows]
    if missing:
        where = ", ".join(str(path) for path in paths)
        raise InputError(f"has no row for {len(missing)} case(s), e.g. {missing[0]}", where)
    return np.array([rows[record.case_id] for record in records])
