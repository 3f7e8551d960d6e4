"""A DICOM file's pixels: what its header declares checked against its pixel data (refused,
never reinterpreted, when they disagree), decoded, and turned into display frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder
from pydicom.uid import UID

from dsaviewer.errors import InputError
from dsaviewer.io.dicom_values import as_number, as_values
from dsaviewer.io.limits import check_run_size


def decoded_pixels(dataset: Dataset, path: Path) -> np.ndarray:
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
    frames = frame_count_of(dataset, path)
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
    number = as_number(value)
    if number is None or not number.is_integer() or number < 1:
        raise InputError(f"{keyword} {_short(value)} is not a positive whole number", path)
    return int(number)


def frame_count_of(dataset: Dataset, path: Path) -> int:
    return _count(dataset, "NumberOfFrames", path, default=1)


def _single_uid(holder: Dataset, keyword: str, path: Path) -> UID | None:
    """A UID element as one UID; None when absent; InputError when empty or multi-valued."""
    if keyword not in holder:
        return None
    value = holder[keyword].value
    if isinstance(value, str) and value.strip():
        return UID(value.strip())
    problem = "is empty" if not value else f"holds {len(as_values(value))} values"
    raise InputError(f"its {keyword} {problem}; a file has exactly one", path)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def display_frames(dataset: Dataset, pixels: np.ndarray, path: Path) -> tuple[np.ndarray, int]:
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
    slope = as_number(dataset.get("RescaleSlope"))
    intercept = as_number(dataset.get("RescaleIntercept"))
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
