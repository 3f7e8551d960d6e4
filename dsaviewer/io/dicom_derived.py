"""What every derived DICOM object we write shares: the equipment that made it, the series
it goes to and the atomic save."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
from pydicom.dataset import Dataset

from dsaviewer import __version__
from dsaviewer.io.writers import replace_atomically

MANUFACTURER = "DSA Viewer"
MODEL_NAME = "dsaviewer"
SOFTWARE_VERSION = __version__
# The device has no serial number; highdicom requires one for the Enhanced General Equipment.
DEVICE_SERIAL_NUMBER = "none"
RESEARCH_USE = "Research use, not for diagnosis."

# One new series per kind of object, numbered far from the modality's own series.
SEG_SERIES_NUMBER = 9101
SC_SERIES_NUMBER = 9102
SR_SERIES_NUMBER = 9103


def new_series_identity(series_number: int) -> dict[str, object]:
    """highdicom's keyword arguments that make an object the one instance of a new series of
    ``series_number``, made by us."""
    return {
        "series_instance_uid": hd.UID(),
        "series_number": series_number,
        "sop_instance_uid": hd.UID(),
        "instance_number": 1,
        "manufacturer": MANUFACTURER,
    }


def save_dataset(dataset: Dataset, path: str | Path) -> Path:
    """Write ``dataset`` as a DICOM Part 10 file; ``path`` is replaced only once complete."""
    target = Path(path)
    with replace_atomically(target) as temporary:
        dataset.save_as(temporary, enforce_file_format=True)
    return target
