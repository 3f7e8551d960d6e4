"""Export many case folders into one training-ready dataset (the layout of DESIGN.md):

```
<destination>/
  clinical.csv              one row per exported case, merged from the sources
  <case_id>/video.* | frames/
  <case_id>/labels/NNNN.json + NNNN.png
```

The sources are only read. Videos are hard-linked when source and destination share a file
system (a DSA run is tens of megabytes; nobody edits one in place) and copied otherwise or on
request; label files are always copied, because Labelme saves a file in place and would change
the source through a shared link. Everything is checked before anything is written, and the
dataset is built in a hidden folder beside the destination and renamed into place, so a
failed or cancelled export leaves no half dataset behind.

Each case's clinical row: the values entered in the viewer (saved in the case's viewer state)
where there are any, else its dataset's ``clinical.csv`` row; the response always comes from
that CSV (the viewer does not record it).
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import LABELS_FOLDER_NAME, Case, is_case_folder, open_case
from dsaviewer.io.case_state import locate_case_state, read_case_state
from dsaviewer.io.clinical import (
    ClinicalRow,
    ClinicalTable,
    ClinicalVariables,
    read_clinical_csv,
    write_clinical_csv,
)
from dsaviewer.io.frame_labels import FrameLabels, read_frame_labels
from dsaviewer.io.key_frame_labels import flagged_key_frame

CLINICAL_CSV_NAME = "clinical.csv"
# More problems than this in one message would hide the first ones; the rest are counted.
_MAX_PROBLEMS_SHOWN = 20


class ExportCancelled(Exception):
    """The export was cancelled; nothing was left at the destination."""


@dataclass(frozen=True)
class ExportedCase:
    """One case as exported. ``warnings`` say what a training run may trip over: no or several
    key frames flagged, frames holding unchecked model output, labels that are not
    tumor/liver."""

    case_id: str
    source: Path
    destination: Path
    video_linked: bool  # hard link rather than copy
    label_frames: tuple[int, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class DatasetExport:
    destination: Path
    clinical_csv: Path
    cases: tuple[ExportedCase, ...]


def case_folders_in(dataset_dir: str | Path) -> list[Path]:
    """The case folders directly inside a dataset folder, by name."""
    folder = Path(dataset_dir)
    if not folder.is_dir():
        raise InputError("not a folder", folder)
    return sorted(
        (entry for entry in folder.iterdir() if not entry.name.startswith(".")
         and is_case_folder(entry)),
        key=lambda entry: entry.name,
    )


def export_dataset(
    case_dirs: Sequence[str | Path],
    destination: str | Path,
    link_videos: bool = True,
    on_case: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
) -> DatasetExport:
    """Export ``case_dirs`` into the new folder ``destination`` (absent or empty).

    Raises InputError, before writing anything, for a source that is not a valid case, a
    label file that cannot be read, two cases with one name, a clinical.csv or viewer state
    that cannot be read, or a destination that exists with content or lies inside a source.
    ``on_case(done, total, case_id)`` reports progress after each case; setting ``cancel``
    stops the export (:class:`ExportCancelled`). OSError (disk full, no permission) leaves
    nothing at the destination either.
    """
    target = Path(destination).absolute()
    cases = [_open_source(path) for path in case_dirs]
    if not cases:
        raise InputError("no case folders to export", target)
    _check_destination(target, cases)
    labels = {case.case_id: _read_labels(case) for case in cases}
    rows = _clinical_rows(cases)

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    staging.mkdir()
    exported: list[ExportedCase] = []
    try:
        for number, case in enumerate(cases, start=1):
            if cancel is not None and cancel.is_set():
                raise ExportCancelled(f"export cancelled after {number - 1} of {len(cases)} cases")
            exported.append(
                _export_case(case, labels[case.case_id], staging, target, link_videos)
            )
            if on_case is not None:
                on_case(number, len(cases), case.case_id)
        write_clinical_csv(staging / CLINICAL_CSV_NAME, rows)
        if target.exists():
            target.rmdir()  # checked empty above
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DatasetExport(target, target / CLINICAL_CSV_NAME, tuple(exported))


def _open_source(path: str | Path) -> Case:
    case = open_case(Path(path).absolute())
    # Resolved, so a destination reached through a link is still seen to overlap a source.
    return Case(case.case_id, case.root.resolve(), case.video_path.resolve(), case.label_files)


def _check_destination(target: Path, cases: list[Case]) -> None:
    seen: dict[str, Path] = {}
    for case in cases:
        if case.case_id in seen:
            raise InputError(
                f"two cases are named {case.case_id!r} ({seen[case.case_id]} and {case.root}); "
                "case names must be unique in a dataset",
                case.root,
            )
        seen[case.case_id] = case.root
    resolved = target.resolve()
    for case in cases:
        if resolved == case.root or case.root in resolved.parents or resolved in case.root.parents:
            raise InputError(
                f"the destination must lie outside the case folders; it overlaps {case.root}",
                target,
            )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("the destination exists and is not an empty folder", target)


def _read_labels(case: Case) -> list[FrameLabels]:
    labels, problems = [], []
    for path in case.label_files.values():
        try:
            labels.append(read_frame_labels(path))
        except InputError as error:
            problems.append(str(error))
    if problems:
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        raise InputError(
            f"case {case.case_id}: {len(problems)} label file(s) cannot be read: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else ""),
            case.root / LABELS_FOLDER_NAME,
        )
    return labels


def _clinical_rows(cases: list[Case]) -> dict[str, ClinicalRow]:
    tables: dict[Path, ClinicalTable] = {}
    rows = {}
    for case in cases:
        location = locate_case_state(case.root)
        row = None
        csv_path = location.clinical_csv
        if csv_path is not None and csv_path.is_file():
            if csv_path not in tables:
                tables[csv_path] = read_clinical_csv(csv_path)
            row = tables[csv_path].get(case.case_id)
        entered = read_case_state(location.state_folder).clinical
        variables = entered or (row.variables if row is not None else ClinicalVariables())
        rows[case.case_id] = ClinicalRow(variables, row.response if row is not None else None)
    return rows


def _export_case(
    case: Case, labels: list[FrameLabels], staging: Path, target: Path, link_videos: bool
) -> ExportedCase:
    """Write ``case`` into ``staging``; the result names where it will be, under ``target``."""
    folder = staging / case.case_id
    folder.mkdir()
    video_target = folder / case.video_path.name
    if case.video_path.is_dir():
        video_target.mkdir()
        linked = True
        for source in sorted(case.video_path.iterdir()):
            if source.is_file() and not source.name.startswith("."):
                linked &= _link_or_copy(source, video_target / source.name, link_videos)
    else:
        linked = _link_or_copy(case.video_path, video_target, link_videos)

    label_folder = folder / LABELS_FOLDER_NAME
    warnings: list[str] = []
    if labels:
        label_folder.mkdir()
    for frame in labels:
        shutil.copy2(frame.path, label_folder / frame.path.name)
        image = frame.annotation.image_path
        if image is not None and image.parent == frame.path.parent and image.is_file():
            shutil.copy2(image, label_folder / image.name)
        else:
            warnings.append(f"frame {frame.frame_index}: its image {image} is not beside it")
        if frame.annotation.unknown_labels:
            names = ", ".join(map(repr, frame.annotation.unknown_labels))
            warnings.append(f"frame {frame.frame_index}: labels {names} are not tumor/liver")
    if labels:
        try:  # the dataset's users need one key frame per case; say so, but export it
            flagged_key_frame({frame.frame_index: frame.annotation.is_key_frame
                               for frame in labels}, required=True)
        except InputError as error:
            warnings.append(str(error))
    unchecked = [frame.frame_index for frame in labels if frame.is_prediction]
    if unchecked:
        warnings.append(f"frames {unchecked} hold model masks nobody has checked")
    return ExportedCase(
        case.case_id,
        case.root,
        target / case.case_id,
        linked,
        tuple(frame.frame_index for frame in labels),
        tuple(warnings),
    )


def _link_or_copy(source: Path, target: Path, link: bool) -> bool:
    """Hard-link ``source`` to ``target`` when asked and possible, else copy; True if linked."""
    if link:
        try:
            os.link(source, target)
            return True
        except OSError:
            pass  # another file system, or one without hard links: copy instead
    shutil.copy2(source, target)
    return False
