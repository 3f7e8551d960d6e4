"""Secondary capture of an analysed frame with its overlays burned in, for PACS viewers that
cannot display a DICOM SEG. The picture says so itself: it carries the research-use caption,
and the object is marked as derived, with burned-in annotation, from the source frame."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from dsaviewer.io.dicom_derived import (
    MANUFACTURER,
    MODEL_NAME,
    SC_SERIES_NUMBER,
    SOFTWARE_VERSION,
    save_dataset,
)
from dsaviewer.io.dicom_reference import SourceImage, patient_study_attributes


def _source_purpose() -> Dataset:
    code = Dataset()
    code.CodeValue = "121322"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Source image for image processing operation"
    return code


def build_secondary_capture(source: SourceImage, rgb: np.ndarray, description: str) -> Dataset:
    """A true-colour secondary capture of ``rgb`` ((H, W, 3) uint8, RGB order) in the source's
    study, in a new series; ``description`` becomes its Derivation Description."""
    image = np.ascontiguousarray(rgb, dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) RGB image, not shape {image.shape}")
    rows, columns = image.shape[:2]
    now = datetime.datetime.now()
    capture = Dataset()
    capture.SpecificCharacterSet = "ISO_IR 192"
    capture.SOPClassUID = SecondaryCaptureImageStorage
    capture.SOPInstanceUID = generate_uid()
    capture.update(patient_study_attributes(source.header))
    capture.Modality = "OT"
    capture.SeriesInstanceUID = generate_uid()
    capture.SeriesNumber = SC_SERIES_NUMBER
    capture.InstanceNumber = 1
    capture.ConversionType = "WSD"  # workstation
    capture.Manufacturer = MANUFACTURER
    capture.ContentDate = now.strftime("%Y%m%d")
    capture.ContentTime = now.strftime("%H%M%S")
    capture.SamplesPerPixel = 3
    capture.PhotometricInterpretation = "RGB"
    capture.PlanarConfiguration = 0
    capture.Rows = rows
    capture.Columns = columns
    capture.BitsAllocated = 8
    capture.BitsStored = 8
    capture.HighBit = 7
    capture.PixelRepresentation = 0
    capture.LossyImageCompression = "00"
    capture.PixelData = image.tobytes() + b"\0" * (image.size % 2)
    capture.file_meta = FileMetaDataset()
    capture.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    capture.ManufacturerModelName = MODEL_NAME
    capture.SoftwareVersions = SOFTWARE_VERSION
    capture.SeriesDescription = "DSA Viewer overlay (research use)"
    capture.ImageType = ["DERIVED", "SECONDARY"]
    capture.BurnedInAnnotation = "YES"
    capture.DerivationDescription = description[:1024]
    capture.SourceImageSequence = Sequence([_source_item(source)])
    capture.PatientOrientation = source.header.get("PatientOrientation", "")
    # General Series (type 2C, needed for a paired body part): the source does not say.
    capture.Laterality = ""
    return capture


def write_secondary_capture(
    path: str | Path, source: SourceImage, rgb: np.ndarray, description: str
) -> Path:
    """Build the capture (see :func:`build_secondary_capture`) and write it to ``path``."""
    return save_dataset(build_secondary_capture(source, rgb, description), path)


def _source_item(source: SourceImage) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.sop_class_uid
    item.ReferencedSOPInstanceUID = source.sop_instance_uid
    if source.frame_number is not None:
        item.ReferencedFrameNumber = source.frame_number
    item.PurposeOfReferenceCodeSequence = Sequence([_source_purpose()])
    return item
