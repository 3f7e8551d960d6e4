"""C-STORE of DICOM files (our SEG, SR and secondary captures, or any others) to a PACS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import build_context

from dsaviewer.errors import InputError
from dsaviewer.io.pacs import PacsError, PacsNode, association, check_status


def send_files(
    node: PacsNode,
    paths: Sequence[str | Path],
    progress: Callable[[int, int], None] | None = None,
) -> list[str]:
    """Store each file on ``node`` in one association; return their SOP instance UIDs.

    InputError for a file that is not DICOM (before anything is sent); PacsError when the
    node refuses a file, naming it and how many were stored before it.
    """
    datasets = [read_for_sending(Path(path)) for path in paths]
    if not datasets:
        raise InputError("no files to send")
    contexts = {}
    for dataset in datasets:
        key = (str(dataset.SOPClassUID), str(dataset.file_meta.TransferSyntaxUID))
        contexts.setdefault(key, build_context(*key))
    if len(contexts) > 128:
        raise InputError(f"{len(contexts)} kinds of object in one send; at most 128 fit")
    sent = []
    with association(node, list(contexts.values()), max_pdu=0) as assoc:
        for number, (path, dataset) in enumerate(zip(paths, datasets, strict=True), start=1):
            status = assoc.send_c_store(dataset)
            try:
                check_status(node, "C-STORE", status, assoc)
            except PacsError as error:
                raise PacsError(
                    f"{Path(path).name}: {error} ({len(sent)} of {len(datasets)} file(s) "
                    "were stored before it)"
                ) from error
            sent.append(str(dataset.SOPInstanceUID))
            if progress is not None:
                progress(number, len(datasets))
    return sent


def read_for_sending(path: Path) -> Dataset:
    """A DICOM file with what a store needs (SOP class and instance, transfer syntax), else
    InputError naming the file."""
    try:
        dataset = pydicom.dcmread(path)
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", path) from error
    except Exception as error:  # pydicom raises many types on non-DICOM input
        raise InputError(f"is not a DICOM file ({error})", path) from error
    if "SOPClassUID" not in dataset or "SOPInstanceUID" not in dataset:
        raise InputError("is not a DICOM object: it has no SOP class or instance UID", path)
    if "TransferSyntaxUID" not in getattr(dataset, "file_meta", Dataset()):
        raise InputError("has no file meta (transfer syntax); save it as a DICOM file", path)
    return dataset
