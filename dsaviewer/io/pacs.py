"""Talking to a PACS node over DICOM (pynetdicom): the node, the errors a user sees, opening
an association with a clear reason when it cannot be opened, C-ECHO and C-FIND.

C-FIND looks for studies (patient id or name, date range, modality) and then for their series;
the frames of each series are counted from an image-level query, since XA runs are usually one
multi-frame instance. Retrieval is in :mod:`dsaviewer.io.pacs_get`, sending in
:mod:`dsaviewer.io.pacs_send`. Nothing identifying is logged: pynetdicom's own logger prints
queries and datasets (patient names and IDs) at debug and info level, so it is held at
WARNING unless someone set its level on purpose.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from dsaviewer.errors import DSAViewerError

_PYNETDICOM_LOG = logging.getLogger("pynetdicom")
if _PYNETDICOM_LOG.level == logging.NOTSET:
    _PYNETDICOM_LOG.setLevel(logging.WARNING)

DEFAULT_CALLING_AET = "DSAVIEWER"
MODALITIES = ("XA", "RF")
# A node that refuses an association sends its reason (A-ASSOCIATE-RJ) and closes the
# connection; pynetdicom sometimes reads the close first and reports an abort without the
# reason (10 of 200 tries against Orthanc on loopback). Asking again shows the reason.
SETUP_ATTEMPTS = 4


class PacsError(DSAViewerError):
    """A PACS transfer failed: the node cannot be reached, refused the association, dropped
    it, or answered with a failure status. The message says which."""


@dataclass(frozen=True)
class PacsNode:
    """A remote DICOM node and how we call it."""

    host: str
    port: int
    called_aet: str
    calling_aet: str = DEFAULT_CALLING_AET
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < int(self.port) < 65536:
            raise PacsError(f"port {self.port} is not between 1 and 65535")
        for name, title in (("called", self.called_aet), ("calling", self.calling_aet)):
            if not title or len(title) > 16 or "\\" in title:
                raise PacsError(f"the {name} AE title {title!r} must be 1-16 characters")

    def describe(self) -> str:
        return f"{self.called_aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class SeriesQuery:
    """What to look for; empty fields match everything. Names may use DICOM wildcards (*)."""

    patient_id: str = ""
    patient_name: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    modality: str = ""
    study_uid: str = ""


@dataclass(frozen=True)
class SeriesInfo:
    study_uid: str
    series_uid: str
    modality: str
    number_of_frames: int  # over all instances of the series
    number_of_instances: int
    patient_id: str
    patient_name: str
    study_date: str
    study_description: str
    series_description: str
    series_number: str

    def as_dict(self) -> dict[str, object]:
        return {
            "StudyInstanceUID": self.study_uid,
            "SeriesInstanceUID": self.series_uid,
            "Modality": self.modality,
            "NumberOfFrames": self.number_of_frames,
            "NumberOfInstances": self.number_of_instances,
            "PatientID": self.patient_id,
            "PatientName": self.patient_name,
            "StudyDate": self.study_date,
            "StudyDescription": self.study_description,
            "SeriesDescription": self.series_description,
            "SeriesNumber": self.series_number,
        }


@contextlib.contextmanager
def association(
    node: PacsNode,
    contexts: Sequence[PresentationContext] | None = None,
    abstract_syntaxes: Sequence[str] = (),
    **associate_options: object,
) -> Iterator[Association]:
    """An established association with ``node``, released (or aborted) on exit; PacsError
    naming the reason when it cannot be established."""
    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = node.timeout_s
    ae.connection_timeout = node.timeout_s
    if contexts is not None:
        ae.requested_contexts = list(contexts)
    for syntax in abstract_syntaxes:
        ae.add_requested_context(syntax)
    attempt = _associate(ae, node, associate_options)
    assoc = attempt.assoc
    if not assoc.is_established:
        raise PacsError(_refusal(node, attempt))
    try:
        yield assoc
    except BaseException:
        if assoc.is_established:
            assoc.abort()
        raise
    else:
        if assoc.is_established:
            assoc.release()
    finally:
        ae.shutdown()


@dataclass(frozen=True)
class _Attempt:
    assoc: Association
    connected: bool  # a TCP connection was opened
    seconds: float


def _associate(ae: AE, node: PacsNode, associate_options: dict[str, object]) -> _Attempt:
    """The association ``ae`` gets from ``node``, asked again while the node closed the
    connection at once without an answer of its being read."""
    for _ in range(SETUP_ATTEMPTS):
        attempt = _attempt(ae, node, associate_options)
        assoc = attempt.assoc
        answered = assoc.is_established or assoc.acceptor.primitive is not None
        if answered or not attempt.connected or not _closed_at_once(node, attempt):
            break
    return attempt


def _attempt(ae: AE, node: PacsNode, associate_options: dict[str, object]) -> _Attempt:
    connected = threading.Event()
    handlers = [*associate_options.get("evt_handlers", ()),  # type: ignore[misc]
                (evt.EVT_CONN_OPEN, lambda event: connected.set())]
    started = time.monotonic()
    assoc = ae.associate(node.host, node.port, ae_title=node.called_aet,
                         **{**associate_options, "evt_handlers": handlers})
    return _Attempt(assoc, connected.is_set(), time.monotonic() - started)


def _closed_at_once(node: PacsNode, attempt: _Attempt) -> bool:
    # A service that never answers holds the connection for the whole ACSE timeout.
    return attempt.seconds < 0.5 * node.timeout_s


def echo(node: PacsNode) -> None:
    """C-ECHO: returns when the node answers with Success, else PacsError."""
    with association(node, abstract_syntaxes=[Verification]) as assoc:
        status = assoc.send_c_echo()
        check_status(node, "C-ECHO", status, assoc)


def find_series(node: PacsNode, query: SeriesQuery) -> list[SeriesInfo]:
    """The series matching ``query``: C-FIND at study level, then at series level within each
    study, then at image level to count frames."""
    with association(node, abstract_syntaxes=[StudyRootQueryRetrieveInformationModelFind]) as assoc:
        studies = _find(node, assoc, _study_identifier(query))
        found = []
        for study in studies:
            series_query = Dataset()
            series_query.QueryRetrieveLevel = "SERIES"
            series_query.StudyInstanceUID = study.StudyInstanceUID
            series_query.SeriesInstanceUID = ""
            series_query.Modality = query.modality
            series_query.SeriesDescription = ""
            series_query.SeriesNumber = ""
            for series in _find(node, assoc, series_query):
                found.append(series_info(study, series, _instances(node, assoc, study, series)))
    return found


def study_of_series(node: PacsNode, series_uid: str) -> str:
    """The StudyInstanceUID of a series, asked from the node (a series-level C-FIND that
    leaves the study open, which most PACS answer)."""
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES"
    identifier.StudyInstanceUID = ""
    identifier.SeriesInstanceUID = series_uid
    with association(node, abstract_syntaxes=[StudyRootQueryRetrieveInformationModelFind]) as assoc:
        found = _find(node, assoc, identifier)
    studies = {str(match.get("StudyInstanceUID", "")) for match in found} - {""}
    if len(studies) != 1:
        raise PacsError(
            f"{node.describe()} holds no series {series_uid}"
            if not studies
            else f"series {series_uid} is listed in {len(studies)} studies; name the study"
        )
    return studies.pop()


def series_info(study: Dataset, series: Dataset, instances: list[Dataset]) -> SeriesInfo:
    """One found series from the study, series and instance answers of a query (C-FIND or
    QIDO-RS); frames are summed over the instances (a single-frame instance counts one)."""
    frames = 0
    for instance in instances:
        value = instance.get("NumberOfFrames")
        try:
            frames += max(1, int(value)) if value not in (None, "") else 1
        except (TypeError, ValueError):
            frames += 1
    return SeriesInfo(
        study_uid=str(study.StudyInstanceUID),
        series_uid=str(series.SeriesInstanceUID),
        modality=str(series.get("Modality", "")),
        number_of_frames=frames,
        number_of_instances=len(instances),
        patient_id=str(study.get("PatientID", "")),
        patient_name=str(study.get("PatientName", "")),
        study_date=str(study.get("StudyDate", "")),
        study_description=str(study.get("StudyDescription", "")),
        series_description=str(series.get("SeriesDescription", "")),
        series_number=str(series.get("SeriesNumber", "")),
    )


def check_status(
    node: PacsNode, operation: str, status: Dataset | None, assoc: Association
) -> None:
    """PacsError unless ``status`` is Success (0x0000)."""
    if status is None or "Status" not in status:
        raise PacsError(_no_answer(node, operation, assoc))
    if status.Status != 0x0000:
        comment = status.get("ErrorComment", "")
        raise PacsError(
            f"{node.describe()} answered {operation} with failure status 0x{status.Status:04X}"
            + (f" ({comment})" if comment else "")
        )


def _find(node: PacsNode, assoc: Association, identifier: Dataset) -> list[Dataset]:
    results = []
    for status, found in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
        if status is None or "Status" not in status:
            raise PacsError(_no_answer(node, "C-FIND", assoc))
        if status.Status in (0xFF00, 0xFF01):  # pending: one match
            if found is not None:
                results.append(found)
        elif status.Status != 0x0000:
            check_status(node, "C-FIND", status, assoc)
    return results


def _study_identifier(query: SeriesQuery) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = query.study_uid
    identifier.PatientID = query.patient_id
    identifier.PatientName = query.patient_name
    identifier.StudyDate = _date_range(query.date_from, query.date_to)
    identifier.StudyDescription = ""
    identifier.ModalitiesInStudy = query.modality
    return identifier


def _instances(
    node: PacsNode, assoc: Association, study: Dataset, series: Dataset
) -> list[Dataset]:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "IMAGE"
    identifier.StudyInstanceUID = study.StudyInstanceUID
    identifier.SeriesInstanceUID = series.SeriesInstanceUID
    identifier.SOPInstanceUID = ""
    identifier.NumberOfFrames = ""
    return _find(node, assoc, identifier)


def _date_range(start: datetime.date | None, end: datetime.date | None) -> str:
    if start is None and end is None:
        return ""
    text = "" if start is None else start.strftime("%Y%m%d")
    return text + "-" + ("" if end is None else end.strftime("%Y%m%d"))


def _refusal(node: PacsNode, attempt: _Attempt) -> str:
    answer = attempt.assoc.acceptor.primitive
    if not attempt.connected:
        return (
            f"cannot reach {node.describe()}: no DICOM service answered at "
            f"{node.host}:{node.port} (is the node running, and are host and port right?)"
        )
    if answer is not None and attempt.assoc.is_rejected:
        return (
            f"{node.describe()} refused the association ({answer.reason_str}; "
            f"we called as {node.calling_aet}): check both AE titles and that the node knows us"
        )
    if answer is None and not _closed_at_once(node, attempt):
        return (
            f"{node.host}:{node.port} took the connection but gave no DICOM answer in "
            f"{node.timeout_s:g} s: is it the node's DICOM port?"
        )
    return (
        f"{node.describe()} closed the association while it was being set up, without a "
        f"reason (we called as {node.calling_aet}): check both AE titles and that the node "
        "knows us"
    )


def _no_answer(node: PacsNode, operation: str, assoc: Association) -> str:
    if assoc.is_aborted:
        return f"{node.describe()} dropped the association during {operation}"
    return f"{node.describe()} did not answer {operation} in time"
