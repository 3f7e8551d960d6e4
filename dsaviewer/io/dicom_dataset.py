"""Reading a DICOM file's elements up to its pixel data, safely: reads are clamped to what
the file holds, parsing stops at the end of the image, and files without the Part 10 preamble
are accepted when they hold an image."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dsaviewer.errors import InputError

_PIXEL_DATA_TAG = 0x7FE00010


def read_dataset(path: Path) -> Dataset:
    """The file's elements up to and with PixelData; InputError when it is not DICOM or is
    damaged, OSError when it cannot be read."""
    try:
        with _ClampedFile(path) as stream:
            dataset = read_partial(stream, stop_when=_end_of_image())
    except InvalidDicomError as error:
        dataset = _read_without_preamble(path)
        if dataset is None:
            raise InputError(
                "not a DICOM file: no DICM header, and no image elements could be read", path
            ) from error
    except OSError:
        raise
    except Exception as error:  # pydicom raises many types on truncated or damaged files
        raise InputError(
            "cannot be read as DICOM: the file is damaged or truncated", path
        ) from error
    _name_transfer_syntax(dataset)
    return dataset


def _end_of_image() -> Callable[[int, str | None, int], bool]:
    """A pydicom ``stop_when`` for the top-level elements: stop after PixelData (nothing later
    is needed, and a megabyte of trailing padding would be parsed as a hundred thousand empty
    elements) and at the first tag that does not ascend (the standard requires ascending tags;
    what follows is garbage)."""
    last = -1

    def stop(tag: int, vr: str | None, length: int) -> bool:
        nonlocal last
        if tag > _PIXEL_DATA_TAG or tag <= last:
            return True
        last = int(tag)
        return False

    return stop


class _ClampedFile(io.BufferedReader):
    """A file whose reads never ask for more than is left in it. pydicom reads an element by
    its declared length, and Python allocates a read's full size up front: a damaged length
    of 4 GiB would allocate 4 GiB to read a few bytes."""

    def __init__(self, path: Path) -> None:
        super().__init__(io.FileIO(path, "rb"))
        self._size = os.fstat(self.fileno()).st_size

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > 0:
            size = min(size, max(self._size - self.tell(), 0))
        return super().read(size)


def _read_without_preamble(path: Path) -> Dataset | None:
    """Old exports lack the Part 10 preamble and file meta; accept them when what pydicom
    finds by force looks like an image rather than parsed noise."""
    try:
        with _ClampedFile(path) as stream:
            dataset = read_partial(stream, stop_when=_end_of_image(), force=True)
    except Exception:  # noise makes the forced parser fail in any way
        return None
    if "Rows" in dataset and "Columns" in dataset and "PixelData" in dataset:
        return dataset
    return None


def _name_transfer_syntax(dataset: Dataset) -> None:
    """Files without file meta still say how they were encoded; pydicom needs it named to
    decode pixels. Changes the dataset in memory only."""
    file_meta = getattr(dataset, "file_meta", None)
    if file_meta is None:
        file_meta = dataset.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" in file_meta:
        return
    implicit_vr, little_endian = dataset.original_encoding
    if little_endian is False:
        file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    elif implicit_vr:
        file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
