"""Saving corrected labels changes only what the person changed: files written by another tool
keep their image byte for byte, their untouched polygons as drawn, and a frame whose masks did
not change is not rewritten at all (checked with the real labelme package)."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
from labelme_compat import import_labelme
from PIL import Image

from dsaviewer.core.annotation import load_annotations
from dsaviewer.io.frame_labels import read_frame_labels, write_frame_labels
from dsaviewer.io.labelme import shape_mask

HEIGHT, WIDTH = 240, 320


def smooth_polygon(cx: float, cy: float, rx: float, ry: float, corners: int) -> list:
    """A hand-drawn looking outline: ``corners`` clicks round an ellipse, slightly uneven."""
    rng = np.random.default_rng(corners)
    angles = np.linspace(0, 2 * math.pi, corners, endpoint=False)
    wobble = 1 + 0.04 * rng.standard_normal(corners)
    return [
        [round(cx + rx * w * math.cos(a), 1), round(cy + ry * w * math.sin(a), 1)]
        for a, w in zip(angles, wobble, strict=True)
    ]


def other_tool_case(tmp_path, labelme):
    """labels/0007.json + 0007.png as labelme saves them: 48-, 23- and 30-corner polygons,
    the image written by Pillow (other bytes than our encoder's)."""
    labels = tmp_path / "labels"
    labels.mkdir()
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (HEIGHT, WIDTH), dtype=np.uint8)
    Image.fromarray(image).save(labels / "0007.png", compress_level=9)
    shapes = [
        {"label": "liver", "points": smooth_polygon(160, 120, 120, 90, 48)},
        {"label": "tumor", "points": smooth_polygon(120, 100, 20, 16, 23)},
        {"label": "tumor", "points": smooth_polygon(210, 140, 25, 22, 30)},
    ]
    shapes = [
        s | {"group_id": None, "description": "", "shape_type": "polygon", "flags": {}}
        | {"mask": None}
        for s in shapes
    ]
    path = labels / "0007.json"
    labelme.LabelFile().save(
        str(path), shapes, "0007.png", HEIGHT, WIDTH, imageData=None, flags={"key_frame": True}
    )
    return labels, image, path


@pytest.fixture(scope="module")
def labelme():
    return import_labelme()


def test_a_save_without_changes_writes_nothing(tmp_path, labelme):
    labels, image, path = other_tool_case(tmp_path, labelme)
    before = {p.name: p.read_bytes() for p in labels.iterdir()}
    annotation = load_annotations(labels, 10, (HEIGHT, WIDTH)).store.get(7)
    write_frame_labels(labels, 7, image, annotation.masks, annotation.flags, annotation.kept_shapes)
    assert {p.name: p.read_bytes() for p in labels.iterdir()} == before


def test_an_edit_keeps_the_image_and_every_untouched_shape(tmp_path, labelme):
    labels, image, path = other_tool_case(tmp_path, labelme)
    png = (labels / "0007.png").read_bytes()
    original = json.loads(path.read_text())["shapes"]
    annotation = load_annotations(labels, 10, (HEIGHT, WIDTH)).store.get(7)
    masks = annotation.copy_masks()
    # The person grows the second tumor with the brush; nothing else changes.
    grown = cv2.circle(np.zeros((HEIGHT, WIDTH), np.uint8), (232, 150), 12, 1, -1) > 0
    masks["tumor"] |= grown
    video_frame = np.clip(image.astype(int) + 9, 0, 255).astype(np.uint8)  # decoded differently

    write_frame_labels(labels, 7, video_frame, masks, annotation.flags, annotation.kept_shapes)

    assert (labels / "0007.png").read_bytes() == png
    saved = read_frame_labels(path)
    shapes = json.loads(path.read_text())["shapes"]
    assert shapes[0] == original[0] and shapes[1] == original[1]  # liver, first tumor as drawn
    assert [s["label"] for s in shapes] == ["liver", "tumor", "tumor"]
    retraced = shapes[2]
    assert retraced["shape_type"] == "polygon"
    assert 3 <= len(retraced["points"]) <= 2 * len(original[2]["points"])
    component = shape_mask(original[2], (HEIGHT, WIDTH)) | grown
    pixels = shape_mask(retraced, (HEIGHT, WIDTH))
    assert np.count_nonzero(pixels & component) / np.count_nonzero(pixels | component) >= 0.99
    assert saved.annotation.flags == {"key_frame": True}


def test_a_new_frame_gets_its_image_and_an_existing_image_is_never_replaced(tmp_path):
    labels = tmp_path / "labels"
    image = np.full((HEIGHT, WIDTH), 80, np.uint8)
    tumor = np.zeros((HEIGHT, WIDTH), bool)
    tumor[50:80, 60:100] = True
    path = write_frame_labels(labels, 2, image, {"tumor": tumor, "liver": tumor.copy()}, {})
    assert np.array_equal(cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_UNCHANGED), image)
    png = path.with_suffix(".png").read_bytes()
    tumor[100:120, 100:140] = True
    write_frame_labels(labels, 2, image + 5, {"tumor": tumor, "liver": tumor.copy()}, {})
    assert path.with_suffix(".png").read_bytes() == png
    assert np.array_equal(read_frame_labels(path).annotation.masks["tumor"], tumor)
