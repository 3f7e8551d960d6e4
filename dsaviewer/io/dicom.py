"""DICOM video sources: one multi-frame file (XA, RF, or any multi-frame image) or a folder of
single-frame files of one series.

Pixels come out in display polarity (MONOCHROME1 inverted) as uint8 or uint16 with the stored
bit depth; frame rate and imager pixel spacing come from whichever tag variant the file uses.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.multival import MultiValue
from pydicom.pixels import get_decoder
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dsaviewer.errors import InputError
from dsaviewer.io.calibration import Calibration, dicom_calibration
from dsaviewer.io.frame_folder import natural_sort_key
from dsaviewer.io.limits import check_run_size
from dsaviewer.io.video import Video

DICOM_SUFFIXES = (".dcm", ".dicom")
_PIXEL_DATA_TAG = 0x7FE00010

# Display strings copied into Video.metadata when the file has them.
METADATA_KEYWORDS = (
    "PatientName",
    "PatientID",
    "StudyDate",
    "StudyDescription",
    "SeriesDescription",
    "Modality",
    "Manufacturer",
    "ManufacturerModelName",
    "InstitutionName",
    # What the run shows and how it was stored: the scope decision reads these.
    "BodyPartExamined",
    "ProtocolName",
    "PerformedProcedureStepDescription",
    "ImageType",
    "RecommendedViewingMode",
)

# Video.metadata key of the mask frames a native run asks to be subtracted with (1-based).
MASK_FRAMES_KEY = "MaskFrameNumbers"

# A folder of single-frame files must agree on these to make one video.
_SERIES_CONSISTENT_KEYWORDS = (
    "Rows",
    "Columns",
    "BitsAllocated",
    "PhotometricInterpretation",
    "SamplesPerPixel",
)


def is_dicom_file(path: Path) -> bool:
    """True for a DICOM suffix or a Part 10 file (``DICM`` after the 128-byte preamble)."""
    if not path.is_file() or path.name.upper() == "DICOMDIR":
        return False
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with path.open("rb") as stream:
            return stream.read(132)[128:] == b"DICM"
    except OSError:
        return False


def read_dicom_file(path: Path) -> Video:
    """Load a DICOM file: multi-frame gives a video, single-frame a one-frame video."""
    dataset = _read_dataset(path)
    frames, bits_stored = _display_frames(dataset, _decoded_pixels(dataset, path), path)
    return Video(
        frames=frames,
        fps=frame_rate(dataset),
        pixel_spacing_mm=pixel_spacing(dataset),
        calibration=calibration(dataset),
        source=path,
        source_format="dicom",
        bits_stored=bits_stored,
        metadata=display_metadata(dataset),
        frame_times_s=frame_times(dataset, frames.shape[0]),
    )


def read_dicom_series(folder: Path, files: list[Path] | None = None) -> Video:
    """Load a folder of single-frame DICOM files of one series, ordered by InstanceNumber
    (file name order where that is missing). ``files`` defaults to the folder's DICOM files."""
    files = files if files is not None else dicom_files_in(folder)
    if not files:
        raise InputError("the folder holds no DICOM files", folder)
    datasets = [(_read_dataset(path), path) for path in files]
    datasets.sort(key=lambda item: _instance_order(item[0], item[1]))

    first, first_path = datasets[0]
    series_uids = {str(dataset.get("SeriesInstanceUID", "")) for dataset, _ in datasets}
    if len(series_uids) > 1:
        raise InputError(
            f"the folder mixes {len(series_uids)} DICOM series (SeriesInstanceUID differs); "
            "put each series in its own folder",
            folder,
        )
    for dataset, path in datasets[1:]:
        for keyword in _SERIES_CONSISTENT_KEYWORDS:
            if dataset.get(keyword) != first.get(keyword):
                raise InputError(
                    f"{keyword} is {dataset.get(keyword)} but {first.get(keyword)} in "
                    f"{first_path.name}; all files of a series must match",
                    path,
                )

    frames: np.ndarray | None = None
    bits_stored = 0
    for index, (dataset, path) in enumerate(datasets):
        count = _frame_count_of(dataset, path)
        if count != 1:
            raise InputError(
                f"holds {count} frames; a folder of DICOM files must hold one "
                "frame per file (open a multi-frame file on its own)",
                path,
            )
        frame, bits = _display_frames(dataset, _decoded_pixels(dataset, path), path)
        if frames is None:
            check_run_size(len(datasets), *frame.shape[1:], frame.dtype.itemsize, folder)
            frames = np.empty((len(datasets), *frame.shape[1:]), dtype=frame.dtype)
        if frame.dtype != frames.dtype:
            raise InputError(
                f"its pixels are {frame.dtype} but {frames.dtype} in {first_path.name}", path
            )
        frames[index] = frame[0]
        bits_stored = max(bits_stored, bits)

    assert frames is not None  # datasets is not empty
    return Video(
        frames=frames,
        fps=frame_rate(first),
        pixel_spacing_mm=pixel_spacing(first),
        calibration=calibration(first),
        source=folder,
        source_format="dicom-series",
        bits_stored=bits_stored,
        metadata=display_metadata(first),
    )


