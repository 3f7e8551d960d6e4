"""The per-frame annotation store and loading a labels folder into it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dsaviewer.core.annotation import AnnotationStore, FrameAnnotation, load_annotations
from dsaviewer.io.frame_labels import PREDICTION_FLAG, write_frame_labels

SHAPE = (30, 40)


def some_masks() -> dict[str, np.ndarray]:
    tumor = np.zeros(SHAPE, bool)
    tumor[5:9, 6:12] = True
    liver = np.zeros(SHAPE, bool)
    liver[2:25, 3:35] = True
    return {"tumor": tumor, "liver": liver}


def test_store_holds_only_annotated_frames():
    store = AnnotationStore(10, SHAPE)
    assert store.get(4) is None and store.frames() == []
    annotation = store.ensure(4)
    assert annotation.is_empty() and set(annotation.masks) == {"tumor", "liver"}
    assert store.ensure(4) is annotation and store.frames() == [4] and 4 in store
    with pytest.raises(IndexError):
        store.ensure(10)
    with pytest.raises(ValueError, match="bool"):
        store.put(1, FrameAnnotation({"tumor": np.zeros(SHAPE, np.uint8)}))


def test_flags_to_save_drop_the_prediction_flag_and_set_the_key_frame():
    annotation = FrameAnnotation(
        some_masks(), flags={"key_frame": True, PREDICTION_FLAG: True, "difficult": True}
    )
    assert annotation.flags_to_save(False) == {"difficult": True, "key_frame": False}


def test_loading_reports_what_it_cannot_use(tmp_path):
    labels = tmp_path / "labels"
    image = np.zeros(SHAPE, np.uint8)
    write_frame_labels(labels, 1, image, some_masks(), {"key_frame": True})
    other = write_frame_labels(labels, 2, image, some_masks(), {})
    document = json.loads(other.read_text())
    document["shapes"].append(
        {"label": "catheter", "points": [[1, 1], [5, 5]], "shape_type": "line"}
    )
    other.write_text(json.dumps(document))
    write_frame_labels(labels, 3, np.zeros((10, 10), np.uint8), {})  # another image size
    write_frame_labels(labels, 30, image, some_masks())  # beyond the video
    (labels / "0004.json").write_text("{broken")

    loaded = load_annotations(labels, 12, SHAPE)
    assert loaded.store.frames() == [1, 2]
    for frame in (1, 2):
        assert np.array_equal(loaded.store.get(frame).masks["tumor"], some_masks()["tumor"])
    assert loaded.store.get(1).flags == {"key_frame": True}
    assert loaded.store.get(2).kept_shapes[0]["label"] == "catheter"
    text = "\n".join(loaded.problems)
    assert len(loaded.problems) == 4
    for fragment in ("'catheter'", "10x10", "beyond", "0004.json"):
        assert fragment in text
    assert load_annotations(tmp_path / "absent", 5, SHAPE).store.frames() == []
