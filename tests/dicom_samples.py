"""Small DICOM XA datasets the reader tests alter and save. (No tests here.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from dsaviewer.io.writers import write_dicom_xa


def ramp_frames(count: int, height: int, width: int, top: int = 255) -> np.ndarray:
    dtype = np.uint8 if top <= 255 else np.uint16
    values = np.arange(count * height * width, dtype=np.int64) * 7919 % (top + 1)
    return values.reshape(count, height, width).astype(dtype)


def xa_dataset(tmp_path: Path, frames: np.ndarray, **options) -> Dataset:
    """A dataset as write_dicom_xa makes it, to alter before saving."""
    path = write_dicom_xa(tmp_path / "base.dcm", frames, fps=options.pop("fps", 10), **options)
    dataset = pydicom.dcmread(path)
    path.unlink()
    return dataset


def save(dataset: Dataset, path: Path) -> Path:
    dataset.save_as(path, enforce_file_format=True)
    return path
