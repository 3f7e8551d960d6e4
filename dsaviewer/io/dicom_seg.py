"""DICOM Segmentation of one analysed frame: binary tumor and liver segments that reference
the source XA/RF instance and the frame they were derived from.

highdicom builds the object. It does not write a SEG for one frame of a 2D+time XA run
(an XA instance has no frame of reference, and highdicom then accepts only single-frame
sources), so it is given the source's header as a single-frame image of the same size and
the references are then pointed at the real instance: its SOP class and, in every Source
Image Sequence item, the Referenced Frame Number of the analysed frame.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from dsaviewer.errors import InputError
from dsaviewer.io.dicom_derived import (
    DEVICE_SERIAL_NUMBER,
    MANUFACTURER,
    MODEL_NAME,
    SEG_SERIES_NUMBER,
    SOFTWARE_VERSION,
    new_series_identity,
    save_dataset,
)
from dsaviewer.io.dicom_reference import SourceImage, patient_study_attributes

# (category, property type) per segment label, SNOMED CT as DICOM CID 7150 / 7151 use them.
SEGMENT_CONCEPTS = {
    "tumor": (
        hd.sr.CodedConcept("49755003", "SCT", "Morphologically abnormal structure"),
        hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
    ),
    "liver": (
        hd.sr.CodedConcept("123037004", "SCT", "Anatomical structure"),
        hd.sr.CodedConcept("10200004", "SCT", "Liver"),
    ),
}
_AI_FAMILY = hd.sr.CodedConcept("123109", "DCM", "Artificial Intelligence")


def build_segmentation(
    source: SourceImage, masks: Mapping[str, np.ndarray], algorithm_version: str
) -> Dataset:
    """A SEG with one binary segment per ``masks`` entry (label -> (H, W) bool), numbered in
    the mapping's order. Labels must be keys of :data:`SEGMENT_CONCEPTS`."""
    rows, columns = int(source.header.Rows), int(source.header.Columns)
    labels = list(masks)
    unknown = [label for label in labels if label not in SEGMENT_CONCEPTS]
    if unknown or not labels:
        raise ValueError(f"segment labels must be among {sorted(SEGMENT_CONCEPTS)}: {unknown}")
    stacked = np.zeros((1, rows, columns, len(labels)), dtype=bool)
    for index, label in enumerate(labels):
        mask = np.asarray(masks[label])
        if mask.shape != (rows, columns):
            raise InputError(
                f"the {label} mask is {mask.shape[1]}x{mask.shape[0]} but the source frame is "
                f"{columns}x{rows}",
                source.path,
            )
        stacked[0, :, :, index] = mask.astype(bool)

    algorithm = hd.AlgorithmIdentificationSequence(
        name=MANUFACTURER, version=algorithm_version[:64], family=_AI_FAMILY
    )
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=label,
            segmented_property_category=SEGMENT_CONCEPTS[label][0],
            segmented_property_type=SEGMENT_CONCEPTS[label][1],
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
        )
        for number, label in enumerate(labels, start=1)
    ]
    segmentation = hd.seg.Segmentation(
        source_images=[_single_frame_stand_in(source)],
        pixel_array=stacked,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        manufacturer_model_name=MODEL_NAME,
        software_versions=SOFTWARE_VERSION,
        device_serial_number=DEVICE_SERIAL_NUMBER,
        series_description="DSA Viewer tumor and liver segmentation (research use)",
        content_label="DSA_SEG",
        content_description="Tumor and liver masks of the analysed key frame",
        **new_series_identity(SEG_SERIES_NUMBER),
    )
    _point_references_at_source(segmentation, source)
    # General Image: required (type 2C) when there is no frame of reference, as in XA.
    segmentation.PatientOrientation = source.header.get("PatientOrientation", "")
    return segmentation


def write_segmentation(
    path: str | Path,
    source: SourceImage,
    masks: Mapping[str, np.ndarray],
    algorithm_version: str,
) -> Path:
    """Build the SEG (see :func:`build_segmentation`) and write it to ``path``."""
    return save_dataset(build_segmentation(source, masks, algorithm_version), path)


def _single_frame_stand_in(source: SourceImage) -> Dataset:
    """The source header as highdicom accepts it: one frame, no frame of reference."""
    stand_in = copy.deepcopy(source.header)
    stand_in.update(patient_study_attributes(source.header))
    for keyword in ("NumberOfFrames", "FrameIncrementPointer", "FrameOfReferenceUID"):
        if keyword in stand_in:
            delattr(stand_in, keyword)
    stand_in.SOPClassUID = SecondaryCaptureImageStorage
    return stand_in


def _point_references_at_source(segmentation: Dataset, source: SourceImage) -> None:
    for group in segmentation.PerFrameFunctionalGroupsSequence:
        for derivation in group.DerivationImageSequence:
            for item in derivation.SourceImageSequence:
                item.ReferencedSOPClassUID = source.sop_class_uid
                if source.frame_number is not None:
                    item.ReferencedFrameNumber = source.frame_number
    for series in segmentation.get("ReferencedSeriesSequence", []):
        for item in series.ReferencedInstanceSequence:
            item.ReferencedSOPClassUID = source.sop_class_uid
