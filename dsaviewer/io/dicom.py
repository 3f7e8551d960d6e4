"""DICOM video sources: one multi-frame file (XA, RF, or any multi-frame image) or a folder of
single-frame files of one series.

Pixels come out in display polarity (MONOCHROME1 inverted) as uint8 or uint16 with the stored
bit depth; frame rate and imager pixel spacing come from whichever tag variant the file uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from dsaviewer.errors import InputError
from dsaviewer.io.calibration import Calibration, dicom_calibration
from dsaviewer.io.dicom_dataset import read_dataset
from dsaviewer.io.dicom_pixels import decoded_pixels, display_frames, frame_count_of
from dsaviewer.io.dicom_values import as_number, as_positive_number, as_values
from dsaviewer.io.frame_folder import natural_sort_key
from dsaviewer.io.limits import check_run_size
from dsaviewer.io.video import Video

DICOM_SUFFIXES = (".dcm", ".dicom")

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
    dataset = read_dataset(path)
    frames, bits_stored = display_frames(dataset, decoded_pixels(dataset, path), path)
    return _video(dataset, frames, bits_stored, path, "dicom",
                  frame_times(dataset, frames.shape[0]))


def read_dicom_series(folder: Path, files: list[Path] | None = None) -> Video:
    """Load a folder of single-frame DICOM files of one series, ordered by InstanceNumber
    (file name order where that is missing). ``files`` defaults to the folder's DICOM files."""
    files = files if files is not None else dicom_files_in(folder)
    if not files:
        raise InputError("the folder holds no DICOM files", folder)
    datasets = [(read_dataset(path), path) for path in files]
    datasets.sort(key=lambda item: instance_order(item[0], item[1]))

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
        count = frame_count_of(dataset, path)
        if count != 1:
            raise InputError(
                f"holds {count} frames; a folder of DICOM files must hold one "
                "frame per file (open a multi-frame file on its own)",
                path,
            )
        frame, bits = display_frames(dataset, decoded_pixels(dataset, path), path)
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
    return _video(first, frames, bits_stored, folder, "dicom-series")


def _video(
    header: Dataset,
    frames: np.ndarray,
    bits_stored: int,
    source: Path,
    source_format: str,
    frame_times_s: np.ndarray | None = None,
) -> Video:
    """The video of ``frames`` with the rate, pixel spacing, calibration and display metadata
    that ``header`` (a file's, or a series' first file's) gives."""
    return Video(
        frames=frames,
        fps=frame_rate(header),
        pixel_spacing_mm=pixel_spacing(header),
        calibration=calibration(header),
        source=source,
        source_format=source_format,
        bits_stored=bits_stored,
        metadata=display_metadata(header),
        frame_times_s=frame_times_s,
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
    frame_time_ms = as_positive_number(dataset.get("FrameTime"))
    if frame_time_ms is not None:
        return 1000.0 / frame_time_ms
    # FrameTimeVector: ms since the previous frame, 0 for the first frame.
    intervals = [
        value
        for value in map(as_positive_number, as_values(dataset.get("FrameTimeVector")))
        if value is not None
    ]
    if intervals:
        return 1000.0 / float(np.mean(intervals))
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = as_positive_number(dataset.get(keyword))
        if rate is not None:
            return rate
    return None


def frame_times(dataset: Dataset, count: int) -> np.ndarray | None:
    """Each frame's time in s from the first: the running sum of FrameTimeVector (ms since the
    previous frame, the first entry 0) when it has one usable entry per frame, else
    ``count`` frames FrameTime ms apart; None when neither tag is usable. Irregular runs
    (fast arterial phase, slower late phase) keep their real timing this way."""
    vector = [as_number(item) for item in as_values(dataset.get("FrameTimeVector"))]
    if len(vector) == count and all(value is not None and value >= 0 for value in vector):
        intervals = np.array(vector, dtype=np.float64)
        intervals[0] = 0.0  # the first entry is 0 by definition; some writers repeat the step
        if count == 1 or np.all(intervals[1:] > 0):
            return np.cumsum(intervals) / 1000.0
    frame_time_ms = as_positive_number(dataset.get("FrameTime"))
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
        as_positive_number(dataset.get("EstimatedRadiographicMagnificationFactor")),
        as_positive_number(dataset.get("DistanceSourceToDetector")),
        as_positive_number(dataset.get("DistanceSourceToPatient")),
    )


def _spacing(dataset: Dataset, keyword: str) -> tuple[float, float] | None:
    for holder in (dataset, *_functional_group_items(dataset)):
        values = [as_positive_number(item) for item in as_values(holder.get(keyword))]
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
        numbers = [as_number(value) for value in as_values(item.get("MaskFrameNumbers"))]
        if numbers and None not in numbers:
            return "\\".join(str(int(number)) for number in numbers)
    return ""


def instance_order(dataset: Dataset, path: Path) -> tuple:
    """How a series' files are ordered: by InstanceNumber, files without one last, then by
    natural file-name order."""
    number = as_number(dataset.get("InstanceNumber"))
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
