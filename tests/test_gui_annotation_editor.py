"""The mask editor driven with real mouse and key events on a pyqtgraph view: painting,
erasing, polygons, fill, delete, undo/redo per frame, saving Labelme files that read back
pixel for pixel (in labelme too), importing and accepting predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from annotation_viewer import (
    HEIGHT,
    WIDTH,
    click,
    paint_something,
    pixel,
    rendered_rgb,
    stroke,
)
from labelme_compat import import_labelme, labelme_masks
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from dsaviewer.core.binary_masks import label_components
from dsaviewer.gui.annotation.tools import UNDO_LIMIT, Tool
from dsaviewer.io.frame_labels import read_frame_labels, write_frame_labels
from dsaviewer.io.labelme import read_labelme

# --- painting with the mouse ------------------------------------------------------------------


def test_paint_erase_undo_redo_with_the_mouse(viewer):
    editor = viewer.editor
    editor.set_tool(Tool.BRUSH)
    editor.set_radius(3)
    path = [(8.5, 10.5), (30.5, 12.5), (55.5, 40.5), (70.5, 20.5)]  # fast, far-apart moves
    stroke(viewer, path)
    painted = viewer.masks()["tumor"]
    assert label_components(painted)[0] == 1  # no gaps between the sampled positions
    for x, y in path:
        assert pixel(painted, x, y)
    assert not painted[50:, :20].any() and not viewer.masks()["liver"].any()
    red, green, blue = rendered_rgb(viewer, 30.5, 12.5)
    grey = rendered_rgb(viewer, 5.5, 55.5)
    assert blue > green + 40 and red > green + 20  # the tumor annotation's violet over grey
    assert max(grey) - min(grey) <= 2

    editor.set_tool(Tool.ERASER)
    editor.set_radius(2)
    stroke(viewer, [(30.5, 2.5), (30.5, 25.5)])  # across the first segment
    erased = viewer.masks()["tumor"]
    assert not pixel(erased, 30.5, 12.5) and label_components(erased)[0] == 2
    assert editor.history.undo_text() == "Erase (tumor)"

    editor.undo()
    assert np.array_equal(viewer.masks()["tumor"], painted)
    assert max(rendered_rgb(viewer, 8.5, 10.5)) - min(rendered_rgb(viewer, 8.5, 10.5)) > 40
    editor.undo()
    assert not viewer.masks()["tumor"].any()
    grey_again = rendered_rgb(viewer, 30.5, 12.5)
    assert max(grey_again) - min(grey_again) <= 2  # the overlay followed the undo
    assert not editor.has_unsaved_changes()
    editor.redo()
    editor.redo()
    assert np.array_equal(viewer.masks()["tumor"], erased)
    assert editor.unsaved_frames() == [0]


def test_each_stroke_is_one_undo_step_and_history_keeps_over_200(viewer):
    editor = viewer.editor
    editor.set_tool(Tool.BRUSH)
    editor.set_radius(0.5)
    steps = 210
    for step in range(steps):
        click(viewer, 2.5 + (step % 70), 2.5 + 3 * (step // 70))
    assert len(editor.history.steps) == steps <= UNDO_LIMIT
    assert viewer.masks()["tumor"].sum() == steps
    for _ in range(steps):
        editor.undo()
    assert not viewer.masks()["tumor"].any() and not (editor.history and editor.history.undo_text())


def test_history_is_per_frame_and_survives_moving_between_frames(viewer):
    editor = viewer.editor
    editor.set_tool(Tool.BRUSH)
    editor.set_radius(4)
    stroke(viewer, [(10.5, 10.5), (20.5, 10.5)])
    frame0 = viewer.masks()
    editor.set_frame(3)
    assert not (editor.history and editor.history.undo_text())  # nothing done on frame 3 yet
    editor.set_label("liver")
    stroke(viewer, [(40.5, 40.5), (60.5, 50.5)])
    frame3 = viewer.masks()
    assert frame3["liver"].any() and not frame3["tumor"].any()

    editor.set_frame(0)
    assert np.array_equal(viewer.masks()["tumor"], frame0["tumor"])
    editor.undo()  # undoes frame 0's stroke, not the later one on frame 3
    assert not viewer.masks()["tumor"].any()
    assert np.array_equal(viewer.masks(3)["liver"], frame3["liver"])
    editor.set_frame(3)
    editor.undo()
    assert not viewer.masks()["liver"].any()
    editor.set_frame(0)
    editor.redo()
    assert np.array_equal(viewer.masks()["tumor"], frame0["tumor"])
    assert editor.unsaved_frames() == [0]


def test_polygons_fill_and_delete_with_clicks(viewer):
    editor = viewer.editor
    editor.set_tool(Tool.POLYGON_ADD)
    for corner in [(10, 10), (50, 10), (50, 40), (10, 40)]:
        click(viewer, *corner)
    # A double-click's first click placed the last corner; its second one closes.
    QTest.mouseDClick(viewer.widget.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, viewer.at(10, 40))
    square = viewer.masks()["tumor"]
    assert square[12:38, 12:48].all() and not square[:9].any() and not square[:, 52:].any()

    editor.set_tool(Tool.POLYGON_SUBTRACT)
    for corner in [(20, 20), (40, 20), (40, 30), (20, 30)]:
        click(viewer, *corner)
    assert len(editor.polygon) == 4
    QTest.keyClick(viewer.widget.viewport(), Qt.Key.Key_Return)
    holed = viewer.masks()["tumor"]
    assert not holed[21:29, 21:39].any() and holed[15, 15] and editor.polygon == []

    editor.set_tool(Tool.FILL)
    click(viewer, 30.5, 25.5)  # inside the hole: enclosed by the square's outline
    assert np.array_equal(viewer.masks()["tumor"], square)
    click(viewer, 70.5, 55.5)  # outside everything: nothing to fill
    assert np.array_equal(viewer.masks()["tumor"], square)

    editor.set_tool(Tool.BRUSH)
    editor.set_radius(2)
    click(viewer, 70.5, 55.5)
    editor.set_tool(Tool.DELETE_LESION)
    click(viewer, 30.5, 25.5)
    left = viewer.masks()["tumor"]
    assert not left[:45, :55].any() and pixel(left, 70.5, 55.5)
    assert editor.history.undo_text() == "Delete lesion (tumor)"


def test_escape_cancels_a_polygon_and_undo_takes_back_corners(viewer):
    editor = viewer.editor
    editor.set_tool(Tool.POLYGON_ADD)
    for corner in [(10, 10), (50, 10), (50, 40)]:
        click(viewer, *corner)
    editor.undo()
    assert len(editor.polygon) == 2
    QTest.keyClick(viewer.widget.viewport(), Qt.Key.Key_Escape)
    assert editor.polygon == [] and not editor.has_unsaved_changes()


# --- saving, Labelme, importing ---------------------------------------------------------------


def test_save_exports_labelme_that_reads_back_pixel_for_pixel(viewer):
    labelme = import_labelme()
    edited = paint_something(viewer, 2)
    assert edited["liver"].any() and not edited["liver"][35, 45]
    report = viewer.editor.save()
    assert report.ok and report.saved == (2,)
    assert not viewer.editor.has_unsaved_changes()

    path = viewer.case / "labels" / "0002.json"
    ours = read_labelme(path)
    assert ours.flags == {"key_frame": True} and ours.image_path == path.with_suffix(".png")
    for label in ("tumor", "liver"):
        assert np.array_equal(ours.masks[label], edited[label]), label

    labelme.testing.assert_labelfile_sanity(str(path))
    label_file = labelme.LabelFile(str(path))
    assert label_file.flags == {"key_frame": True}
    theirs = labelme_masks(labelme, label_file, (HEIGHT, WIDTH))
    for label in ("tumor", "liver"):
        assert np.array_equal(theirs[label], edited[label]), label

    viewer.editor.close_case()  # and a fresh editor loads what was saved
    viewer.editor.open_case(viewer.case, viewer.frames, key_frame=2)
    viewer.editor.set_frame(2)
    assert all(np.array_equal(viewer.masks()[k], edited[k]) for k in edited)


def test_save_moves_the_key_frame_flag_and_keeps_what_it_does_not_edit(viewer, tmp_path):
    labels = viewer.case / "labels"
    old = {"tumor": np.zeros((HEIGHT, WIDTH), bool), "liver": np.zeros((HEIGHT, WIDTH), bool)}
    old["tumor"][5:9, 5:9] = True
    path = write_frame_labels(labels, 1, viewer.frames[1], old, {"key_frame": True}, (
        {"label": "vessel", "points": [[1, 1], [9, 1], [9, 9]], "shape_type": "polygon"},
    ))
    frame1_shapes = json.loads(path.read_text())["shapes"]
    report = viewer.editor.open_case(viewer.case, viewer.frames, key_frame=1)
    assert any("'vessel'" in problem for problem in report.problems)

    viewer.editor.set_key_frame(3)
    edited = paint_something(viewer, 3)
    viewer.editor.set_frame(1)
    viewer.editor.set_tool(Tool.BRUSH)
    click(viewer, 30.5, 30.5)
    assert viewer.editor.save().saved == (1, 3)
    frame1 = read_frame_labels(path)
    assert frame1.annotation.flags == {"key_frame": False}
    assert [shape["label"] for shape in frame1.kept_shapes] == ["vessel"]
    assert frame1.annotation.masks["tumor"][5:9, 5:9].all()
    assert read_frame_labels(labels / "0003.json").annotation.flags == {"key_frame": True}
    assert np.array_equal(read_labelme(labels / "0003.json").masks["liver"], edited["liver"])

    # An unedited file only has its flag changed: its shapes stay exactly as written.
    untouched = write_frame_labels(labels, 4, viewer.frames[4], old, {"key_frame": True})
    shapes = json.loads(untouched.read_text())["shapes"]
    viewer.editor.open_case(viewer.case, viewer.frames, key_frame=3)
    assert viewer.editor.save().saved == ()
    document = json.loads(untouched.read_text())
    assert document["flags"] == {"key_frame": False} and document["shapes"] == shapes
    assert frame1_shapes  # (frame 1 was re-traced because it was edited)


def test_import_labelme_replaces_the_frame_and_reports_what_it_cannot_edit(viewer, tmp_path):
    masks = {"tumor": np.zeros((HEIGHT, WIDTH), bool), "liver": np.zeros((HEIGHT, WIDTH), bool)}
    masks["liver"][10:50, 10:70] = True
    masks["tumor"][20:30, 20:30] = True
    path = write_frame_labels(tmp_path / "elsewhere", 7, viewer.frames[0], masks, {}, (
        {"label": "vessel", "points": [[1, 1], [9, 1], [9, 9]], "shape_type": "polygon"},
        {"label": "tumor", "points": [[3, 3]], "shape_type": "point"},
    ))
    viewer.editor.set_tool(Tool.BRUSH)
    click(viewer, 70.5, 60.5)
    before = viewer.masks()
    report = viewer.editor.import_labelme(path)
    assert report.frame == 0 and report.unknown_labels == ("vessel",)
    assert len(report.unsupported_shapes) == 1 and "point" in report.unsupported_shapes[0]
    for label in ("tumor", "liver"):
        assert np.array_equal(viewer.masks()[label], masks[label])
    viewer.editor.undo()  # one step
    assert all(np.array_equal(viewer.masks()[k], before[k]) for k in before)

    small = write_frame_labels(tmp_path / "small", 0, np.zeros((8, 8), np.uint8), {})
    with pytest.raises(Exception, match="8x8 image"):
        viewer.editor.import_labelme(small)


def test_accept_model_masks_and_copy_from_previous_frame(viewer):
    editor = viewer.editor
    rng = np.random.default_rng(4)
    tumor, liver = rng.random((HEIGHT, WIDTH)) < 0.1, rng.random((HEIGHT, WIDTH)) < 0.5
    assert not editor.accept_prediction()  # no analysis yet
    editor.set_prediction(tumor, liver)
    editor.set_frame(2)
    assert editor.accept_prediction()
    assert np.array_equal(viewer.masks()["tumor"], tumor)
    assert np.array_equal(viewer.masks()["liver"], liver)
    assert editor.history.undo_text() == "Accept model masks"

    editor.set_frame(3)
    assert editor.copy_from_previous()
    assert np.array_equal(viewer.masks()["liver"], liver)
    editor.undo()
    assert not viewer.masks()["liver"].any()
    editor.set_frame(1)
    assert not editor.copy_from_previous()  # frame 0 has nothing
    assert editor.unsaved_frames() == [2]