def dicom_files_in(folder: Path) -> list[Path]:
    """The DICOM files directly inside ``folder`` (hidden files and DICOMDIR skipped)."""
    files = [
        path for path in folder.iterdir() if not path.name.startswith(".") and is_dicom_file(path)
    ]
    return sorted(files, key=natural_sort_key)


def frame_rate(dataset: Dataset) -> float | None:
    """Frames per second from FrameTime, FrameTimeVector, CineRate or
    RecommendedDisplayFrameRate, the first that holds a usable value."""
    frame_time_ms = _positive_number(dataset.get("FrameTime"))
    if frame_time_ms is not None:
        return 1000.0 / frame_time_ms
    # FrameTimeVector: ms since the previous frame, 0 for the first frame.
    intervals = [
        value
        for value in (_positive_number(item) for item in _values(dataset.get("FrameTimeVector")))
        if value is not None
    ]
    if intervals:
        return 1000.0 / float(np.mean(intervals))
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = _positive_number(dataset.get(keyword))
        if rate is not None:
            return rate
    return None


def frame_times(dataset: Dataset, count: int) -> np.ndarray | None:
    """Each frame's time in s from the first: the running sum of FrameTimeVector (ms since the
    previous frame, the first entry 0) when it has one usable entry per frame, else
    ``count`` frames FrameTime ms apart; None when neither tag is usable. Irregular runs
    (fast arterial phase, slower late phase) keep their real timing this way."""
    vector = [_number(item) for item in _values(dataset.get("FrameTimeVector"))]
    if len(vector) == count and all(value is not None and value >= 0 for value in vector):
        intervals = np.array(vector, dtype=np.float64)
        intervals[0] = 0.0  # the first entry is 0 by definition; some writers repeat the step
        if count == 1 or np.all(intervals[1:] > 0):
            return np.cumsum(intervals) / 1000.0
    frame_time_ms = _positive_number(dataset.get("FrameTime"))
    if frame_time_ms is not None:
        return np.arange(count, dtype=np.float64) * (frame_time_ms / 1000.0)
    return None


def pixel_spacing(dataset: Dataset) -> tuple[float, float] | None:
    """(row, column) mm per pixel in the patient as far as the file tells
    (:func:`calibration`); None without any spacing."""
    found = calibration(dataset)
    return None if found is None else found.mm_per_px


def calibration(dataset: Dataset) -> Calibration | None:
    """The file's calibration (:func:`dsaviewer.io.calibration.dicom_calibration`): Imager
    Pixel Spacing divided by the magnification, else Pixel Spacing. Each is looked up at the
    top level and then in the shared and first per-frame functional groups of enhanced
    objects."""
    return dicom_calibration(
        _spacing(dataset, "ImagerPixelSpacing"),
        _spacing(dataset, "PixelSpacing"),
        _positive_number(dataset.get("EstimatedRadiographicMagnificationFactor")),
        _positive_number(dataset.get("DistanceSourceToDetector")),
        _positive_number(dataset.get("DistanceSourceToPatient")),
    )


def _spacing(dataset: Dataset, keyword: str) -> tuple[float, float] | None:
    for holder in (dataset, *_functional_group_items(dataset)):
        values = [_positive_number(item) for item in _values(holder.get(keyword))]
        if len(values) == 2 and None not in values:
            return values[0], values[1]
    return None


def display_metadata(dataset: Dataset) -> dict[str, str]:
    """The non-empty display strings of :data:`METADATA_KEYWORDS`."""
    metadata = {}
    for keyword in METADATA_KEYWORDS:
        value = dataset.get(keyword)
        if isinstance(value, MultiValue):  # e.g. ImageType: DICOM's own backslash form
            value = "\\".join(str(item) for item in value)
        text = "" if value is None else str(value).strip()
        if text:
            metadata[keyword] = text
    masks = _mask_frame_numbers(dataset)
    if masks:
        metadata[MASK_FRAMES_KEY] = masks
    return metadata


