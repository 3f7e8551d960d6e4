"""The writers: what they put on disk, that they write atomically, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, XRayAngiographicImageStorage

from dsaviewer.io import avi_mjpeg
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder


def smooth_frames(count: int, height: int, width: int, dtype=np.uint8) -> np.ndarray:
    """Frames with soft structure that JPEG keeps well, different in every frame."""
    top = np.iinfo(dtype).max
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = np.empty((count, height, width), dtype=dtype)
    for index in range(count):
        blob = np.exp(-((rows - height / 2) ** 2 + (columns - 3 * index - 5) ** 2) / 60.0)
        image = 0.2 + 0.5 * columns / width + 0.3 * blob
        frames[index] = np.round(image / image.max() * top * 0.9).astype(dtype)
    return frames


def test_write_avi_round_trip_is_close_and_keeps_odd_size_and_fractional_fps(
    tmp_path: Path,
) -> None:
    frames = smooth_frames(6, 45, 77)

    written = write_avi(tmp_path / "run.avi", frames, fps=7.5)

    video = load_video(written)
    assert written == tmp_path / "run.avi"
    assert video.frames.shape == frames.shape
    assert video.fps == pytest.approx(7.5)
    # MJPEG is lossy: within 6 grey levels everywhere, under 1 level on average.
    difference = np.abs(video.frames.astype(int) - frames.astype(int))
    assert difference.max() <= 6
    assert difference.mean() < 1.0


def test_write_avi_is_a_standard_mjpeg_avi_that_a_second_reader_opens(tmp_path: Path) -> None:
    """FFmpeg reads the viewer's AVIs; OpenCV's own MJPEG reader, a separate parser of the
    RIFF headers and index, must find the same frames and the exact rate."""
    frames = smooth_frames(5, 40, 61)
    written = write_avi(tmp_path / "run.avi", frames, fps=7.5)

    capture = cv2.VideoCapture(str(written), cv2.CAP_OPENCV_MJPEG)
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 5
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(7.5)
    decoded = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        decoded.append(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    capture.release()
    assert np.array(decoded).shape == frames.shape
    assert np.abs(np.array(decoded).astype(int) - frames).max() <= 6
    header = written.read_bytes()[:12]
    assert header[:4] == b"RIFF" and header[8:] == b"AVI "
    assert int.from_bytes(header[4:8], "little") == written.stat().st_size - 8


def test_write_avi_refuses_a_run_too_large_for_an_avi_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(avi_mjpeg, "MAX_FILE_BYTES", 2_000)
    target = tmp_path / "video.avi"
    target.write_bytes(b"previous file")

    with pytest.raises(ValueError, match="more than an AVI file can hold"):
        write_avi(target, smooth_frames(8, 64, 64), fps=10)

    assert target.read_bytes() == b"previous file"


def test_write_avi_leaves_no_temporary_file_and_replaces_an_existing_one(tmp_path: Path) -> None:
    target = tmp_path / "video.avi"
    target.write_bytes(b"old content")

    write_avi(target, smooth_frames(3, 32, 32), fps=10)

    assert [path.name for path in tmp_path.iterdir()] == ["video.avi"]
    assert load_video(target).n_frames == 3


def test_a_failed_write_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "video.dcm"
    target.write_bytes(b"previous file")

    with pytest.raises(ValueError, match="bits"):
        write_dicom_xa(target, np.full((2, 8, 8), 300, np.uint16), fps=10, bits_stored=8)

    assert target.read_bytes() == b"previous file"
    assert [path.name for path in tmp_path.iterdir()] == ["video.dcm"]


def test_write_dicom_xa_writes_a_multiframe_xa_object(tmp_path: Path) -> None:
    frames = smooth_frames(5, 20, 30)

    path = write_dicom_xa(
        tmp_path / "run.dcm",
        frames,
        fps=20,
        pixel_spacing_mm=(0.2, 0.25),
        patient={"PatientName": "Doe^Jane", "PatientID": "P-7", "Manufacturer": "Phantom"},
    )

    dataset = pydicom.dcmread(path)
    assert dataset.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert dataset.SOPClassUID == XRayAngiographicImageStorage
    assert dataset.file_meta.MediaStorageSOPInstanceUID == dataset.SOPInstanceUID
    assert dataset.Modality == "XA"
    assert int(dataset.NumberOfFrames) == 5
    assert float(dataset.FrameTime) == pytest.approx(50.0)
    assert int(dataset.CineRate) == 20
    assert [float(value) for value in dataset.ImagerPixelSpacing] == [0.2, 0.25]
    assert dataset.FrameIncrementPointer == pydicom.tag.Tag("FrameTime")
    assert (dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit) == (8, 8, 7)
    assert str(dataset.PatientName) == "Doe^Jane"
    assert dataset.PatientID == "P-7"
    assert np.array_equal(dataset.pixel_array, frames)


def test_write_dicom_xa_generates_new_uids_for_every_file(tmp_path: Path) -> None:
    frames = smooth_frames(2, 8, 8)
    first = pydicom.dcmread(write_dicom_xa(tmp_path / "a.dcm", frames, fps=10))
    second = pydicom.dcmread(write_dicom_xa(tmp_path / "b.dcm", frames, fps=10))

    for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "StudyInstanceUID"):
        assert first.get(keyword) != second.get(keyword)


def test_write_dicom_xa_stores_16_bit_values_with_the_given_bit_depth(tmp_path: Path) -> None:
    frames = (smooth_frames(3, 16, 24).astype(np.uint16) * 16) + 3  # 12-bit values

    path = write_dicom_xa(tmp_path / "deep.dcm", frames, fps=15, bits_stored=12)

    dataset = pydicom.dcmread(path)
    assert (dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit) == (16, 12, 11)
    assert np.array_equal(dataset.pixel_array, frames)


@pytest.mark.parametrize(
    ("frames", "fps", "message"),
    [
        (np.zeros((4, 4), np.uint8), 10, "shape"),
        (np.zeros((0, 4, 4), np.uint8), 10, "shape"),
        (np.zeros((2, 4, 4), np.float32), 10, "float32"),
        (np.zeros((2, 4, 4), np.uint8), 0, "fps"),
        (np.zeros((2, 4, 4), np.uint8), float("nan"), "fps"),
    ],
)
def test_writers_refuse_bad_frames_and_rates(
    tmp_path: Path, frames: np.ndarray, fps: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_dicom_xa(tmp_path / "x.dcm", frames, fps=fps)
    with pytest.raises(ValueError, match=message):
        write_avi(tmp_path / "x.avi", frames, fps=fps)
    assert list(tmp_path.iterdir()) == []


def test_write_dicom_xa_refuses_unknown_patient_keywords(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NotAKeyword"):
        write_dicom_xa(tmp_path / "x.dcm", smooth_frames(1, 4, 4), 10, patient={"NotAKeyword": "x"})


def test_write_frame_folder_names_frames_from_0000_and_keeps_16_bit(tmp_path: Path) -> None:
    frames = smooth_frames(11, 12, 10, dtype=np.uint16)

    folder = write_frame_folder(tmp_path / "frames", frames)

    names = sorted(path.name for path in folder.iterdir())
    assert names == [f"{index:04d}.png" for index in range(11)]
    tenth = cv2.imread(str(folder / "0010.png"), cv2.IMREAD_UNCHANGED)
    assert tenth.dtype == np.uint16
    assert np.array_equal(tenth, frames[10])
    assert [path.name for path in tmp_path.iterdir()] == ["frames"]


def test_write_frame_folder_fills_an_empty_folder_but_refuses_a_used_one(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write_frame_folder(empty, smooth_frames(2, 4, 4))
    assert len(list(empty.iterdir())) == 2

    with pytest.raises(FileExistsError):
        write_frame_folder(empty, smooth_frames(3, 4, 4))
    assert len(list(empty.iterdir())) == 2
