"""The DICOM image an analysis result derives from, and the patient and study attributes a
derived object (SEG, SR, secondary capture) copies from it.

Derived objects join the source's study in a new series and carry no identifier beyond the
source's own patient and study ones. Values the source holds in an invalid form (old
ACR-NEMA dates such as ``1994.10.16``) are left empty rather than copied, so every object
written stays valid DICOM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.config import RAISE
from pydicom.dataset import Dataset
from pydicom.valuerep import validate_value

from dsaviewer.errors import InputError
from dsaviewer.io.dicom import dicom_files_in, instance_order
from dsaviewer.io.video import Video

# Patient and General Study attributes (type 2 unless noted): copied when valid, else empty.
PATIENT_STUDY_KEYWORDS = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyID",
)
# Copied only when the source has them (type 3), so nothing new about the patient is added.
OPTIONAL_STUDY_KEYWORDS = ("StudyDescription", "IssuerOfPatientID")


@dataclass(frozen=True)
class SourceImage:
    """The source instance of one analysed frame. ``header`` is its dataset without pixels;
    ``frame_number`` is the 1-based frame in a multi-frame instance, None for single-frame."""

    header: Dataset
    frame_number: int | None
    path: Path

    @property
    def sop_class_uid(self) -> str:
        return str(self.header.SOPClassUID)

    @property
    def sop_instance_uid(self) -> str:
        return str(self.header.SOPInstanceUID)


def source_image(video: Video, frame_index: int) -> SourceImage:
    """The DICOM instance (and frame) that ``video.frames[frame_index]`` was read from.

    AVI, MP4 and PNG sources have no patient or study to attach results to: inventing a
    patient would make results that no PACS can match to the run, so they are refused.
    """
    if not 0 <= frame_index < video.n_frames:
        raise InputError(f"frame {frame_index} is outside the run's {video.n_frames} frames")
    if video.source_format == "dicom":
        header = _read_header(video.source)
        frames = int(header.get("NumberOfFrames") or 1)
        return SourceImage(header, frame_index + 1 if frames > 1 else None, video.source)
    if video.source_format == "dicom-series":
        headers = [(_read_header(path), path) for path in dicom_files_in(video.source)]
        headers.sort(key=lambda item: instance_order(item[0], item[1]))
        if len(headers) != video.n_frames:
            raise InputError(
                f"the folder now holds {len(headers)} DICOM files but the run had "
                f"{video.n_frames} frames; reopen it",
                video.source,
            )
        header, path = headers[frame_index]
        return SourceImage(header, None, path)
    raise InputError(
        f"is a {video.source_format} file, not DICOM: DICOM results (SEG, SR, secondary "
        "capture) belong to the source's patient and study, so they need a DICOM run",
        video.source,
    )


def patient_study_attributes(source: Dataset) -> Dataset:
    """A dataset with the source's Patient and General Study attributes for a derived object:
    StudyInstanceUID always, type 2 ones present (empty where the source lacks a valid
    value), type 3 ones only where the source has a valid value."""
    derived = Dataset()
    if "StudyInstanceUID" not in source:
        raise InputError("the source DICOM has no StudyInstanceUID")
    derived.StudyInstanceUID = source.StudyInstanceUID
    for keyword in PATIENT_STUDY_KEYWORDS:
        setattr(derived, keyword, _valid_value(source, keyword) or "")
    for keyword in OPTIONAL_STUDY_KEYWORDS:
        value = _valid_value(source, keyword)
        if value:
            setattr(derived, keyword, value)
    return derived


def _valid_value(source: Dataset, keyword: str) -> object | None:
    element = source.data_element(keyword) if keyword in source else None
    if element is None or element.value in (None, ""):
        return None
    try:
        validate_value(element.VR, element.value, RAISE)
    except ValueError:
        return None
    return element.value


def _read_header(path: Path) -> Dataset:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except OSError as error:
        raise InputError(f"cannot be read: {error.strerror or error}", path) from error
    except Exception as error:  # pydicom raises many types on damaged files
        raise InputError(f"cannot be read as DICOM ({error})", path) from error
