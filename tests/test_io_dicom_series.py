"""DICOM folders of single-frame files through load_video: ordered by instance number, one
multi-frame file in a folder, and the series that cannot be one run."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_samples import ramp_frames, save, xa_dataset

from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa


def _single_frame_files(
    tmp_path: Path, frames: np.ndarray, instance_numbers: list[int], folder: Path
) -> list[Path]:
    base = xa_dataset(tmp_path, frames[:1])
    folder.mkdir()
    paths = []
    for frame, number in zip(frames, instance_numbers, strict=True):
        dataset = copy.deepcopy(base)
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
        dataset.NumberOfFrames = 1
        dataset.InstanceNumber = number
        dataset.PixelData = frame.tobytes()
        # File names in the opposite order to the instance numbers.
        paths.append(save(dataset, folder / f"IMG{100 - number:03d}.dcm"))
    return paths


def test_folder_of_single_frame_files_is_ordered_by_instance_number(tmp_path: Path) -> None:
    frames = ramp_frames(4, 6, 7)
    folder = tmp_path / "series"
    _single_frame_files(tmp_path, frames, [1, 2, 3, 10], folder)

    video = load_video(folder)

    assert video.source_format == "dicom-series"
    assert video.source == folder
    assert np.array_equal(video.frames, frames)
    assert video.fps == pytest.approx(10.0)


def test_folder_series_with_a_different_frame_size_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    paths = _single_frame_files(tmp_path, ramp_frames(3, 6, 7), [1, 2, 3], folder)
    odd = pydicom.dcmread(paths[1])
    odd.Rows = 3
    odd.PixelData = ramp_frames(1, 3, 7).tobytes() + b"\0"
    save(odd, paths[1])

    with pytest.raises(InputError, match="Rows is 3") as caught:
        load_video(folder)
    assert caught.value.source == str(paths[1])


def test_folder_mixing_two_series_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    paths = _single_frame_files(tmp_path, ramp_frames(2, 4, 4), [1, 2], folder)
    other = pydicom.dcmread(paths[0])
    other.SeriesInstanceUID = pydicom.uid.generate_uid()
    save(other, paths[0])

    with pytest.raises(InputError, match="2 DICOM series"):
        load_video(folder)


def test_folder_with_one_multiframe_file_loads_that_file(tmp_path: Path) -> None:
    frames = ramp_frames(3, 5, 5)
    write_dicom_xa(tmp_path / "only" / "run.dcm", frames, fps=10)

    video = load_video(tmp_path / "only")

    assert video.source_format == "dicom"
    assert np.array_equal(video.frames, frames)
