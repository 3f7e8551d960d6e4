"""Labelme JSON: what we write reads back, what labelme writes reads in, and both programs turn
every shape into the same pixels (the real labelme package's side: test_io_labelme_package)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from labelme_samples import (
    HEIGHT,
    WIDTH,
    component_count,
    frame,
    hard_masks,
    iou,
    labelme_document,
    png_b64,
    read_shape_pixels,
    write_json,
)

from dsaviewer.errors import InputError
from dsaviewer.io.labelme import (
    KEY_FRAME_FLAG,
    LABELS,
    masks_to_shapes,
    read_labelme,
    write_labelme,
)

# --- writing and reading back ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_write_puts_image_beside_json_with_labelme_keys(tmp_path, dtype):
    image = frame(dtype)
    path = write_labelme(
        tmp_path / "labels" / "0012.json", image, hard_masks(), {"key_frame": True}
    )

    document = json.loads(path.read_text(encoding="utf-8"))
    assert set(document) == {
        "version",
        "flags",
        "shapes",
        "imagePath",
        "imageData",
        "imageHeight",
        "imageWidth",
    }
    assert document["imagePath"] == "0012.png"
    assert (document["imageHeight"], document["imageWidth"]) == (HEIGHT, WIDTH)
    assert document["flags"] == {"key_frame": True}
    stored = cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_UNCHANGED)
    assert stored.dtype == dtype and np.array_equal(stored, image)
    assert sorted(p.name for p in path.parent.iterdir()) == ["0012.json", "0012.png"]


def test_exact_tolerance_reads_back_pixel_for_pixel(tmp_path):
    masks = hard_masks()
    path = write_labelme(tmp_path / "0000.json", frame(), masks, tolerance_px=0)
    annotation = read_labelme(path)
    for label in LABELS:
        assert np.array_equal(annotation.masks[label], masks[label]), label
    assert annotation.image_shape == (HEIGHT, WIDTH)
    assert annotation.image_path == tmp_path / "0000.png"
    assert annotation.unknown_labels == () and annotation.unsupported_shapes == ()


def test_simplified_polygons_stay_within_one_percent(tmp_path):
    masks = hard_masks()
    path = write_labelme(tmp_path / "0000.json", frame(), masks, tolerance_px=1.0)
    annotation = read_labelme(path)
    for label in LABELS:
        assert iou(annotation.masks[label], masks[label]) >= 0.99, label
    disc = np.zeros((HEIGHT, WIDTH), bool)
    disc[cv2.circle(np.zeros((HEIGHT, WIDTH), np.uint8), (130, 70), 22, 1, -1) > 0] = True
    (simplified,) = masks_to_shapes({"tumor": disc}, tolerance_px=1.0)
    (exact,) = masks_to_shapes({"tumor": disc}, tolerance_px=0)
    assert simplified["shape_type"] == exact["shape_type"] == "polygon"
    assert len(simplified["points"]) < len(exact["points"]) / 2


def test_one_shape_per_component_holes_and_specks_as_mask_shapes():
    masks = hard_masks()
    shapes = masks_to_shapes(masks)
    for label in LABELS:
        assert sum(s["label"] == label for s in shapes) == component_count(masks[label])
    kinds = [(s["label"], s["shape_type"]) for s in shapes]
    # the holed liver, the ring, the single pixel and the 2-pixel sliver
    assert kinds.count(("liver", "mask")) == 1
    assert kinds.count(("tumor", "mask")) == 3
    assert kinds.count(("tumor", "polygon")) == component_count(masks["tumor"]) - 3
    for shape in shapes:
        assert set(shape) == {
            "label",
            "points",
            "group_id",
            "description",
            "shape_type",
            "flags",
            "mask",
        }
        assert (shape["mask"] is None) == (shape["shape_type"] == "polygon")


def test_empty_and_absent_labels_read_as_empty_masks(tmp_path):
    only_liver = {"liver": hard_masks()["liver"], "tumor": np.zeros((HEIGHT, WIDTH), bool)}
    annotation = read_labelme(write_labelme(tmp_path / "0003.json", frame(), only_liver))
    assert set(annotation.masks) == set(LABELS)
    assert not annotation.masks["tumor"].any()
    assert annotation.masks["liver"].any()
    assert not annotation.is_key_frame


def test_rewriting_replaces_both_files(tmp_path):
    path = tmp_path / "0001.json"
    write_labelme(path, frame(), hard_masks(), {KEY_FRAME_FLAG: True})
    empty = {label: np.zeros((HEIGHT, WIDTH), bool) for label in LABELS}
    write_labelme(path, np.zeros((HEIGHT, WIDTH), np.uint8), empty)
    annotation = read_labelme(path)
    assert not annotation.is_key_frame
    assert not any(mask.any() for mask in annotation.masks.values())
    assert not cv2.imread(str(path.with_suffix(".png")), cv2.IMREAD_UNCHANGED).any()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0001.json", "0001.png"]


@pytest.mark.parametrize(
    ("image", "masks", "flags", "message"),
    [
        (np.zeros((4, 4), np.float32), {}, None, "uint8 or uint16"),
        (np.zeros((4, 4, 3), np.uint8), {}, None, "uint8 or uint16"),
        (np.zeros((4, 4), np.uint8), {"vessel": np.zeros((4, 4), bool)}, None, "label"),
        (np.zeros((4, 4), np.uint8), {"tumor": np.zeros((4, 4), np.uint8)}, None, "bool"),
        (np.zeros((4, 4), np.uint8), {"tumor": np.zeros((4, 5), bool)}, None, "image is"),
        (np.zeros((4, 4), np.uint8), {}, {"key_frame": 1}, "flags"),
    ],
)
def test_writer_refuses_bad_arguments_and_writes_nothing(tmp_path, image, masks, flags, message):
    with pytest.raises(ValueError, match=message):
        write_labelme(tmp_path / "0000.json", image, masks, flags)
    assert list(tmp_path.iterdir()) == []


# --- reading files written by hand or by other tools -----------------------------------------


def test_reads_rectangles_circles_masks_and_case_insensitive_labels(tmp_path):
    crop = np.zeros((3, 4), np.uint8)
    crop[1, 1:3] = 1
    shapes = [
        {"label": "Liver", "points": [[10, 20], [4.6, 12.9]], "shape_type": "rectangle"},
        {"label": " TUMOR ", "points": [[50, 60], [50, 63]], "shape_type": "circle"},
        {
            "label": "tumor",
            "points": [[100, 90], [103, 92]],
            "shape_type": "mask",
            "mask": png_b64(crop),
        },
        {"label": "tumor", "points": [[150, 10], [160, 10], [150, 20]], "shape_type": "polygon"},
    ]
    annotation = read_labelme(write_json(tmp_path / "a.json", labelme_document(shapes)))

    expected_liver = np.zeros((HEIGHT, WIDTH), bool)
    expected_liver[12:21, 4:11] = True  # corners truncated to int, both ends included
    assert np.array_equal(annotation.masks["liver"], expected_liver)
    tumor = annotation.masks["tumor"]
    # centre (50, 60), radius 3: centre and rim in, the corner of its box out
    assert tumor[60, 50] and tumor[57, 50] and tumor[63, 50] and tumor[60, 47]
    assert not tumor[57, 47] and not tumor[56, 50]
    assert np.count_nonzero(tumor[50:70, 40:60]) == pytest.approx(np.pi * 3**2, rel=0.35)
    assert tumor[91, 101] and tumor[91, 102] and not tumor[90, 101] and not tumor[91, 103]
    assert tumor[10, 150] and tumor[10, 160] and tumor[20, 150] and tumor[14, 154]
    assert not tumor[20, 160]


def test_unknown_labels_and_arealess_shapes_are_reported_not_dropped(tmp_path):
    shapes = [
        {"label": "vessel", "points": [[1, 1], [5, 1], [5, 5]], "shape_type": "polygon"},
        {"label": "tumor", "points": [[1, 1], [9, 9], [20, 3]], "shape_type": "linestrip"},
        {"label": "liver", "points": [[3, 3]], "shape_type": "point"},
        {"label": "Vessel", "points": [[1, 1], [5, 1], [5, 5]], "shape_type": "polygon"},
        {"label": "vessel", "points": [[1, 1], [5, 1], [5, 5]], "shape_type": "polygon"},
    ]
    annotation = read_labelme(write_json(tmp_path / "a.json", labelme_document(shapes)))
    assert annotation.unknown_labels == ("vessel", "Vessel")
    assert len(annotation.unsupported_shapes) == 2
    assert "linestrip" in annotation.unsupported_shapes[0]
    assert "shape 1" in annotation.unsupported_shapes[0]
    assert "point" in annotation.unsupported_shapes[1]
    assert not any(mask.any() for mask in annotation.masks.values())


def test_image_size_from_embedded_image_or_the_file_beside(tmp_path):
    image = np.full((30, 40), 7, np.uint8)
    shapes = [{"label": "tumor", "points": [[1, 1], [6, 1], [6, 6]], "shape_type": "polygon"}]
    embedded = labelme_document(shapes, imageData=png_b64(image), imageHeight=None, imageWidth=None)
    del embedded["imageHeight"], embedded["imageWidth"]
    assert read_labelme(write_json(tmp_path / "a.json", embedded)).image_shape == (30, 40)

    (tmp_path / "sub").mkdir()
    cv2.imwrite(str(tmp_path / "sub" / "f.png"), image)
    beside = labelme_document(shapes, imagePath="sub\\f.png")  # saved on Windows
    del beside["imageHeight"], beside["imageWidth"]
    annotation = read_labelme(write_json(tmp_path / "b.json", beside))
    assert annotation.image_shape == (30, 40)
    assert annotation.image_path == tmp_path / "sub" / "f.png"


def test_older_files_without_shape_type_are_polygons(tmp_path):
    shapes = [{"label": "tumor", "points": [[1, 1], [6, 1], [6, 6]], "line_color": None}]
    annotation = read_labelme(write_json(tmp_path / "a.json", labelme_document(shapes)))
    assert annotation.masks["tumor"][1, 1:7].all() and annotation.masks["tumor"][6, 6]


POLYGON = {"label": "tumor", "points": [[1, 1], [6, 1], [6, 6]], "shape_type": "polygon"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps(labelme_document([]) | {"shapes": None}), "'shapes' must be a list"),
        (json.dumps({k: v for k, v in labelme_document([]).items() if k != "shapes"}), "'shapes'"),
        (json.dumps(labelme_document([], flags={"key_frame": "yes"})), "'flags'"),
        (json.dumps(labelme_document([], imageHeight="160")), "'imageHeight'"),
        (json.dumps(labelme_document([], imageWidth=0)), "'imageWidth'"),
        (json.dumps(labelme_document([], imageWidth=10**9)), "'imageWidth' 1000000000 is beyond"),
        (
            json.dumps(labelme_document([], imageHeight=None, imageWidth=None, imagePath="")),
            "no image size",
        ),
        (
            json.dumps(labelme_document([], imageHeight=None, imageWidth=None)),
            "cannot read the image",
        ),
        (json.dumps(labelme_document(["polygon"])), "shape 0 must be a JSON object"),
        (json.dumps(labelme_document([{"points": [[1, 1]]}])), "shape 0: the key 'label'"),
        (json.dumps(labelme_document([POLYGON | {"label": 3}])), "'label' must be a str"),
        (json.dumps(labelme_document([POLYGON | {"points": [[1, 1], [2]]}])), "'points'"),
        (json.dumps(labelme_document([POLYGON | {"points": [[1, "a"]]}])), "'points'"),
        (
            json.dumps(labelme_document([POLYGON | {"points": [[1, 1], [2, 1e300], [3, 3]]}])),
            "within",
        ),
        (json.dumps(labelme_document([POLYGON | {"points": [[1, 1], [2, 2]]}])), "at least 3"),
        (
            json.dumps(labelme_document([POLYGON | {"shape_type": "circle"}])),
            "circle needs 2 points",
        ),
        (json.dumps(labelme_document([POLYGON | {"shape_type": "blob"}])), "unknown shape"),
        (json.dumps(labelme_document([POLYGON | {"shape_type": 5}])), "'shape_type'"),
    ],
)
def test_bad_files_raise_input_error_naming_file_and_problem(tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        read_labelme(path)
    assert caught.value.source == str(path)
    assert path.read_text(encoding="utf-8") == content


@pytest.mark.parametrize(
    ("mask_shape", "message"),
    [
        ({"points": [[1, 1], [3, 3]], "mask": None}, "needs 'mask'"),
        ({"points": [[1, 1], [3, 3]], "mask": "@@@"}, "readable image|base64"),
        ({"points": [[1, 1], [3, 3]], "mask": png_b64(np.ones((2, 2), np.uint8))}, "box is 3x3"),
        ({"points": [[190, 1], [210, 3]], "mask": png_b64(np.ones((3, 21), np.uint8))}, "outside"),
        ({"points": [[1, 1]], "mask": png_b64(np.ones((1, 1), np.uint8))}, "needs 2 points"),
    ],
)
def test_bad_mask_shapes_raise_input_error(tmp_path, mask_shape, message):
    shape = {"label": "tumor", "shape_type": "mask"} | mask_shape
    path = write_json(tmp_path / "m.json", labelme_document([shape]))
    with pytest.raises(InputError, match=message):
        read_labelme(path)


def test_missing_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_labelme(tmp_path / "absent.json")


def test_reading_accepts_the_labels_in_any_order(tmp_path):
    masks = hard_masks()
    path = write_labelme(tmp_path / "0002.json", frame(), masks, tolerance_px=0)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["shapes"].reverse()  # tumors first, as older exports wrote them
    reversed_path = write_json(tmp_path / "0003.json", document)
    ours = read_labelme(reversed_path).masks
    for label in LABELS:
        assert np.array_equal(ours[label], masks[label]), label


def test_default_outlines_have_the_fewest_corners_within_one_percent():
    disc = cv2.circle(np.zeros((HEIGHT, WIDTH), np.uint8), (100, 80), 40, 1, -1) > 0
    (fewest,) = masks_to_shapes({"tumor": disc})
    (one_pixel,) = masks_to_shapes({"tumor": disc}, tolerance_px=1.0)
    assert fewest["shape_type"] == "polygon"
    assert len(fewest["points"]) <= len(one_pixel["points"])
    painted = read_shape_pixels(fewest)
    assert iou(painted, disc) >= 0.99
