"""Analysing many runs at once: video files, case folders and whole dataset folders (with
their ``clinical.csv``), each written to ``<out>/<case_id>/``, plus ``<out>/summary.csv``.
A case that fails is recorded with its reason and the others go on.

Memory stays flat however many cases there are: each case's arrays are written out and
dropped before the next case starts; only its summary row is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from dsaviewer.core.keyframe import KEY_FRAME_AUTO, KEY_FRAME_LABELS, KEY_FRAME_OVERRIDE
from dsaviewer.core.lesions import MinLesionSize
from dsaviewer.errors import InputError
from dsaviewer.inference.backend import ModelBackend
from dsaviewer.inference.dicom_results import write_dicom_results
from dsaviewer.inference.parametric_files import write_parametric_files
from dsaviewer.inference.pipeline import analyze
from dsaviewer.inference.result_files import (
    SUMMARY_FILE,
    summary_row,
    write_result_files,
    write_summary,
)
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.inference.scope import OutOfScopeError
from dsaviewer.io.case_folder import is_case_folder, open_case
from dsaviewer.io.clinical import ClinicalTable, ClinicalVariables, read_clinical_csv
from dsaviewer.io.key_frame_labels import labelled_key_frame
from dsaviewer.io.video import load_video

CLINICAL_CSV = "clinical.csv"
KeyFrameMode = Literal["auto", "labels"] | int


@dataclass(frozen=True)
class CaseInput:
    """One run to analyse: a video source or a case folder, and its clinical values."""

    case_id: str
    path: Path
    is_case: bool  # a case folder: its labels can give the key frame
    clinical: ClinicalVariables | None = None


@dataclass(frozen=True)
class CaseOutcome:
    """How one case went. ``result`` (masks, probabilities) is there only while
    ``on_case`` runs; the outcomes :func:`analyze_cases` returns hold ``summary``, the case's
    summary.csv row, instead, so a batch's memory does not grow with its length."""

    case_id: str
    path: Path
    result: AnalysisResult | None
    error: str | None  # why the case failed
    folder: Path | None  # where its result files are
    refused: bool = False  # not analysed: outside the models' scope (error says why)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def find_cases(
    paths: Iterable[str | Path], clinical_csv: str | Path | None = None
) -> list[CaseInput]:
    """The runs under ``paths``: a video file or folder is one run named after it, a case
    folder one case, and a dataset folder (case folders side by side, maybe a clinical.csv)
    each of its non-hidden subfolders. Clinical values come from ``clinical_csv`` when given,
    else from the dataset's own clinical.csv. A case id that repeats gets ``-2``, ``-3``, …

    Raises InputError for an unreadable clinical table; paths that do not exist are kept, so
    the analysis reports them like any other failing case.
    """
    explicit = read_clinical_csv(clinical_csv) if clinical_csv is not None else None
    inputs: list[CaseInput] = []
    for path in map(Path, paths):
        if path.is_dir() and is_case_folder(path):
            found = [(path.name, path, True, None)]
        elif _is_dataset(path):
            table = path / CLINICAL_CSV
            own = read_clinical_csv(table) if table.is_file() else ClinicalTable({})
            found = [
                (folder.name, folder, True, own.get(folder.name))
                for folder in sorted(path.iterdir())
                if folder.is_dir() and not folder.name.startswith(".")
            ]
        else:
            found = [(path.stem if path.is_file() else path.name, path, False, None)]
        for case_id, case_path, is_case, row in found:
            if explicit is not None:
                row = explicit.get(case_id)
            inputs.append(
                CaseInput(case_id, case_path, is_case, None if row is None else row.variables)
            )
    return _unique_ids(inputs)


