"""DICOMweb as a second transport for the same operations as :mod:`dsaviewer.io.pacs`:
QIDO-RS to find series, WADO-RS to retrieve one into the cache (through the same partial
folder, so a dropped or cancelled transfer leaves nothing), STOW-RS to store our results.

dicomweb-client does the HTTP; its logger and urllib3's print request URLs, which carry the
query (patient IDs, names) at debug level, so both are held at WARNING unless someone set
their level on purpose.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from dsaviewer.io.pacs import PacsError, SeriesInfo, SeriesQuery, series_info
from dsaviewer.io.pacs_cache import (
    PacsCancelled,
    ProgressCallback,
    RetrievedSeries,
    SeriesDownload,
    download_series,
)
from dsaviewer.io.pacs_send import read_for_sending

for _name in ("dicomweb_client", "urllib3.connectionpool"):
    _logger = logging.getLogger(_name)
    if _logger.level == logging.NOTSET:
        _logger.setLevel(logging.WARNING)


T = TypeVar("T")


@dataclass(frozen=True)
class WebNode:
    """A DICOMweb service root, e.g. ``http://pacs:8042/dicom-web``."""

    url: str
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise PacsError(f"{self.url!r} is not an http:// or https:// DICOMweb address")

    def describe(self) -> str:
        return self.url


def echo_web(node: WebNode) -> None:
    """Ask for one study: the service answers, or PacsError."""
    _call(node, "QIDO-RS", lambda client: client.search_for_studies(limit=1))


def find_series_web(node: WebNode, query: SeriesQuery) -> list[SeriesInfo]:
    """The series matching ``query``, like :func:`dsaviewer.io.pacs.find_series`."""
    filters: dict[str, str] = {}
    for keyword, value in (("StudyInstanceUID", query.study_uid),
                           ("PatientID", query.patient_id),
                           ("PatientName", query.patient_name),
                           ("ModalitiesInStudy", query.modality)):
        if value:
            filters[keyword] = value
    if query.date_from or query.date_to:
        start = query.date_from.strftime("%Y%m%d") if query.date_from else ""
        end = query.date_to.strftime("%Y%m%d") if query.date_to else ""
        filters["StudyDate"] = f"{start}-{end}"

    def search(client: DICOMwebClient) -> list[SeriesInfo]:
        found = []
        study_fields = ["PatientID", "PatientName", "StudyDate", "StudyDescription"]
        # No get_remaining: Orthanc ignores offset with some filters, and paging would loop.
        for study_json in client.search_for_studies(search_filters=filters, fields=study_fields):
            study = Dataset.from_json(study_json)
            series_filters = {"Modality": query.modality} if query.modality else {}
            for series_json in client.search_for_series(
                str(study.StudyInstanceUID), search_filters=series_filters,
                fields=["SeriesDescription", "SeriesNumber"],
            ):
                series = Dataset.from_json(series_json)
                instances = [Dataset.from_json(item) for item in client.search_for_instances(
                    str(study.StudyInstanceUID), str(series.SeriesInstanceUID),
                    fields=["NumberOfFrames"])]
                found.append(series_info(study, series, instances))
        return found

    return _call(node, "QIDO-RS", search)


def get_series_web(
    node: WebNode,
    study_uid: str,
    series_uid: str,
    cache_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> RetrievedSeries:
    """WADO-RS every instance of a series into the cache, like
    :func:`dsaviewer.io.pacs_get.get_series`."""

    def retrieve(download: SeriesDownload, client: DICOMwebClient) -> None:
        for dataset in client.iter_series(study_uid, series_uid):
            if download.cancel.is_set():
                raise PacsCancelled(f"retrieval from {node.describe()} cancelled")
            download.store(str(dataset.get("SOPInstanceUID", "")),
                           partial(dataset.save_as, enforce_file_format=True))

    return download_series(
        node.describe(), cache_dir, study_uid, series_uid,
        lambda download: _call(node, "WADO-RS", partial(retrieve, download)), progress, cancel,
    )


def send_files_web(node: WebNode, paths: Sequence[str | Path]) -> list[str]:
    """STOW-RS the files (one request per study); return their SOP instance UIDs."""
    datasets = [read_for_sending(Path(path)) for path in paths]
    by_study: dict[str, list[Dataset]] = {}
    for dataset in datasets:
        by_study.setdefault(str(dataset.StudyInstanceUID), []).append(dataset)
    for study_uid, group in by_study.items():
        answer = _call(node, "STOW-RS",
                       lambda client, g=group, s=study_uid: client.store_instances(g, s))
        failed = answer.get("FailedSOPSequence") if answer is not None else None
        if failed:
            reasons = sorted({f"0x{int(item.get('FailureReason', 0)):04X}" for item in failed})
            raise PacsError(f"{node.describe()} refused {len(failed)} of {len(group)} "
                            f"instance(s) (failure reason {', '.join(reasons)})")
    return [str(dataset.SOPInstanceUID) for dataset in datasets]


def _call(node: WebNode, operation: str, request: Callable[[DICOMwebClient], T]) -> T:
    """Run ``request(client)`` and turn HTTP trouble into PacsError naming the node."""
    client = DICOMwebClient(node.url, timeout=node.timeout_s)
    try:
        return request(client)
    except requests.exceptions.ConnectionError as error:
        raise PacsError(f"cannot reach {node.describe()}: no DICOMweb service answered "
                        "(is the server running and the address right?)") from error
    except requests.exceptions.Timeout as error:
        raise PacsError(f"{node.describe()} did not answer {operation} in time") from error
    except requests.exceptions.HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise PacsError(f"{node.describe()} answered {operation} with HTTP {status}") from error
    except requests.exceptions.RequestException as error:
        raise PacsError(f"{operation} to {node.describe()} failed: {error}") from error
