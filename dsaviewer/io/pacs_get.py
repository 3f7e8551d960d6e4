"""Retrieving a series from a PACS with C-GET into a local cache, with progress and cancel.

The instances arrive over our own association (C-GET, so no port has to be opened for the
PACS to call back) and go into the cache through its partial folder (:mod:`pacs_cache`),
renamed into place only when the PACS reports success: when the association drops, the
transfer fails or the user cancels, the cache holds either the complete series or nothing of
this transfer.
"""

from __future__ import annotations

import threading
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
from dsaviewer.io.pacs_cache import (
    PacsCancelled,
    ProgressCallback,
    RetrievedSeries,
    SeriesDownload,
    download_series,
)

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
    return download_series(
        node.describe(), cache_dir, study_uid, series_uid,
        lambda download: _c_get(node, study_uid, series_uid, download), progress, cancel,
    )


def _c_get(node: PacsNode, study_uid: str, series_uid: str, download: SeriesDownload) -> None:
    """The instances arrive as C-STOREs on our own association while the C-GET runs."""

    def on_store(event: evt.Event) -> int:
        if download.cancel.is_set():
            return _OUT_OF_RESOURCES
        # The encoded dataset with its file meta: stored as sent, no decoding.
        download.store(str(event.request.AffectedSOPInstanceUID),
                       lambda path: path.write_bytes(event.encoded_dataset()))
        return 0x0000

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = study_uid
    identifier.SeriesInstanceUID = series_uid
    contexts = [build_context(StudyRootQueryRetrieveInformationModelGet)]
    contexts += [build_context(sop_class, list(TRANSFER_SYNTAXES)) for sop_class in STORAGE_CLASSES]
    roles = [build_role(sop_class, scp_role=True) for sop_class in STORAGE_CLASSES]
    with association(
        node, contexts, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)], max_pdu=0,
    ) as assoc:
        final = None
        responses = assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet)
        for status, _ in responses:
            if download.cancel.is_set():
                assoc.abort()
                raise PacsCancelled(f"retrieval from {node.describe()} cancelled")
            if status is None or "Status" not in status:
                final = status
                break
            if status.Status in _PENDING:
                download.expected = _total(status)
                continue
            final = status
        if final is None or "Status" not in final:
            raise PacsError(
                f"{node.describe()} dropped the association after {len(download.received)} "
                "instance(s); nothing of this transfer was kept"
            )
        check_status(node, "C-GET", final, assoc)


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
