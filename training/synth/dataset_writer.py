"""A whole synthetic dataset: cases ``start .. start + n - 1`` of ``seed`` written as case
folders, with ``clinical.csv``, ``truth.csv`` and ``synth.json``; optionally on several
processes (each case is independent)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2

from dsaviewer.io.clinical import ClinicalRow
from training.synth.case import SyntheticCase, case_id_for, generate_case
from training.synth.case_writer import (
    clear_dataset,
    clinical_row,
    is_synthetic_dataset,
    truth_row,
    write_case,
    write_clinical,
    write_manifest,
    write_truth_csv,
)
from training.synth.options import SynthOptions


@dataclass(frozen=True)
class CaseReport:
    """What one written case reports back (for progress lines and the dataset's tables)."""

    case_id: str
    index: int
    clinical: ClinicalRow
    truth: dict[str, object]
    seconds: float

    def describe(self) -> str:
        t = self.truth
        return (
            f"{self.case_id}  {t['width']}x{t['height']} {t['n_frames']} frames {t['video_format']}"
            f"  key {t['key_frame']}  {t['n_tumors_visible']} tumor(s)  {t['n_gi']} GI"
            f"  {self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class DatasetSummary:
    folder: Path
    cases: tuple[CaseReport, ...]
    seconds: float

    @property
    def responder_rate(self) -> float:
        return sum(report.clinical.response == 1 for report in self.cases) / max(len(self.cases), 1)


def write_dataset(
    out: str | Path,
    n: int,
    seed: int,
    options: SynthOptions | None = None,
    start: int = 0,
    workers: int = 1,
    force: bool = False,
    progress: Callable[[int, int, CaseReport], None] | None = None,
) -> DatasetSummary:
    """Generate and write ``n`` cases into ``out``.

    ``out`` must be missing, empty or a synthetic dataset written before (its cases are
    replaced); any other non-empty folder is refused unless ``force`` (then the cases are
    added beside what is there). ``progress(done, n, report)`` is called after each case.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, not {n}")
    options = options or SynthOptions()
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if is_synthetic_dataset(folder):
            clear_dataset(folder)
        elif not force:
            raise FileExistsError(
                f"{folder} is not empty and holds no synthetic dataset ({'synth.json'} is "
                "missing); choose an empty folder, or force writing into it (--force)"
            )
    folder.mkdir(parents=True, exist_ok=True)

    began = time.perf_counter()
    indices = list(range(start, start + n))
    reports: list[CaseReport] = []
    jobs = [(folder, seed, index, options) for index in indices]
    if workers > 1:
        # Spawned, not forked: a fork inherits OpenCV's thread pool mid-use and can hang.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, context, initializer=_one_thread_each) as pool:
            for report in pool.map(_write_one, jobs):
                reports.append(report)
                if progress:
                    progress(len(reports), n, report)
    else:
        for job in jobs:
            reports.append(_write_one(job))
            if progress:
                progress(len(reports), n, reports[-1])

    write_clinical(folder, {report.case_id: report.clinical for report in reports})
    write_truth_csv(folder / "truth.csv", [report.truth for report in reports])
    write_manifest(folder, seed, indices, options, [case_id_for(seed, i) for i in indices])
    return DatasetSummary(folder=folder, cases=tuple(reports), seconds=time.perf_counter() - began)


def report_for(case: SyntheticCase, seconds: float) -> CaseReport:
    return CaseReport(
        case_id=case.case_id,
        index=case.index,
        clinical=clinical_row(case),
        truth=truth_row(case),
        seconds=seconds,
    )


def _one_thread_each() -> None:
    """OpenCV in each worker on one thread: the processes already share the cores out."""
    cv2.setNumThreads(1)


def _write_one(job: tuple[Path, int, int, SynthOptions]) -> CaseReport:
    folder, seed, index, options = job
    began = time.perf_counter()
    case = generate_case(seed, index, options)
    write_case(case, folder)
    return report_for(case, time.perf_counter() - began)
