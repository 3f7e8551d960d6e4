"""TID 1500 measurement report of an analysis: one measurement group per lesion (area, longest
diameter, mean tumor probability, lesion uncertainty), one for the response prediction
(probability and the model's operating threshold), the research-use statement and, when the
analysis has one, its scope decision. Every group references the analysed source frame; the
SEG written with the report (whose tumor segment holds the lesions) is listed as evidence.

Concepts without a standard code (model outputs) use the local coding scheme ``99DSAV``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from dsaviewer.io.dicom_derived import (
    MANUFACTURER,
    MODEL_NAME,
    RESEARCH_USE,
    SOFTWARE_VERSION,
    SR_SERIES_NUMBER,
    new_series_identity,
    save_dataset,
)
from dsaviewer.io.dicom_reference import SourceImage, patient_study_attributes

LOCAL_SCHEME = "99DSAV"
AREA = hd.sr.CodedConcept("42798000", "SCT", "Area")
LONGEST_DIAMETER = hd.sr.CodedConcept("103339001", "SCT", "Long axis")
MEAN_PROBABILITY = hd.sr.CodedConcept("MEANPROB", LOCAL_SCHEME, "Mean tumor probability")
UNCERTAINTY = hd.sr.CodedConcept("UNCERT", LOCAL_SCHEME, "Lesion uncertainty")
RESPONSE_PROBABILITY = hd.sr.CodedConcept(
    "RESPPROB", LOCAL_SCHEME, "Probability of response to first TACE"
)
RESPONSE_THRESHOLD = hd.sr.CodedConcept("RESPTHR", LOCAL_SCHEME, "Response model threshold")
SCOPE = hd.sr.CodedConcept("SCOPE", LOCAL_SCHEME, "Scope decision")
COMMENT = hd.sr.CodedConcept("121106", "DCM", "Comment")
NEOPLASM = hd.sr.CodedConcept("108369006", "SCT", "Neoplasm")
LIVER = hd.sr.CodedConcept("10200004", "SCT", "Liver")
ANGIOGRAPHY = hd.sr.CodedConcept("77343006", "SCT", "Angiography")
MM = hd.sr.CodedConcept("mm", "UCUM", "millimeter")
MM2 = hd.sr.CodedConcept("mm2", "UCUM", "square millimeter")
PIXELS = hd.sr.CodedConcept("{pixels}", "UCUM", "pixels")
RATIO = hd.sr.CodedConcept("1", "UCUM", "no units")

_Item = tuple[hd.sr.CodedConcept, float | None, hd.sr.CodedConcept]  # (name, value, unit)


@dataclass(frozen=True)
class LesionMeasurements:
    number: int  # 1 = largest, as shown in the viewer and burned into the capture
    area_px: int
    area_mm2: float | None  # None without pixel spacing
    longest_diameter_px: float
    longest_diameter_mm: float | None
    mean_probability: float | None
    uncertainty: float | None


@dataclass(frozen=True)
class ReportContent:
    lesions: tuple[LesionMeasurements, ...]
    response_probability: float | None
    response_threshold: float | None
    scope: str | None  # the scope decision in words, when the analysis made one
    algorithm_version: str  # the weights that made the result


def build_measurement_report(
    source: SourceImage, content: ReportContent, segmentation: Dataset | None = None
) -> Dataset:
    """An Enhanced SR holding the TID 1500 report; ``segmentation`` is the SEG written for
    the same analysis, or None."""
    algorithm = hd.sr.AlgorithmIdentification(
        name=MANUFACTURER, version=content.algorithm_version[:64]
    )
    source_reference = hd.sr.SourceImageForMeasurementGroup(
        referenced_sop_class_uid=source.sop_class_uid,
        referenced_sop_instance_uid=source.sop_instance_uid,
        referenced_frame_numbers=None if source.frame_number is None else [source.frame_number],
    )
    measured = _MeasurementGroups(algorithm, source_reference)
    groups = [_lesion_group(lesion, measured) for lesion in content.lesions]
    groups.append(_summary_group(content, measured))

    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=MANUFACTURER, model_name=MODEL_NAME
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=ANGIOGRAPHY,
        imaging_measurements=groups,
    )
    evidence = [_evidence_header(source)]
    if segmentation is not None:
        evidence.append(segmentation)
    sr = hd.sr.EnhancedSR(
        evidence=evidence,
        content=report[0],
        is_complete=True,
        series_description="DSA Viewer measurement report (research use)",
        **new_series_identity(SR_SERIES_NUMBER),
    )
    sr.ManufacturerModelName = MODEL_NAME
    sr.SoftwareVersions = SOFTWARE_VERSION
    return sr


def write_measurement_report(
    path: str | Path,
    source: SourceImage,
    content: ReportContent,
    segmentation: Dataset | None = None,
) -> Path:
    """Build the report (see :func:`build_measurement_report`) and write it to ``path``."""
    return save_dataset(build_measurement_report(source, content, segmentation), path)


@dataclass(frozen=True)
class _MeasurementGroups:
    """Makes the report's measurement groups: every one measured by the same algorithm on the
    same source frame."""

    algorithm: hd.sr.AlgorithmIdentification
    source_reference: hd.sr.SourceImageForMeasurementGroup

    def group(
        self, identifier: str, items: Sequence[_Item], **finding: object
    ) -> hd.sr.MeasurementsAndQualitativeEvaluations:
        """A group of a measurement for each (name, value, unit) whose value is known: a result
        may lack some (no response model, no probability map), and the report then leaves
        them out. ``finding`` names what was measured (type and sites), where it is one."""
        measurements = [
            hd.sr.Measurement(name=name, value=float(value), unit=unit,
                              algorithm_id=self.algorithm)
            for name, value, unit in items
            if value is not None
        ]
        return hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=identifier),
            algorithm_id=self.algorithm,
            measurements=measurements or None,
            source_images=[self.source_reference],
            **finding,
        )


def _lesion_group(
    lesion: LesionMeasurements, measured: _MeasurementGroups
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    return measured.group(
        f"Lesion {lesion.number}",
        [
            _size(AREA, lesion.area_mm2, MM2, lesion.area_px),
            _size(LONGEST_DIAMETER, lesion.longest_diameter_mm, MM, lesion.longest_diameter_px),
            (MEAN_PROBABILITY, lesion.mean_probability, RATIO),
            (UNCERTAINTY, lesion.uncertainty, RATIO),
        ],
        finding_type=NEOPLASM,
        finding_sites=[hd.sr.FindingSite(LIVER)],
    )


def _summary_group(
    content: ReportContent, measured: _MeasurementGroups
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    group = measured.group("Analysis", [
        (RESPONSE_PROBABILITY, content.response_probability, RATIO),
        (RESPONSE_THRESHOLD, content.response_threshold, RATIO),
    ])
    _append(group, hd.sr.TextContentItem(COMMENT, RESEARCH_USE, "CONTAINS"))
    if content.scope:
        _append(group, hd.sr.TextContentItem(SCOPE, content.scope[:1024], "CONTAINS"))
    return group


def _size(name: hd.sr.CodedConcept, millimetres: float | None, unit: hd.sr.CodedConcept,
          pixels: float) -> _Item:
    """A size in ``unit`` where the source has a pixel spacing, else in pixels."""
    return (name, millimetres, unit) if millimetres is not None else (name, pixels, PIXELS)


def _append(group: hd.sr.MeasurementsAndQualitativeEvaluations, item: Dataset) -> None:
    """Add a content item to a measurement group (TID 1501 allows text qualitative
    evaluations; highdicom's constructor takes coded ones only)."""
    container = group[0]
    container.ContentSequence.append(item)


def _evidence_header(source: SourceImage) -> Dataset:
    """The source header with its patient and study attributes made valid (see
    :func:`patient_study_attributes`), as highdicom copies them from the first evidence."""
    header = Dataset()
    header.update(source.header)
    header.update(patient_study_attributes(source.header))
    return header
