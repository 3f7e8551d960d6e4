"""Writers for the video sources of a case folder: MJPEG AVI, multi-frame XA DICOM, PNG frames.

Each writer leaves either the complete new file or nothing: it writes beside the target under a
temporary name and renames over it, so a reader (or a crash) never sees half a video.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, XRayAngiographicImageStorage, generate_uid

from dsaviewer.io.avi_mjpeg import write_mjpeg_avi

FRAME_FILE_DIGITS = 4
_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


@contextlib.contextmanager
def replace_atomically(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file keeps the target's suffix because some encoders (OpenCV) choose the
    container from it. On any error the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique name, not mkstemp: the encoder creates the file, so it gets the usual
    # permissions rather than mkstemp's owner-only ones.
    temporary = target.with_name(f".{target.stem}.{uuid.uuid4().hex}.part{target.suffix}")
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_avi(path: str | Path, frames: np.ndarray, fps: float) -> Path:
    """Write ``(T, H, W)`` uint8 grey frames as a Motion-JPEG AVI at exactly ``fps``; return
    the path.

    MJPEG is lossy: frames read back within a few grey levels (JPEG quality 96), not exactly.
    ValueError for frames that would make a file over 2 GiB.
    """
    frames = _checked_frames(frames, allowed=(np.uint8,))
    fps = _checked_fps(fps)
    target = Path(path)
    with replace_atomically(target) as temporary:
        write_mjpeg_avi(temporary, frames, fps)
    return target


def write_dicom_xa(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    pixel_spacing_mm: tuple[float, float] | None = None,
    bits_stored: int | None = None,
    monochrome: str = "MONOCHROME2",
    patient: dict[str, str] | None = None,
) -> Path:
    """Write a multi-frame X-Ray Angiographic Image (explicit VR little endian, uncompressed).

    ``frames`` are the stored values, written as given: with ``monochrome="MONOCHROME1"`` a
    reader must invert them for display. ``bits_stored`` defaults to the dtype's width and
    must hold the largest value. ``pixel_spacing_mm`` (row, column) goes to
    ImagerPixelSpacing. ``patient`` maps DICOM keywords (PatientName, PatientID, StudyDate,
    Manufacturer, SeriesDescription, ...) to values. Returns the path.
    """
    frames = _checked_frames(frames, allowed=(np.uint8, np.uint16))
    fps = _checked_fps(fps)
    if monochrome not in _MONOCHROME:
        raise ValueError(f"monochrome must be one of {_MONOCHROME}, not {monochrome!r}")
    bits_allocated = frames.dtype.itemsize * 8
    bits_stored = bits_allocated if bits_stored is None else int(bits_stored)
    if not 1 <= bits_stored <= bits_allocated:
        raise ValueError(f"bits_stored {bits_stored} does not fit {frames.dtype} pixels")
    if frames.size and int(frames.max()) >= 1 << bits_stored:
        raise ValueError(f"pixel value {int(frames.max())} needs more than {bits_stored} bits")

    dataset = _xa_dataset(frames, fps, bits_stored, monochrome)
    if pixel_spacing_mm is not None:
        row, column = (float(value) for value in pixel_spacing_mm)
        if row <= 0 or column <= 0:
            raise ValueError(f"pixel spacing must be positive, not {pixel_spacing_mm}")
        dataset.ImagerPixelSpacing = [f"{row:.6g}", f"{column:.6g}"]
    for keyword, value in (patient or {}).items():
        if not pydicom.datadict.tag_for_keyword(keyword):
            raise ValueError(f"{keyword!r} is not a DICOM keyword")
        setattr(dataset, keyword, value)

    target = Path(path)
    with replace_atomically(target) as temporary:
        dataset.save_as(temporary, enforce_file_format=True)
    return target


def write_frame_folder(folder: str | Path, frames: np.ndarray) -> Path:
    """Write frames as ``0000.png``, ``0001.png``, ... (8- or 16-bit grey) into ``folder``.

    ``folder`` must not exist or be empty, so old and new frames never mix; the frames are
    written to a sibling temporary folder first and renamed into place. Returns the folder.
    """
    frames = _checked_frames(frames, allowed=(np.uint8, np.uint16))
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not an empty folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    staging.mkdir()
    try:
        for index in range(frames.shape[0]):
            ok, encoded = cv2.imencode(".png", frames[index])
            if not ok:
                raise OSError(f"OpenCV could not encode frame {index} as PNG")
            # Bytes written by Python, not cv2.imwrite, so non-ASCII paths work on Windows too.
            (staging / f"{index:0{FRAME_FILE_DIGITS}d}.png").write_bytes(encoded.tobytes())
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _checked_frames(frames: np.ndarray, allowed: tuple[type, ...]) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 3 or 0 in frames.shape:
        raise ValueError(f"frames must be a non-empty (T, H, W) array, not shape {frames.shape}")
    if frames.dtype.type not in allowed:
        names = " or ".join(np.dtype(kind).name for kind in allowed)
        raise ValueError(f"frames must be {names}, not {frames.dtype}")
    return np.ascontiguousarray(frames)


def _checked_fps(fps: float) -> float:
    fps = float(fps)
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, not {fps}")
    return fps


def _xa_dataset(frames: np.ndarray, fps: float, bits_stored: int, monochrome: str) -> Dataset:
    count, rows, columns = frames.shape
    now = datetime.datetime.now()
    sop_instance_uid = generate_uid()

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = XRayAngiographicImageStorage
    meta.MediaStorageSOPInstanceUID = sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = XRayAngiographicImageStorage
    ds.SOPInstanceUID = sop_instance_uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    # Type 2 attributes: present, empty unless the caller fills them.
    ds.PatientName = ""
    ds.PatientID = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.StudyDate = now.strftime("%Y%m%d")
    ds.StudyTime = now.strftime("%H%M%S")
    ds.ContentDate = ds.StudyDate
    ds.ContentTime = ds.StudyTime
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.Modality = "XA"
    ds.Manufacturer = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
    # X-Ray Acquisition and XA Positioner modules: the mandatory and type 2 elements.
    ds.KVP = ""
    ds.RadiationSetting = "GR"
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = ""
    ds.PositionerSecondaryAngle = ""
    ds.PixelIntensityRelationship = "LIN"
    ds.LossyImageCompression = "00"
    # Multi-frame and Cine modules.
    ds.NumberOfFrames = count
    ds.FrameIncrementPointer = pydicom.tag.Tag("FrameTime")
    ds.FrameTime = f"{1000.0 / fps:.10g}"  # DS holds 16 characters; keep the rate exact
    ds.CineRate = max(1, round(fps))
    ds.RecommendedDisplayFrameRate = max(1, round(fps))
    # Image Pixel module.
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = monochrome
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = frames.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    pixel_bytes = frames.astype(frames.dtype.newbyteorder("<"), copy=False).tobytes()
    # DICOM values have even length; 8-bit data of odd size gets one padding byte.
    ds.PixelData = pixel_bytes + b"\0" * (len(pixel_bytes) % 2)
    return ds
