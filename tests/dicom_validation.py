"""Checking the DICOM objects we write: dicom3tools' ``dciodvfy`` error lines (tests that need
it skip, naming the package, where it is not installed) and the measurement groups of a TID
1500 report. (No tests here.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydicom.dataset import Dataset


def dciodvfy_errors(path: Path) -> list[str]:
    """The ``Error`` lines dciodvfy prints for ``path`` (its exit status is 0 either way)."""
    binary = shutil.which("dciodvfy")
    if binary is None:
        pytest.skip("dciodvfy not found: install the Debian package dicom3tools")
    completed = subprocess.run(
        [binary, str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    lines = (completed.stdout + completed.stderr).splitlines()
    if any(line.startswith("Abort") for line in lines):
        raise AssertionError(f"dciodvfy could not read {path}: {lines}")
    return [line for line in lines if line.startswith("Error")]


def measurement_groups(sr: Dataset) -> dict[str, dict[str, object]]:
    """Measurement groups of a TID 1500 report by tracking identifier: concept meaning ->
    (value, unit) for numbers, text for text, (instance, frame) for image references."""
    groups = {}
    for item in sr.ContentSequence:
        if item.ConceptNameCodeSequence[0].CodeMeaning != "Imaging Measurements":
            continue
        for group in item.ContentSequence:
            values: dict[str, object] = {}
            name = None
            for entry in group.ContentSequence:
                meaning = entry.ConceptNameCodeSequence[0].CodeMeaning
                if meaning == "Tracking Identifier":
                    name = entry.TextValue
                elif entry.ValueType == "NUM":
                    measured = entry.MeasuredValueSequence[0]
                    values[meaning] = (
                        round(float(measured.NumericValue), 6),
                        measured.MeasurementUnitsCodeSequence[0].CodeValue,
                    )
                elif entry.ValueType == "TEXT":
                    values[meaning] = entry.TextValue
                elif entry.ValueType == "IMAGE":
                    reference = entry.ReferencedSOPSequence[0]
                    frame = reference.get("ReferencedFrameNumber")
                    values[meaning] = (reference.ReferencedSOPInstanceUID,
                                       None if frame is None else int(frame))
            groups[name] = values
    return groups
