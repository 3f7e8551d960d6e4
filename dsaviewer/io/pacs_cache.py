"""The local cache of retrieved series, shared by the DICOM (C-GET) and DICOMweb (WADO-RS)
transports: ``<cache>/<study>/<series>/<instance>.dcm``, filled through a hidden partial folder
that is renamed into place only when the whole series arrived, so a dropped transfer or a
cancel leaves the cache as it was."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dsaviewer.io.pacs import PacsError

ProgressCallback = Callable[[int, "int | None"], None]  # (instances received, total if known)


class PacsCancelled(PacsError):
    """The user cancelled the transfer; nothing of it was kept."""


@dataclass(frozen=True)
class RetrievedSeries:
    folder: Path  # the series' cache folder, one file per instance
    files: tuple[Path, ...]


def is_uid(text: str) -> bool:
    return 0 < len(text) <= 64 and all(part.isdigit() for part in text.split("."))


def series_cache_folder(cache_dir: str | Path, study_uid: str, series_uid: str) -> Path:
    """Where a retrieved series lives in the cache: ``<cache>/<study>/<series>/``."""
    for uid in (study_uid, series_uid):
        if not is_uid(uid):
            raise PacsError(f"{uid!r} is not a DICOM UID")
    return Path(cache_dir) / study_uid / series_uid


def instance_file(folder: Path, instance_uid: str, number: int) -> Path:
    """The file for one received instance. The sender names it: only a UID is accepted, so
    the name cannot point outside the folder."""
    name = f"{instance_uid}.dcm" if is_uid(instance_uid) else f"instance-{number:05d}.dcm"
    return folder / name


class SeriesDownload:
    """One series arriving in the cache's partial folder, whatever the transport: each
    instance is named by its UID, counted and reported to ``progress``; the transport watches
    ``cancel``."""

    def __init__(self, folder: Path, progress: ProgressCallback | None,
                 cancel: threading.Event) -> None:
        self.folder = folder
        self.cancel = cancel
        self.expected: int | None = None  # the series' instance count, once the sender says
        self.received: list[Path] = []
        self._progress = progress

    def store(self, instance_uid: str, write: Callable[[Path], None]) -> None:
        """Write one instance with ``write(path)`` and report it."""
        path = instance_file(self.folder, instance_uid, len(self.received) + 1)
        write(path)
        self.received.append(path)
        if self._progress is not None:
            self._progress(len(self.received), self.expected)


def download_series(
    source: str,
    cache_dir: str | Path,
    study_uid: str,
    series_uid: str,
    transfer: Callable[[SeriesDownload], None],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> RetrievedSeries:
    """Receive a series into the cache: ``transfer`` stores every instance into the download
    (PacsError when it cannot, PacsCancelled on ``cancel``); an earlier copy is replaced only
    once the new one is complete, and a series without instances is an error naming
    ``source``. Both transports' retrievals are this with their own ``transfer``."""
    with partial_series_folder(cache_dir, study_uid, series_uid) as (partial, target):
        download = SeriesDownload(partial, progress, cancel or threading.Event())
        transfer(download)
        if not download.received:
            raise PacsError(f"{source} holds no instances of series {series_uid}")
    return RetrievedSeries(target, tuple(sorted(target / path.name for path in download.received)))


@contextlib.contextmanager
def partial_series_folder(cache_dir: str | Path, study_uid: str,
                          series_uid: str) -> Iterator[tuple[Path, Path]]:
    """Yield (partial folder to write into, the series' final folder). On a normal exit the
    partial folder replaces the final one; on any exception it is removed."""
    target = series_cache_folder(cache_dir, study_uid, series_uid)
    partial = target.with_name(f".{series_uid}.{uuid.uuid4().hex}.part")
    try:
        partial.mkdir(parents=True)
        yield partial, target
        _move_into_place(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _move_into_place(partial: Path, target: Path) -> None:
    """Rename the complete series into place, replacing an older copy only after the rename
    of the new one cannot fail for lack of the name."""
    if target.exists():
        retired = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
        os.replace(target, retired)
        os.replace(partial, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(partial, target)
