"""Our Labelme files against the real labelme package (test-only; GPL, never shipped): it reads
what we write to the same pixels, we read what it saves exactly, and both rasterise every
shape alike."""

from __future__ import annotations

import types

import cv2
import numpy as np
import pytest
from labelme_compat import import_labelme, labelme_masks
from labelme_samples import (
    HEIGHT,
    WIDTH,
    component_count,
    frame,
    hard_masks,
    iou,
    labelme_document,
    write_json,
)

from dsaviewer.io.labelme import LABELS, read_labelme, write_labelme


@pytest.fixture(scope="module")
def labelme():
    return import_labelme()


@pytest.mark.parametrize("tolerance", [0.0, 1.0, 2.5])
def test_labelme_reads_our_files_to_the_same_pixels(tmp_path, labelme, tolerance):
    masks = hard_masks()
    path = write_labelme(
        tmp_path / "0009.json", frame(np.uint16), masks, {"key_frame": True}, tolerance
    )

    labelme.testing.assert_labelfile_sanity(str(path))
    label_file = labelme.LabelFile(str(path))
    assert label_file.flags == {"key_frame": True}
    assert label_file.imagePath == "0009.png"
    assert len(label_file.shapes) == sum(component_count(m) for m in masks.values())

    theirs = labelme_masks(labelme, label_file, (HEIGHT, WIDTH))
    ours = read_labelme(path).masks
    for label in LABELS:
        assert np.array_equal(ours[label], theirs[label]), label
        assert iou(theirs[label], masks[label]) >= (1.0 if tolerance == 0 else 0.99)
    for item in label_file.shapes:  # every shape on its own, against its component
        one = labelme_masks(labelme, types.SimpleNamespace(shapes=[item]), (HEIGHT, WIDTH))
        pixels = one[item["label"]]
        components = cv2.connectedComponents(masks[item["label"]].astype(np.uint8))[1]
        component = components == np.bincount(components[pixels]).argmax()
        assert iou(pixels, component) >= 0.99


def test_files_saved_by_labelme_import_exactly(tmp_path, labelme):
    image = frame()
    crop = np.zeros((9, 12), np.uint8)
    cv2.circle(crop, (6, 4), 4, 1, -1)
    crop[4, 6] = 0  # a hole: only a mask shape can hold it
    shapes = [
        {
            "label": "liver",
            "points": [[20.4, 15.7], [180.2, 20.9], [150.6, 140.1], [30, 120]],
            "shape_type": "polygon",
        },
        {"label": "tumor", "points": [[60.5, 40.2], [90.9, 70.7]], "shape_type": "rectangle"},
        {"label": "Tumor", "points": [[120.3, 100.8], [131.9, 93.2]], "shape_type": "circle"},
        {
            "label": "tumor",
            "points": [[40, 130], [51, 138]],
            "shape_type": "mask",
            "mask": labelme.utils.img_arr_to_b64(crop),
        },
    ]
    shapes = [s | {"group_id": None, "description": "", "flags": {}} for s in shapes]
    for s in shapes:
        s.setdefault("mask", None)
    path = tmp_path / "0004.json"
    ok, png = cv2.imencode(".png", image)
    labelme.LabelFile().save(
        str(path),
        shapes,
        "0004.png",
        HEIGHT,
        WIDTH,
        imageData=png.tobytes(),
        flags={"key_frame": False},
    )

    annotation = read_labelme(path)
    theirs = labelme_masks(labelme, labelme.LabelFile(str(path)), (HEIGHT, WIDTH))
    for label in LABELS:
        assert np.array_equal(annotation.masks[label], theirs[label]), label
    assert not annotation.masks["tumor"][134, 46]  # the hole survived
    assert annotation.flags == {"key_frame": False}
    assert annotation.image_shape == (HEIGHT, WIDTH)


def test_random_shapes_rasterise_exactly_as_labelme(tmp_path, labelme):
    """Pillow's scan-line fill has corner cases (self-crossing edges, vertices off the image,
    fractional coordinates, degenerate circles); many random shapes exercise them."""
    rng = np.random.default_rng(7)
    height, width = 48, 64
    for trial in range(240):
        kind = ("polygon", "rectangle", "circle")[trial % 3]
        count = int(rng.integers(3, 14)) if kind == "polygon" else 2
        points = rng.uniform(-8, 72, (count, 2))
        if trial % 2:
            points = np.round(points)
        if kind == "rectangle":  # labelme 5 hands Pillow the corners unsorted
            points = np.sort(points, axis=0)
        shape = {"label": "tumor", "points": points.tolist(), "shape_type": kind}
        path = write_json(
            tmp_path / f"{trial}.json",
            labelme_document([shape], imageHeight=height, imageWidth=width),
        )
        theirs = labelme.utils.shape_to_mask((height, width), shape["points"], kind)
        assert np.array_equal(read_labelme(path).masks["tumor"], theirs), shape


def class_iou(classes: np.ndarray, expected: np.ndarray, value: int) -> float:
    return iou(classes == value, expected == value)


@pytest.mark.parametrize("tolerance", [None, 0.0, 1.0])
def test_labelme_shapes_to_label_gives_back_every_class(tmp_path, labelme, tolerance):
    """labelme's converters (shapes_to_label) paint later shapes over earlier ones: the liver
    must come first or it buries the tumors, whatever order the masks are given in."""
    masks = hard_masks()
    masks["liver"] |= masks["tumor"]  # a liver mask holds its tumors
    given = {"tumor": masks["tumor"], "liver": masks["liver"]}
    path = write_labelme(tmp_path / "0001.json", frame(), given, tolerance_px=tolerance)

    label_file = labelme.LabelFile(str(path))
    names = {"_background_": 0, "liver": 1, "tumor": 2}
    classes, _ = labelme.utils.shapes_to_label((HEIGHT, WIDTH), label_file.shapes, names)
    expected = np.zeros((HEIGHT, WIDTH), np.int32)
    expected[masks["liver"]] = 1
    expected[masks["tumor"]] = 2
    assert np.count_nonzero(classes == 2) > 0
    for value in (1, 2):
        assert class_iou(classes, expected, value) >= 0.99, value
    labels = [shape["label"] for shape in label_file.shapes]
    assert labels == sorted(labels)  # every liver shape before every tumor shape