def _mask_frame_numbers(dataset: Dataset) -> str:
    """The 1-based mask frames of an averaged-mask subtraction (Mask Subtraction Sequence,
    AVG_SUB) as DICOM's backslash text; empty when the file gives none."""
    for item in dataset.get("MaskSubtractionSequence") or ():
        if str(item.get("MaskOperation", "")).strip().upper() != "AVG_SUB":
            continue
        numbers = [_number(value) for value in _values(item.get("MaskFrameNumbers"))]
        if numbers and None not in numbers:
            return "\\".join(str(int(number)) for number in numbers)
    return ""


def _read_dataset(path: Path) -> Dataset:
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


def _decoded_pixels(dataset: Dataset, path: Path) -> np.ndarray:
    """The stored pixels as pydicom decodes them, (frames, rows, columns[, samples]), after
    checking that what the file declares is plausible and matches the pixel data: a file whose
    NumberOfFrames x Rows x Columns x samples disagrees with its pixel data is refused, never
    reinterpreted."""
    if not any(
        keyword in dataset for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
    ):
        sop_class = _single_uid(dataset, "SOPClassUID", path)
        kind = f" (SOP class {_syntax_text(sop_class)})" if sop_class is not None else ""
        raise InputError(f"has no pixel data{kind}; it is not an image", path)
    if "PixelData" not in dataset:
        raise InputError("holds floating-point pixel data, which is not a video", path)

    file_meta = getattr(dataset, "file_meta", None)
    syntax = _single_uid(file_meta, "TransferSyntaxUID", path) if file_meta is not None else None
    if syntax is not None:
        try:
            decoder = get_decoder(syntax)
        except NotImplementedError as error:
            raise InputError(
                f"pixel data in transfer syntax {_syntax_text(syntax)} cannot be decoded: "
                "no DICOM codec exists for it",
                path,
            ) from error
        if not decoder.is_available:
            options = "; or ".join(decoder.missing_dependencies)
            raise InputError(
                f"pixel data is compressed as {_syntax_text(syntax)} and no installed codec "
                f"decodes it; install one of: {options}",
                path,
            )
    expected_shape = _declared_shape(dataset, path)
    if syntax is None or not syntax.is_encapsulated:
        _check_native_length(dataset, expected_shape, path)
    try:
        pixels = dataset.pixel_array
    except Exception as error:  # codecs raise assorted types on damaged data
        name = _syntax_text(syntax) if syntax is not None else "unknown transfer syntax"
        raise InputError(
            f"pixel data ({name}) cannot be decoded; the file may be damaged or truncated: "
            f"{type(error).__name__}",
            path,
        ) from error

    # pydicom drops the frame axis of single-frame images; put it back.
    if expected_shape[0] == 1 and pixels.ndim == len(expected_shape) - 1:
        pixels = pixels[np.newaxis]
    if pixels.shape != expected_shape:
        raise InputError(
            f"its pixel data decodes to shape {pixels.shape}, not the {expected_shape} that "
            "NumberOfFrames, Rows, Columns and SamplesPerPixel declare",
            path,
        )
    return pixels


