"""Per-frame Labelme files: exact round trip, shapes the viewer does not edit survive a save,
key-frame flags, model predictions, and where a case's labels live."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from dsaviewer.core.annotation import load_annotations
from dsaviewer.errors import InputError
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.frame_labels import (
    PREDICTION_FLAG,
    frame_label_files,
    label_json_path,
    labels_folder_for,
    read_frame_labels,
    update_label_flags,
    write_frame_labels,
    write_prediction_labels,
)
from dsaviewer.io.user_data import video_data_folder
from dsaviewer.io.writers import write_frame_folder

SHAPE = (70, 90)


def masks(seed: int = 0) -> dict[str, np.ndarray]:
    """Hand-corrected looking masks: blobs with holes, bites and single pixels."""
    rng = np.random.default_rng(seed)
    liver = np.zeros(SHAPE, np.uint8)
    cv2.ellipse(liver, (45, 35), (38, 25), 10, 0, 360, 1, -1)
    cv2.circle(liver, (30, 30), 4, 0, -1)
    tumor = np.zeros(SHAPE, np.uint8)
    cv2.circle(tumor, (55, 40), 9, 1, -1)
    tumor[rng.integers(0, 70, 6), rng.integers(0, 90, 6)] = 1
    return {"liver": liver.astype(bool), "tumor": tumor.astype(bool)}


def image() -> np.ndarray:
    return np.arange(SHAPE[0] * SHAPE[1], dtype=np.uint16).reshape(SHAPE)


def test_saved_frames_read_back_pixel_for_pixel(tmp_path):
    expected = masks()
    path = write_frame_labels(tmp_path / "labels", 12, image(), expected, {"key_frame": True})
    assert path == tmp_path / "labels" / "0012.json" == label_json_path(tmp_path / "labels", 12)
    labels = read_frame_labels(path)
    assert labels.frame_index == 12 and labels.annotation.is_key_frame
    for label, mask in expected.items():
        assert np.array_equal(labels.annotation.masks[label], mask), label
    assert labels.kept_shapes == () and not labels.is_prediction
    assert frame_label_files(tmp_path / "labels") == {12: path}


def test_other_labels_and_arealess_shapes_are_kept_through_a_save(tmp_path):
    path = write_frame_labels(tmp_path, 3, image(), masks(), {})
    document = json.loads(path.read_text())
    foreign = [
        {"label": "vessel", "points": [[1, 1], [9, 1], [9, 9]], "shape_type": "polygon",
         "group_id": 4, "description": "right hepatic artery", "flags": {}, "mask": None},
        {"label": "tumor", "points": [[20, 20]], "shape_type": "point", "group_id": None,
         "description": "", "flags": {}, "mask": None},
    ]
    document["shapes"] += foreign
    path.write_text(json.dumps(document))

    labels = read_frame_labels(path)
    assert labels.kept_shapes == tuple(foreign)
    assert labels.annotation.unknown_labels == ("vessel",)
    corrected = masks(seed=1)
    write_frame_labels(tmp_path, 3, image(), corrected, {}, labels.kept_shapes)
    again = read_frame_labels(path)
    assert again.kept_shapes == tuple(foreign)
    assert np.array_equal(again.annotation.masks["tumor"], corrected["tumor"])


def test_update_label_flags_leaves_the_shapes_as_written(tmp_path):
    path = write_frame_labels(tmp_path, 0, image(), masks(), {"key_frame": True, "own": True})
    shapes = json.loads(path.read_text())["shapes"]
    update_label_flags(path, {"key_frame": False, "own": True})
    document = json.loads(path.read_text())
    assert document["flags"] == {"key_frame": False, "own": True}
    assert document["shapes"] == shapes
    with pytest.raises(ValueError, match="flags"):
        update_label_flags(path, {"key_frame": "no"})


def test_predictions_are_flagged_and_reported_as_unchecked(tmp_path):
    predicted = masks(seed=2)
    path = write_prediction_labels(
        tmp_path / "out" / "case1", 5, image(), predicted["tumor"], predicted["liver"]
    )
    assert path == tmp_path / "out" / "case1" / "labels" / "0005.json"
    labels = read_frame_labels(path)
    assert labels.is_prediction and labels.annotation.flags == {
        "key_frame": True,
        PREDICTION_FLAG: True,
    }
    read, wanted = labels.annotation.masks["liver"], predicted["liver"]
    iou = np.count_nonzero(read & wanted) / np.count_nonzero(read | wanted)
    assert iou > 0.97  # simplified outlines
    loaded = load_annotations(path.parent, 10, SHAPE)
    assert loaded.unchecked_predictions == (5,)


def test_labels_live_in_the_case_or_in_the_videos_user_folder(tmp_path):
    case = tmp_path / "dataset" / "case3"
    write_frame_folder(case / "frames", np.zeros((2, 4, 4), np.uint8))
    assert labels_folder_for(case) == case / "labels"
    assert labels_folder_for(case / "frames") == case / "labels"
    video = tmp_path / "run.avi"
    video.write_bytes(b"x")
    assert labels_folder_for(video) == video_data_folder(video) / "labels"  # not beside it
    write_frame_labels(labels_folder_for(case), 1, np.zeros((4, 4), np.uint8),
                       {"tumor": np.eye(4, dtype=bool)})
    assert list(open_case(case).label_files) == [1]


def test_misnamed_files_and_bad_indices_are_refused(tmp_path):
    path = write_frame_labels(tmp_path, 1, image(), masks())
    renamed = path.rename(tmp_path / "frame1.json")
    with pytest.raises(InputError, match="NNNN.json"):
        read_frame_labels(renamed)
    with pytest.raises(ValueError, match=">= 0"):
        label_json_path(tmp_path, -1)
    with pytest.raises(ValueError, match="integer"):
        label_json_path(tmp_path, 1.5)
