"""AVI and MP4 files through load_video, good and bad, and the file-type checks of load_video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi


def moving_blob_frames(count: int, height: int, width: int) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    frames = np.empty((count, height, width), dtype=np.uint8)
    for index in range(count):
        blob = np.exp(-((rows - height / 2) ** 2 + (columns - 4 * index - 8) ** 2) / 80.0)
        frames[index] = np.round(40 + 100 * columns / width + 100 * blob).astype(np.uint8)
    return frames


def write_colour_avi(path: Path, frames_bgr: np.ndarray, fps: float) -> None:
    height, width = frames_bgr.shape[1:3]
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height)
    )
    for frame in frames_bgr:
        writer.write(frame)
    writer.release()


def test_avi_loads_as_contiguous_grey_uint8_with_fps_and_format(tmp_path: Path) -> None:
    frames = moving_blob_frames(9, 40, 52)
    path = write_avi(tmp_path / "run.avi", frames, fps=15)

    video = load_video(path)

    assert video.source_format == "avi"
    assert video.source == path
    assert video.frames.dtype == np.uint8
    assert video.frames.flags.c_contiguous
    assert video.frames.shape == (9, 40, 52)
    assert video.bits_stored == 8
    assert video.fps == pytest.approx(15.0)
    assert video.pixel_spacing_mm is None
    assert video.metadata["Codec"] == "MJPG"
    # MJPEG tolerance: 6 grey levels at any pixel.
    assert np.abs(video.frames.astype(int) - frames.astype(int)).max() <= 6


def test_colour_avi_is_converted_to_grey(tmp_path: Path) -> None:
    grey = moving_blob_frames(4, 32, 48)
    colour = np.stack([grey // 2, grey, np.full_like(grey, 200)], axis=-1)  # B, G, R differ
    path = tmp_path / "colour.avi"
    write_colour_avi(path, colour, fps=10)

    video = load_video(path)

    expected = np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) for frame in colour])
    assert video.frames.shape == grey.shape
    assert np.abs(video.frames.astype(int) - expected.astype(int)).max() <= 6


def test_mp4_loads_with_its_frame_rate(tmp_path: Path) -> None:
    frames = moving_blob_frames(12, 48, 64)
    path = tmp_path / "run.mp4"
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"mp4v"), 12.5, (64, 48)
    )
    if not writer.isOpened():
        pytest.skip("this OpenCV build has no MPEG-4 encoder to make the test file")
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()

    video = load_video(path)

    assert video.source_format == "mp4"
    assert video.frames.shape == frames.shape
    assert video.fps == pytest.approx(12.5)
    # MPEG-4 part 2 is lossier than MJPEG; the picture must still be the same one.
    assert np.abs(video.frames.astype(float) - frames).mean() < 4


def test_avi_cut_in_half_is_reported_as_truncated(tmp_path: Path) -> None:
    whole = write_avi(tmp_path / "whole.avi", moving_blob_frames(20, 32, 40), fps=10)
    cut = tmp_path / "cut.avi"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])

    with pytest.raises(InputError, match="truncated") as caught:
        load_video(cut)
    assert caught.value.source == str(cut)
    assert "declares 20 frames" in str(caught.value)


def test_avi_of_junk_bytes_is_reported_as_unreadable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.avi"
    junk.write_bytes(np.random.default_rng(3).integers(0, 256, 4096, dtype=np.uint8).tobytes())

    with pytest.raises(InputError, match="not a readable AVI file"):
        load_video(junk)


def test_avi_without_frames_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "zero.avi"
    write_colour_avi(path, np.zeros((0, 16, 16, 3), np.uint8), fps=10)

    with pytest.raises(InputError, match="no decodable frames|cannot be opened"):
        load_video(path)


def test_empty_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.touch()

    with pytest.raises(InputError, match="empty"):
        load_video(path)


def test_missing_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file") as caught:
        load_video(tmp_path / "nowhere.avi")
    assert caught.value.source == str(tmp_path / "nowhere.avi")


def test_unknown_file_type_names_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a video")

    with pytest.raises(InputError, match="unsupported file type '.txt'") as caught:
        load_video(path)
    for suffix in (".avi", ".mp4", ".dcm"):
        assert suffix in str(caught.value)


def test_loading_does_not_touch_the_file(tmp_path: Path) -> None:
    path = write_avi(tmp_path / "run.avi", moving_blob_frames(3, 16, 16), fps=5)
    before = (path.read_bytes(), path.stat().st_mtime_ns)

    load_video(path)

    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert [entry.name for entry in tmp_path.iterdir()] == ["run.avi"]