def analyze_cases(
    inputs: list[CaseInput],
    out_dir: str | Path,
    models: ModelBackend,
    key_frame: KeyFrameMode = "auto",
    labelme: bool = False,
    on_case: Callable[[int, int, CaseOutcome], None] | None = None,
    include_path: bool = False,
    dicom: bool = False,
    parametric: bool = False,
    min_lesion_size: MinLesionSize | None = None,
) -> list[CaseOutcome]:
    """Analyse each input with ``models``, write its files to ``out_dir/<case_id>/`` and the
    summary to ``out_dir/summary.csv``; ``on_case(number, total, outcome)`` after each case.
    ``include_path`` records each input's absolute path in its result.json. With ``dicom``
    also the SEG, SR and secondary capture (a non-DICOM run then fails); with ``parametric``
    the parametric maps and time-density curves. ``min_lesion_size`` goes to
    :func:`~dsaviewer.inference.pipeline.analyze` (None: its default)."""
    out = Path(out_dir)
    outcomes: list[CaseOutcome] = []
    for number, case_input in enumerate(inputs, start=1):
        outcome = _analyze_one(
            case_input, out, models, key_frame, labelme, include_path, dicom, parametric,
            min_lesion_size,
        )
        outcome = replace(
            outcome,
            summary=summary_row(
                outcome.case_id, outcome.result, outcome.error or "", outcome.refused
            ),
        )
        if on_case is not None:
            on_case(number, len(inputs), outcome)
        outcomes.append(replace(outcome, result=None))  # the arrays are on disk: drop them
        del outcome
    write_summary(out / SUMMARY_FILE, (outcome.summary for outcome in outcomes))
    return outcomes


def _analyze_one(
    case_input: CaseInput,
    out: Path,
    models: ModelBackend,
    key_frame: KeyFrameMode,
    labelme: bool,
    include_path: bool,
    dicom: bool = False,
    parametric: bool = False,
    min_lesion_size: MinLesionSize | None = None,
) -> CaseOutcome:
    try:
        source = open_case(case_input.path).video_path if case_input.is_case else case_input.path
        video = load_video(source)
        if key_frame == KEY_FRAME_LABELS:
            if not case_input.is_case:
                raise InputError(
                    "--key-frame labels needs a case folder with labels/", case_input.path
                )
            chosen = labelled_key_frame(open_case(case_input.path), required=True)
            origin = KEY_FRAME_LABELS
        elif key_frame == KEY_FRAME_AUTO:
            chosen, origin = None, KEY_FRAME_OVERRIDE
        else:
            chosen, origin = key_frame, KEY_FRAME_OVERRIDE
        result = analyze(
            video,
            clinical=case_input.clinical,
            key_frame=chosen,
            weights=models,
            key_frame_source=origin,
            min_lesion_size=min_lesion_size,
        )
        folder = out / case_input.case_id
        write_result_files(
            folder, case_input.case_id, video, result, models.weights_dir, labelme, include_path
        )
        if dicom:
            write_dicom_results(folder, video, result, models.weights_dir)
        if parametric:
            write_parametric_files(folder, video, result)
    except OutOfScopeError as error:  # one plain line, without the file path twice
        return CaseOutcome(case_input.case_id, case_input.path, None, error.reason, None, True)
    except InputError as error:
        return CaseOutcome(case_input.case_id, case_input.path, None, str(error), None)
    except Exception as error:  # noqa: BLE001 - one broken case must not stop the batch
        reason = f"unexpected {type(error).__name__}: {error}"
        return CaseOutcome(case_input.case_id, case_input.path, None, reason, None)
    return CaseOutcome(case_input.case_id, case_input.path, result, None, folder)


def _is_dataset(path: Path) -> bool:
    if not path.is_dir():
        return False
    return (path / CLINICAL_CSV).is_file() or any(
        entry.is_dir() and not entry.name.startswith(".") for entry in path.iterdir()
    )


def _unique_ids(inputs: list[CaseInput]) -> list[CaseInput]:
    used: set[str] = set()
    unique = []
    for case_input in inputs:
        case_id, count = case_input.case_id, 1
        while case_id in used:
            count += 1
            case_id = f"{case_input.case_id}-{count}"
        used.add(case_id)
        unique.append(
            CaseInput(case_id, case_input.path, case_input.is_case, case_input.clinical)
        )
    return unique
