"""Folders of still frames through load_video: order, bit depth, colour, and bad folders."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa, write_frame_folder


def distinct_frames(count: int, height: int, width: int, dtype=np.uint8) -> np.ndarray:
    """Every frame a different constant plus a ramp, so order mistakes show."""
    ramp = np.arange(height * width).reshape(height, width) % 50
    scale = 1 if dtype == np.uint8 else 1000
    return np.stack([(ramp + 60 * index) * scale for index in range(count)]).astype(dtype)


def save_image(path: Path, image: np.ndarray) -> None:
    ok, encoded = cv2.imencode(path.suffix, image)
    assert ok
    path.write_bytes(encoded.tobytes())


def test_written_frame_folder_round_trips_exactly(tmp_path: Path) -> None:
    frames = distinct_frames(4, 9, 11)
    folder = write_frame_folder(tmp_path / "frames", frames)

    video = load_video(folder)

    assert video.source_format == "frames"
    assert video.source == folder
    assert video.frames.dtype == np.uint8
    assert video.frames.flags.c_contiguous
    assert video.bits_stored == 8
    assert video.fps is None
    assert np.array_equal(video.frames, frames)


def test_16_bit_pngs_stay_uint16(tmp_path: Path) -> None:
    frames = distinct_frames(3, 5, 6, dtype=np.uint16)
    folder = write_frame_folder(tmp_path / "frames", frames)

    video = load_video(folder)

    assert video.frames.dtype == np.uint16
    assert video.bits_stored == 16
    assert int(video.frames.max()) > 255
    assert np.array_equal(video.frames, frames)


def test_frames_are_in_natural_order(tmp_path: Path) -> None:
    frames = distinct_frames(12, 4, 4)
    folder = tmp_path / "export"
    folder.mkdir()
    for index, frame in enumerate(frames):
        save_image(folder / f"Frame{index + 1}.png", frame)  # Frame1 .. Frame12

    video = load_video(folder)

    assert np.array_equal(video.frames, frames)  # Frame2 before Frame10


def test_png_jpeg_and_tiff_frames_load_together_and_colour_becomes_grey(tmp_path: Path) -> None:
    grey = distinct_frames(3, 16, 16)
    folder = tmp_path / "mixed"
    folder.mkdir()
    save_image(folder / "01.png", cv2.cvtColor(grey[0], cv2.COLOR_GRAY2BGR))
    save_image(folder / "02.tif", grey[1])
    save_image(folder / "03.jpg", grey[2])
    (folder / ".DS_Store").write_bytes(b"finder junk")
    (folder / "notes.txt").write_text("ignored")

    video = load_video(folder)

    assert video.frames.shape == (3, 16, 16)
    assert np.array_equal(video.frames[:2], grey[:2])
    assert np.abs(video.frames[2].astype(int) - grey[2]).max() <= 8  # JPEG


def test_a_frame_of_another_size_names_the_first_offending_file(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    save_image(folder / "f1.png", np.zeros((8, 8), np.uint8))
    save_image(folder / "f2.png", np.zeros((8, 8), np.uint8))
    save_image(folder / "f3.png", np.zeros((8, 9), np.uint8))
    save_image(folder / "f10.png", np.zeros((7, 8), np.uint8))

    with pytest.raises(InputError, match="9×8 differs from 8×8 of f1.png") as caught:
        load_video(folder)
    assert caught.value.source == str(folder / "f3.png")


def test_mixed_bit_depths_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    save_image(folder / "0.png", np.zeros((4, 4), np.uint8))
    save_image(folder / "1.png", np.zeros((4, 4), np.uint16))

    with pytest.raises(InputError, match="16-bit image among 8-bit") as caught:
        load_video(folder)
    assert caught.value.source == str(folder / "1.png")


def test_a_damaged_image_is_named(tmp_path: Path) -> None:
    folder = write_frame_folder(tmp_path / "frames", distinct_frames(3, 4, 4))
    (folder / "0001.png").write_bytes(b"\x89PNG broken")

    with pytest.raises(InputError, match="cannot be decoded") as caught:
        load_video(folder)
    assert caught.value.source == str(folder / "0001.png")


def test_a_folder_without_any_video_says_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("nothing here")

    with pytest.raises(InputError, match="holds no video") as caught:
        load_video(tmp_path)
    assert ".png" in str(caught.value)
    assert "video.avi" in str(caught.value)


def test_a_folder_mixing_dicom_files_and_images_is_refused(tmp_path: Path) -> None:
    write_frame_folder(tmp_path / "mixed", distinct_frames(2, 4, 4))
    write_dicom_xa(tmp_path / "mixed" / "run.dcm", distinct_frames(2, 4, 4), fps=10)

    with pytest.raises(InputError, match="mixes 1 DICOM files and 2 image files"):
        load_video(tmp_path / "mixed")
