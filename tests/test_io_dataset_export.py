"""Exporting cases into one training-ready dataset: layout, labels, merged clinical.csv,
links versus copies, sources untouched, and refusals that leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.case_state import CaseState, write_case_state
from dsaviewer.io.clinical import ClinicalRow, parse_clinical, read_clinical_csv, write_clinical_csv
from dsaviewer.io.dataset_export import ExportCancelled, case_folders_in, export_dataset
from dsaviewer.io.frame_labels import read_frame_labels, write_frame_labels, write_prediction_labels
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.writers import write_dicom_xa, write_frame_folder

SHAPE = (24, 32)


def frames(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (4, *SHAPE), dtype=np.uint8)


def label_masks(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"tumor": rng.random(SHAPE) < 0.1, "liver": rng.random(SHAPE) < 0.5}


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``root``: content hash and modification time."""
    return {
        str(path.relative_to(root)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def sources(tmp_path) -> dict[str, Path]:
    """Two datasets: A (clinical.csv; case1 DICOM with labels and values entered in the
    viewer, case2 frame folder with an unchecked prediction), B (case3, no CSV, no labels)."""
    root = tmp_path / "sources"
    a, b = root / "siteA", root / "siteB"
    case1, case2, case3 = a / "case1", a / "case2", b / "case3"
    write_dicom_xa(case1 / "video.dcm", frames(1), fps=7.5)
    write_frame_labels(case1 / "labels", 2, frames(1)[2], label_masks(1), {"key_frame": True})
    write_frame_labels(case1 / "labels", 3, frames(1)[3], label_masks(2), {"key_frame": False})
    entered = parse_clinical({"age": "61", "sex": "F", "afp": "12.5"})
    write_case_state(case1 / "viewer", CaseState(clinical=entered))
    write_frame_folder(case2 / "frames", frames(2))
    predicted = label_masks(3)
    write_prediction_labels(case2, 1, frames(2)[1], predicted["tumor"], predicted["liver"])
    write_frame_folder(case3 / "frames", frames(3))
    write_clinical_csv(
        a / "clinical.csv",
        {
            "case1": ClinicalRow(parse_clinical({"age": "60", "sex": "M", "bclc": "B"}), 1),
            "case2": ClinicalRow(parse_clinical({"age": "70", "hbv": "1"}), 0),
        },
    )
    return {"case1": case1, "case2": case2, "case3": case3, "root": root}


def test_export_builds_a_dataset_training_can_read(sources, tmp_path):
    before = snapshot(sources["root"])
    destination = tmp_path / "export" / "train"
    progress = []
    export = export_dataset(
        [sources["case1"], sources["case2"], sources["case3"]],
        destination,
        on_case=lambda done, total, case_id: progress.append((done, total, case_id)),
    )

    assert progress == [(1, 3, "case1"), (2, 3, "case2"), (3, 3, "case3")]
    assert export.destination == destination and export.clinical_csv.is_file()
    assert case_folders_in(destination) == [destination / f"case{n}" for n in (1, 2, 3)]
    for case in export.cases:
        source, exported = open_case(case.source), open_case(case.destination)
        assert exported.video_path.name == source.video_path.name
        assert list(exported.label_files) == list(source.label_files) == list(case.label_frames)
        for frame, path in exported.label_files.items():
            ours, theirs = read_labelme(path), read_labelme(source.label_files[frame])
            assert ours.flags == theirs.flags
            for label in ("tumor", "liver"):
                assert np.array_equal(ours.masks[label], theirs.masks[label])
            assert ours.image_path.read_bytes() == theirs.image_path.read_bytes()
    assert not (destination / "case1" / "viewer").exists()  # viewer state is not training data

    table = read_clinical_csv(export.clinical_csv)
    assert list(table) == ["case1", "case2", "case3"]
    assert table["case1"].variables == parse_clinical({"age": "61", "sex": "F", "afp": "12.5"})
    assert table["case1"].response == 1  # the response only the CSV knows
    assert table["case2"].variables.hbv == 1 and table["case2"].response == 0
    assert table["case3"].variables.age is None and table["case3"].response is None

    warnings = {case.case_id: case.warnings for case in export.cases}
    assert warnings["case1"] == ()
    assert any("checked" in warning for warning in warnings["case2"])
    assert warnings["case3"] == ()
    assert snapshot(sources["root"]) == before  # the sources were only read


def test_videos_are_hard_linked_labels_copied_and_copies_on_request(sources, tmp_path):
    linked = export_dataset([sources["case1"], sources["case2"]], tmp_path / "linked")
    copied = export_dataset([sources["case1"]], tmp_path / "copied", link_videos=False)
    video = sources["case1"] / "video.dcm"
    assert linked.cases[0].video_linked and not copied.cases[0].video_linked
    assert (tmp_path / "linked/case1/video.dcm").stat().st_ino == video.stat().st_ino
    assert (tmp_path / "copied/case1/video.dcm").stat().st_ino != video.stat().st_ino
    frame = sources["case2"] / "frames" / "0000.png"
    assert (tmp_path / "linked/case2/frames/0000.png").stat().st_ino == frame.stat().st_ino

    # Labelme saves in place: editing an exported label must not reach the source.
    exported = tmp_path / "linked" / "case1" / "labels" / "0002.json"
    source_label = sources["case1"] / "labels" / "0002.json"
    original = source_label.read_bytes()
    with exported.open("r+b") as handle:
        handle.write(b" ")
    assert source_label.read_bytes() == original


def test_warnings_name_missing_or_repeated_key_frames_and_other_labels(tmp_path):
    case = tmp_path / "data" / "case9"
    write_frame_folder(case / "frames", frames(9))
    for frame in (0, 1):
        write_frame_labels(case / "labels", frame, frames(9)[frame], label_masks(frame),
                           {"key_frame": True})
    path = case / "labels" / "0001.json"
    document = json.loads(path.read_text())
    document["shapes"].append({"label": "vessel", "points": [[1, 1], [4, 1], [4, 4]],
                               "shape_type": "polygon"})
    path.write_text(json.dumps(document))
    (export_case,) = export_dataset([case], tmp_path / "out").cases
    text = " | ".join(export_case.warnings)
    assert "frames [0, 1] are flagged" in text and "'vessel'" in text
    assert read_frame_labels(tmp_path / "out/case9/labels/0001.json").kept_shapes


def leftovers(parent: Path) -> list[str]:
    return [path.name for path in parent.iterdir() if path.name.endswith(".part")]


@pytest.mark.parametrize("problem", ["duplicate", "not empty", "inside", "broken label", "no case"])
def test_refusals_write_nothing(sources, tmp_path, problem):
    destination = tmp_path / "out"
    cases = [sources["case1"], sources["case3"]]
    message = {
        "duplicate": "two cases are named",
        "not empty": "not an empty folder",
        "inside": "outside the case folders",
        "broken label": "cannot be read",
        "no case": "no video source",
    }[problem]
    if problem == "duplicate":
        twin = sources["root"] / "siteC" / "case1"
        write_frame_folder(twin / "frames", frames(5))
        cases.append(twin)
    elif problem == "not empty":
        destination.mkdir()
        (destination / "keep.txt").write_text("mine")
    elif problem == "inside":
        destination = sources["case3"] / "export"
    elif problem == "broken label":
        (sources["case3"] / "labels").mkdir()
        (sources["case3"] / "labels" / "0001.json").write_text("{broken")
    else:
        (sources["root"] / "empty").mkdir()
        cases.append(sources["root"] / "empty")
    before = snapshot(sources["root"])

    with pytest.raises(InputError, match=message):
        export_dataset(cases, destination)
    assert snapshot(sources["root"]) == before
    if problem == "not empty":
        assert [p.name for p in destination.iterdir()] == ["keep.txt"]
    else:
        assert not destination.exists()
    assert leftovers(destination.parent) == []


def test_cancelling_leaves_nothing_behind(sources, tmp_path):
    cancel = threading.Event()
    with pytest.raises(ExportCancelled, match="after 1 of 3"):
        export_dataset(
            [sources["case1"], sources["case2"], sources["case3"]],
            tmp_path / "out",
            on_case=lambda done, total, case_id: cancel.set(),
            cancel=cancel,
        )
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_case_folders_in_lists_only_cases(sources):
    site = sources["case1"].parent
    (site / "notes").mkdir()
    assert case_folders_in(site) == [sources["case1"], sources["case2"]]
    with pytest.raises(InputError, match="not a folder"):
        case_folders_in(site / "clinical.csv")