def _declared_shape(dataset: Dataset, path: Path) -> tuple[int, ...]:
    """(frames, rows, columns[, samples]) as the file declares them, checked against the
    run size limit before anything is decoded."""
    rows, columns = _count(dataset, "Rows", path), _count(dataset, "Columns", path)
    samples = _count(dataset, "SamplesPerPixel", path, default=1)
    if samples not in (1, 3):
        raise InputError(f"has {samples} samples per pixel; expected 1 or 3", path)
    bits_allocated = _count(dataset, "BitsAllocated", path)
    if bits_allocated not in (8, 16):
        raise InputError(f"BitsAllocated is {bits_allocated}; only 8 or 16 is supported", path)
    frames = _frame_count_of(dataset, path)
    check_run_size(frames, rows, columns, samples * bits_allocated // 8, path)
    return (frames, rows, columns) if samples == 1 else (frames, rows, columns, samples)


def _check_native_length(dataset: Dataset, shape: tuple[int, ...], path: Path) -> None:
    """Uncompressed pixel data holds exactly the declared frames (plus one pad byte when odd)."""
    expected = int(np.prod(shape)) * (int(dataset.BitsAllocated) // 8)
    actual = len(dataset.PixelData)
    if actual not in (expected, expected + (expected & 1)):
        frames, rows, columns = shape[:3]
        raise InputError(
            f"its pixel data is {actual} bytes, but {frames} frame(s) of {columns}×{rows} "
            f"pixels as declared take {expected}; the file is damaged or its header wrong",
            path,
        )


def _count(dataset: Dataset, keyword: str, path: Path, default: int | None = None) -> int:
    """A positive whole number from an element the pixel layout depends on."""
    value = dataset.get(keyword)
    if value is None or value == "":
        if default is not None:
            return default
        raise InputError(f"{keyword} is missing; it is needed to read the pixels", path)
    number = _number(value)
    if number is None or not number.is_integer() or number < 1:
        raise InputError(f"{keyword} {_short(value)} is not a positive whole number", path)
    return int(number)


def _frame_count_of(dataset: Dataset, path: Path) -> int:
    return _count(dataset, "NumberOfFrames", path, default=1)


def _single_uid(holder: Dataset, keyword: str, path: Path) -> UID | None:
    """A UID element as one UID; None when absent; InputError when empty or multi-valued."""
    if keyword not in holder:
        return None
    value = holder[keyword].value
    if isinstance(value, str) and value.strip():
        return UID(value.strip())
    problem = "is empty" if not value else f"holds {len(_values(value))} values"
    raise InputError(f"its {keyword} {problem}; a file has exactly one", path)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _display_frames(dataset: Dataset, pixels: np.ndarray, path: Path) -> tuple[np.ndarray, int]:
    """Stored pixels -> (T, H, W) unsigned frames in MONOCHROME2 polarity, and bits stored."""
    bits_allocated = int(dataset.get("BitsAllocated", 0))
    if bits_allocated not in (8, 16):
        raise InputError(f"BitsAllocated is {bits_allocated}; only 8 or 16 is supported", path)
    bits_stored = int(dataset.get("BitsStored") or bits_allocated)
    bits_stored = min(max(bits_stored, 1), bits_allocated)
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    output_type = np.uint8 if bits_allocated == 8 else np.uint16

    if pixels.ndim == 4:
        # Colour: pydicom has already converted YBR to RGB; angiography is grey, so fold it.
        if pixels.shape[-1] != 3:
            raise InputError(f"has {pixels.shape[-1]} samples per pixel; expected 1 or 3", path)
        frames = np.empty(pixels.shape[:3], dtype=output_type)
        for index in range(pixels.shape[0]):
            cv2.cvtColor(np.ascontiguousarray(pixels[index]), cv2.COLOR_RGB2GRAY, frames[index])
        return frames, bits_stored
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise InputError(
            f"PhotometricInterpretation {photometric} is not supported "
            "(expected MONOCHROME1, MONOCHROME2 or RGB)",
            path,
        )

    if pixels.dtype.kind == "i":
        # Signed storage: shift to unsigned so the full range keeps its order.
        frames = (pixels.astype(np.int32) + (1 << (bits_stored - 1))).astype(output_type)
    else:
        frames = np.ascontiguousarray(pixels, dtype=output_type)
        if bits_stored < bits_allocated:
            # Bits above BitsStored may hold overlays or junk in old files.
            np.bitwise_and(frames, (1 << bits_stored) - 1, out=frames)
    frames, bits_stored = _rescaled(dataset, frames, bits_stored)

    if photometric == "MONOCHROME1":
        np.subtract((1 << bits_stored) - 1, frames, out=frames)
    return np.ascontiguousarray(frames), bits_stored


def _rescaled(dataset: Dataset, frames: np.ndarray, bits_stored: int) -> tuple[np.ndarray, int]:
    """Apply RescaleSlope/Intercept when both are integers and the result stays a non-negative
    16-bit integer; otherwise the stored values are the better display values."""
    slope = _number(dataset.get("RescaleSlope"))
    intercept = _number(dataset.get("RescaleIntercept"))
    slope = 1.0 if slope is None else slope
    intercept = 0.0 if intercept is None else intercept
    if (slope, intercept) == (1.0, 0.0):
        return frames, bits_stored
    top = ((1 << bits_stored) - 1) * slope + intercept
    if not (slope.is_integer() and intercept.is_integer() and slope > 0 and intercept >= 0):
        return frames, bits_stored
    if top > np.iinfo(np.uint16).max:
        return frames, bits_stored
    rescaled = (frames.astype(np.uint32) * int(slope) + int(intercept)).astype(np.uint16)
    return rescaled, int(top).bit_length()


def _syntax_text(syntax: UID) -> str:
    return syntax.name if syntax.name == str(syntax) else f"{syntax.name} ({syntax})"


def _instance_order(dataset: Dataset, path: Path) -> tuple:
    number = _number(dataset.get("InstanceNumber"))
    return (number is None, number or 0.0, natural_sort_key(path))


def _functional_group_items(dataset: Dataset) -> Iterable[Dataset]:
    """Items of enhanced-object functional groups that can carry pixel spacing."""
    for group_keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        groups = dataset.get(group_keyword)
        if not groups:
            continue
        first_group = groups[0]
        for sequence_keyword in ("FramePixelDataPropertiesSequence", "PixelMeasuresSequence"):
            yield from first_group.get(sequence_keyword) or ()


def _values(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _positive_number(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None
