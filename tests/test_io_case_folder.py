"""Case folders (DESIGN.md contract): resolving the one video source and the label files,
the errors for broken layouts, and that loading never writes into the case."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import Case, is_case_folder, open_case
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder


def gradient_frames(count: int = 3, height: int = 24, width: int = 32) -> np.ndarray:
    columns = np.linspace(30, 220, width)
    return np.stack([np.tile(columns + 10 * index, (height, 1)) for index in range(count)]).astype(
        np.uint8
    )


def write_source(case: Path, kind: str) -> Path:
    """Write one video source of ``kind`` into ``case`` the way the contract names it."""
    frames = gradient_frames()
    if kind == "avi":
        return write_avi(case / "video.avi", frames, fps=10)
    if kind == "dicom":
        return write_dicom_xa(case / "video.dcm", frames, fps=10)
    return write_frame_folder(case / "frames", frames)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every entry below ``folder``: files with their bytes and modification time."""
    return {
        str(path.relative_to(folder)): (
            (path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else None
        )
        for path in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize(
    ("kind", "source_format"), [("avi", "avi"), ("dicom", "dicom"), ("frames", "frames")]
)
def test_load_video_of_a_case_folder_loads_its_one_source(
    tmp_path: Path, kind: str, source_format: str
) -> None:
    case = tmp_path / "case_007"
    source = write_source(case, kind)

    video = load_video(case)

    assert video.source_format == source_format
    assert video.source == source
    assert video.frames.shape == gradient_frames().shape


def test_open_case_maps_label_files_by_frame_index(tmp_path: Path) -> None:
    case = tmp_path / "HCC-12"
    source = write_source(case, "dicom")
    labels = case / "labels"
    labels.mkdir()
    for name in ("0012.json", "0012.png", "0013.json", "0000.json", "notes.json", "12.json"):
        (labels / name).write_text("{}")

    opened = open_case(case)

    assert opened == Case(
        case_id="HCC-12",
        root=case,
        video_path=source,
        label_files={0: labels / "0000.json", 12: labels / "0012.json", 13: labels / "0013.json"},
    )
    assert list(opened.label_files) == [0, 12, 13]


def test_a_case_without_labels_has_no_label_files(tmp_path: Path) -> None:
    write_source(tmp_path / "c", "avi")

    assert open_case(tmp_path / "c").label_files == {}


def test_a_case_with_two_sources_names_both(tmp_path: Path) -> None:
    case = tmp_path / "case"
    write_source(case, "avi")
    write_source(case, "frames")

    with pytest.raises(InputError, match=r"2 video sources \(video.avi and frames/\)") as caught:
        load_video(case)
    assert caught.value.source == str(case)


def test_a_case_without_a_source_lists_what_it_holds(tmp_path: Path) -> None:
    case = tmp_path / "case"
    (case / "labels").mkdir(parents=True)
    (case / "video.mov").write_bytes(b"not in the contract")

    assert is_case_folder(case)
    with pytest.raises(InputError, match="no video source") as caught:
        open_case(case)
    message = str(caught.value)
    assert "labels, video.mov" in message
    assert "video.avi, video.mp4, video.dcm or frames/" in message


def test_open_case_refuses_a_file_and_a_missing_folder(tmp_path: Path) -> None:
    avi = write_source(tmp_path, "avi")

    with pytest.raises(InputError, match="must be a folder"):
        open_case(avi)
    with pytest.raises(InputError, match="no such case folder"):
        open_case(tmp_path / "missing")


def test_is_case_folder(tmp_path: Path) -> None:
    write_source(tmp_path / "case", "dicom")
    plain = tmp_path / "plain"
    plain.mkdir()
    (tmp_path / "file.txt").write_text("x")

    assert is_case_folder(tmp_path / "case")
    assert not is_case_folder(plain)
    assert not is_case_folder(tmp_path / "file.txt")
    assert not is_case_folder(tmp_path / "missing")


@pytest.mark.parametrize("kind", ["avi", "dicom", "frames"])
def test_loading_a_case_writes_nothing_into_it(tmp_path: Path, kind: str) -> None:
    case = tmp_path / "case"
    write_source(case, kind)
    (case / "labels").mkdir()
    (case / "labels" / "0001.json").write_text("{}")
    before = snapshot(case)

    load_video(case)

    assert snapshot(case) == before
