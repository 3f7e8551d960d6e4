"""DICOM sources through load_video: the real public files, every tag variant for frame rate
and spacing, polarity and bit depth, and the bad cases."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from dicom_samples import ramp_frames, save, xa_dataset
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID, JPEG2000Lossless

from dsaviewer.errors import InputError
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_dicom_xa

REAL_FILES = {
    "XA-MONO2-8-12x-catheter.dcm": (12, 512, 512, np.uint8, 8, 1000 / 33),
    "US-MONO2-8-8x-execho.dcm": (8, 120, 128, np.uint8, 8, 10.0),
    "emri_small.dcm": (10, 64, 64, np.uint16, 12, None),
}


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_files_load_with_their_frames_rate_and_depth(
    shared_dicom_dir: Path, name: str
) -> None:
    count, rows, columns, dtype, bits, fps = REAL_FILES[name]
    path = shared_dicom_dir / name

    video = load_video(path)

    assert video.source_format == "dicom"
    assert video.frames.shape == (count, rows, columns)
    assert video.frames.dtype == dtype
    assert video.frames.flags.c_contiguous
    assert video.bits_stored == bits
    assert video.fps == (None if fps is None else pytest.approx(fps))
    assert np.array_equal(video.frames, pydicom.dcmread(path).pixel_array)
    assert int(video.frames.max()) <= video.max_value


def test_real_xa_file_gives_its_display_metadata(shared_dicom_dir: Path) -> None:
    video = load_video(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm")

    assert video.metadata["Modality"] == "XA"
    assert video.metadata["PatientName"] == "Anonymized"
    assert video.metadata["Manufacturer"] == "Acme Products"
    assert video.metadata["SeriesDescription"] == "Directional Coronary Atherectomy"
    assert all(isinstance(value, str) and value for value in video.metadata.values())


def test_written_8_bit_xa_round_trips_exactly(tmp_path: Path) -> None:
    frames = ramp_frames(5, 17, 23)
    path = write_dicom_xa(
        tmp_path / "run.dcm",
        frames,
        fps=7.5,
        pixel_spacing_mm=(0.3, 0.2),
        patient={"PatientName": "Doe^Jane", "StudyDate": "20240102"},
    )

    video = load_video(path)

    assert np.array_equal(video.frames, frames)
    assert video.frames.dtype == np.uint8
    assert video.fps == pytest.approx(7.5)
    assert video.pixel_spacing_mm == pytest.approx((0.3, 0.2))
    assert video.metadata["PatientName"] == "Doe^Jane"
    assert video.metadata["StudyDate"] == "20240102"


def test_written_12_bit_xa_round_trips_exactly_as_uint16(tmp_path: Path) -> None:
    frames = ramp_frames(4, 16, 20, top=4095)
    path = write_dicom_xa(tmp_path / "deep.dcm", frames, fps=15, bits_stored=12)

    video = load_video(path)

    assert video.frames.dtype == np.uint16
    assert video.bits_stored == 12
    assert np.array_equal(video.frames, frames)


@pytest.mark.parametrize(("top", "bits"), [(255, 8), (4095, 12)])
def test_monochrome1_is_inverted_to_monochrome2(tmp_path: Path, top: int, bits: int) -> None:
    stored = ramp_frames(3, 10, 12, top=top)
    path = write_dicom_xa(
        tmp_path / "m1.dcm", stored, fps=10, bits_stored=bits, monochrome="MONOCHROME1"
    )

    video = load_video(path)

    assert video.frames.dtype == stored.dtype
    assert np.array_equal(video.frames, top - stored)


def test_bits_above_bits_stored_are_ignored(tmp_path: Path) -> None:
    values = ramp_frames(2, 8, 8, top=4095)
    dataset = xa_dataset(tmp_path, values, bits_stored=12)
    dataset.PixelData = (values | 0xF000).astype("<u2").tobytes()  # overlay bits set

    video = load_video(save(dataset, tmp_path / "overlay.dcm"))

    assert np.array_equal(video.frames, values)


def test_signed_pixels_are_shifted_to_unsigned_keeping_order(tmp_path: Path) -> None:
    signed = (ramp_frames(2, 6, 6, top=4095).astype(np.int16) - 2048).astype(np.int16)
    dataset = xa_dataset(tmp_path, np.zeros(signed.shape, np.uint16), bits_stored=12)
    dataset.PixelRepresentation = 1
    dataset.PixelData = signed.astype("<i2").tobytes()

    video = load_video(save(dataset, tmp_path / "signed.dcm"))

    assert video.frames.dtype == np.uint16
    assert np.array_equal(video.frames.astype(int), signed.astype(int) + 2048)


def test_integer_rescale_is_applied(tmp_path: Path) -> None:
    frames = ramp_frames(2, 6, 6)
    dataset = xa_dataset(tmp_path, frames)
    dataset.RescaleSlope = "2"
    dataset.RescaleIntercept = "10"

    video = load_video(save(dataset, tmp_path / "rescaled.dcm"))

    assert video.frames.dtype == np.uint16
    assert np.array_equal(video.frames, frames.astype(np.uint16) * 2 + 10)
    assert int(video.frames.max()) <= video.max_value
    assert video.max_value >= 255 * 2 + 10


@pytest.mark.parametrize(("slope", "intercept"), [("0.5", "0"), ("1", "-1024"), ("1", "0.5")])
def test_rescale_that_would_leave_unsigned_integers_is_not_applied(
    tmp_path: Path, slope: str, intercept: str
) -> None:
    frames = ramp_frames(2, 6, 6)
    dataset = xa_dataset(tmp_path, frames)
    dataset.RescaleSlope = slope
    dataset.RescaleIntercept = intercept

    video = load_video(save(dataset, tmp_path / "kept.dcm"))

    assert np.array_equal(video.frames, frames)
    assert video.bits_stored == 8


def _without_rate_tags(dataset: Dataset) -> Dataset:
    for keyword in ("FrameTime", "CineRate", "RecommendedDisplayFrameRate", "FrameTimeVector"):
        if keyword in dataset:
            delattr(dataset, keyword)
    return dataset


@pytest.mark.parametrize(
    ("tags", "fps"),
    [
        ({"FrameTime": "40"}, 25.0),
        ({"FrameTimeVector": ["0", "50", "50", "50"]}, 20.0),
        ({"CineRate": "12"}, 12.0),
        ({"RecommendedDisplayFrameRate": "6"}, 6.0),
        ({"FrameTime": "0", "CineRate": "8"}, 8.0),  # an unusable FrameTime falls through
        ({"FrameTime": "125", "CineRate": "30"}, 8.0),  # FrameTime wins over CineRate
        ({}, None),
    ],
)
def test_frame_rate_comes_from_each_tag_variant(
    tmp_path: Path, tags: dict, fps: float | None
) -> None:
    dataset = _without_rate_tags(xa_dataset(tmp_path, ramp_frames(4, 4, 4)))
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)

    video = load_video(save(dataset, tmp_path / "rate.dcm"))

    assert video.fps == (None if fps is None else pytest.approx(fps))


def _item(**elements: object) -> Dataset:
    item = Dataset()
    for keyword, value in elements.items():
        setattr(item, keyword, value)
    return item


@pytest.mark.parametrize(
    ("tags", "spacing"),
    [
        ({"ImagerPixelSpacing": ["0.15", "0.2"]}, (0.15, 0.2)),
        ({"PixelSpacing": ["0.3", "0.4"]}, (0.3, 0.4)),
        ({"ImagerPixelSpacing": ["0.15", "0.2"], "PixelSpacing": ["0.3", "0.4"]}, (0.15, 0.2)),
        (
            {
                "SharedFunctionalGroupsSequence": [
                    _item(PixelMeasuresSequence=[_item(PixelSpacing=["0.5", "0.6"])])
                ]
            },
            (0.5, 0.6),
        ),
        (
            {
                "PerFrameFunctionalGroupsSequence": [
                    _item(
                        FramePixelDataPropertiesSequence=[_item(ImagerPixelSpacing=["0.7", "0.8"])]
                    )
                ]
            },
            (0.7, 0.8),
        ),
        ({"PixelSpacing": ["0", "0.4"]}, None),  # a zero spacing is not a spacing
        ({}, None),
    ],
)
def test_pixel_spacing_comes_from_each_tag_variant(
    tmp_path: Path, tags: dict, spacing: tuple[float, float] | None
) -> None:
    dataset = xa_dataset(tmp_path, ramp_frames(2, 4, 4))
    for keyword, value in tags.items():
        setattr(dataset, keyword, value)

    video = load_video(save(dataset, tmp_path / "spacing.dcm"))

    assert video.pixel_spacing_mm == (None if spacing is None else pytest.approx(spacing))


def test_rgb_dicom_is_converted_to_grey(tmp_path: Path) -> None:
    rgb = np.stack(
        [ramp_frames(2, 6, 8), ramp_frames(2, 6, 8)[:, ::-1], np.full((2, 6, 8), 90, np.uint8)],
        axis=-1,
    )
    dataset = xa_dataset(tmp_path, ramp_frames(2, 6, 8))
    dataset.SamplesPerPixel = 3
    dataset.PhotometricInterpretation = "RGB"
    dataset.PlanarConfiguration = 0
    dataset.PixelData = np.ascontiguousarray(rgb).tobytes()

    video = load_video(save(dataset, tmp_path / "rgb.dcm"))

    expected = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in rgb])
    assert np.array_equal(video.frames, expected)


def test_dicom_file_without_suffix_is_recognised(tmp_path: Path) -> None:
    frames = ramp_frames(3, 5, 5)
    path = write_dicom_xa(tmp_path / "IM0001", frames, fps=10)

    assert np.array_equal(load_video(path).frames, frames)


def test_undecodable_transfer_syntax_names_the_codec(tmp_path: Path) -> None:
    dataset = xa_dataset(tmp_path, ramp_frames(2, 8, 8))
    dataset.file_meta.TransferSyntaxUID = JPEG2000Lossless
    dataset.PixelData = encapsulate([b"\xff\x4f\xff\x51 not a codestream"] * 2)
    dataset["PixelData"].VR = "OB"
    path = save(dataset, tmp_path / "j2k.dcm")

    with pytest.raises(InputError, match="JPEG 2000") as caught:
        load_video(path)
    assert caught.value.source == str(path)


def test_unknown_transfer_syntax_is_named(tmp_path: Path) -> None:
    dataset = xa_dataset(tmp_path, ramp_frames(2, 8, 8))
    dataset.file_meta.TransferSyntaxUID = UID("1.2.3.4.5.6.7")
    path = save(dataset, tmp_path / "unknown.dcm")

    with pytest.raises(InputError, match=r"1\.2\.3\.4\.5\.6\.7.*no DICOM codec"):
        load_video(path)


def test_dicom_without_pixel_data_is_reported(tmp_path: Path) -> None:
    dataset = xa_dataset(tmp_path, ramp_frames(2, 8, 8))
    del dataset.PixelData
    path = save(dataset, tmp_path / "no_pixels.dcm")

    with pytest.raises(InputError, match="no pixel data"):
        load_video(path)


def test_palette_colour_is_refused_by_name(tmp_path: Path) -> None:
    dataset = xa_dataset(tmp_path, ramp_frames(2, 8, 8))
    dataset.PhotometricInterpretation = "PALETTE COLOR"

    with pytest.raises(InputError, match="PALETTE COLOR"):
        load_video(save(dataset, tmp_path / "palette.dcm"))


def test_text_file_named_dcm_is_not_dicom(tmp_path: Path) -> None:
    path = tmp_path / "fake.dcm"
    path.write_text("this is a note, not an image\n" * 20)

    with pytest.raises(InputError, match="DICOM"):
        load_video(path)


def test_truncated_dicom_is_reported(tmp_path: Path) -> None:
    whole = write_dicom_xa(tmp_path / "whole.dcm", ramp_frames(6, 32, 32), fps=10)
    cut = tmp_path / "cut.dcm"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) - 3000])

    with pytest.raises(InputError) as caught:
        load_video(cut)
    assert caught.value.source == str(cut)


def test_dicom_without_file_meta_reads_by_suffix(tmp_path: Path) -> None:
    # Old exports: no preamble, no file meta; only the .dcm suffix says what it is.
    frames = ramp_frames(2, 4, 4)
    dataset = xa_dataset(tmp_path, frames)
    dataset.file_meta = FileMetaDataset()
    dataset.preamble = None
    path = tmp_path / "raw.dcm"
    dataset.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert path.read_bytes()[128:132] != b"DICM"

    assert np.array_equal(load_video(path).frames, frames)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs POSIX permissions, not root"
)
def test_unreadable_file_is_reported_not_raised_as_os_error(tmp_path: Path) -> None:
    path = write_dicom_xa(tmp_path / "locked.dcm", ramp_frames(2, 4, 4), fps=10)
    path.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot be read: Permission denied"):
            load_video(path)
    finally:
        path.chmod(0o644)
