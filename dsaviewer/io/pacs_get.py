"""Retrieving a series from a PACS with C-GET into a local cache, with progress and cancel.

The instances arrive over our own association (C-GET, so no port has to be opened for the
PACS to call back). They are written to a hidden partial folder beside the series' cache
folder and that folder is renamed into place only when the PACS reports success: when the
association drops, the transfer fails or the user cancels, the partial folder is removed and
the cache holds either the complete series or nothing of this transfer.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import build_context, build_role, evt
from pynetdicom.sop_class import (
    BasicTextSRStorage,
    ComprehensiveSRStorage,
    EnhancedSRStorage,
    EnhancedXAImageStorage,
    EnhancedXRFImageStorage,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    SegmentationStorage,
    StudyRootQueryRetrieveInformationModelGet,
    XRayAngiographicImageStorage,
    XRayRadiofluoroscopicImageStorage,
)

from dsaviewer.io.pacs import PacsError, PacsNode, association, check_status

# What a DSA run and our own results are stored as.
STORAGE_CLASSES = (
    XRayAngiographicImageStorage,
    XRayRadiofluoroscopicImageStorage,
    EnhancedXAImageStorage,
    EnhancedXRFImageStorage,
    SecondaryCaptureImageStorage,
    MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    MultiFrameTrueColorSecondaryCaptureImageStorage,
    SegmentationStorage,
    EnhancedSRStorage,
    ComprehensiveSRStorage,
    BasicTextSRStorage,
)
# Every syntax our reader decodes: the PACS then sends what it holds, without transcoding.
TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    JPEGLosslessSV1,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSLossless,
    JPEGLSNearLossless,
    JPEG2000Lossless,
    JPEG2000,
    RLELossless,
)
_PENDING = (0xFF00, 0xFF01)
_OUT_OF_RESOURCES = 0xA700

ProgressCallback = Callable[[int, int | None], None]  # (instances received, total if known)


class PacsCancelled(PacsError):
    """The user cancelled the transfer; nothing of it was kept."""


@dataclass(frozen=True)
class RetrievedSeries:
    folder: Path  # the series' cache folder, one file per instance
    files: tuple[Path, ...]


def series_cache_folder(cache_dir: str | Path, study_uid: str, series_uid: str) -> Path:
    """Where a retrieved series lives in the cache: ``<cache>/<study>/<series>/``."""
    for uid in (study_uid, series_uid):
        if not _is_uid(uid):
            raise PacsError(f"{uid!r} is not a DICOM UID")
    return Path(cache_dir) / study_uid / series_uid


def get_series(
    node: PacsNode,
    study_uid: str,
    series_uid: str,
    cache_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RetrievedSeries:
    """C-GET every instance of a series into ``cache_dir``; an earlier copy of the same series
    is replaced only once the new one is complete. PacsError (PacsCancelled on ``cancel``)
    when the transfer does not complete; the cache is then as it was."""
    target = series_cache_folder(cache_dir, study_uid, series_uid)
    partial = target.with_name(f".{series_uid}.{uuid.uuid4().hex}.part")
    cancel = cancel or threading.Event()
    received: list[Path] = []
    expected: list[int | None] = [None]

    def on_store(event: evt.Event) -> int:
        if cancel.is_set():
            return _OUT_OF_RESOURCES
        # The PACS names the file: accept only a UID, so it cannot point outside the folder.
        instance_uid = str(event.request.AffectedSOPInstanceUID)
        if not _is_uid(instance_uid):
            instance_uid = f"instance-{len(received) + 1:05d}"
        path = partial / f"{instance_uid}.dcm"
        # The encoded dataset with its file meta: stored as sent, no decoding.
        with path.open("wb") as stream:
            stream.write(event.encoded_dataset())
        received.append(path)
        if progress is not None:
            progress(len(received), expected[0])
        return 0x0000

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study_uid
    identifier.SeriesInstanceUID = series_uid
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)]
    contexts += [build_context(sop_class, list(TRANSFER_SYNTAXES)) for sop_class in STORAGE_CLASSES]
    roles = [build_role(sop_class, scp_role=True) for sop_class in STORAGE_CLASSES]
    try:
        partial.mkdir(parents=True)
        with association(
            node, contexts, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)],
            max_pdu=0,
        ) as assoc:
            final = None
            responses = assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet)
            for status, _ in responses:
                if cancel.is_set():
                    assoc.abort()
                    raise PacsCancelled(f"retrieval from {node.describe()} cancelled")
                if status is None or "Status" not in status:
                    final = status
                    break
                if status.Status in _PENDING:
                    expected[0] = _total(status)
                    continue
                final = status
            if final is None or "Status" not in final:
                raise PacsError(
                    f"{node.describe()} dropped the association after {len(received)} "
                    "instance(s); nothing of this transfer was kept"
                )
            check_status(node, "C-GET", final, assoc)
            if not received:
                raise PacsError(f"{node.describe()} holds no instances of series {series_uid}")
        _move_into_place(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    files = tuple(sorted(target / path.name for path in received))
    return RetrievedSeries(target, files)


def _is_uid(text: str) -> bool:
    return 0 < len(text) <= 64 and all(part.isdigit() for part in text.split("."))


def _total(status: Dataset) -> int | None:
    counts = [
        status.get(keyword)
        for keyword in (
            "NumberOfRemainingSuboperations",
            "NumberOfCompletedSuboperations",
            "NumberOfFailedSuboperations",
            "NumberOfWarningSuboperations",
        )
    ]
    if counts[0] is None:
        return None
    return sum(int(count or 0) for count in counts)


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
