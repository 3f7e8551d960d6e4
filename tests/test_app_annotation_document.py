"""The annotator's document without Qt: per-frame undo with a saved marker, what saving
writes (real Labelme files, read back with this program's reader), and which crash-recovery
copies are offered."""

from __future__ import annotations

import numpy as np

from dsaviewer.app.annotation_document import AnnotationDocument, FrameHistory
from dsaviewer.core.mask_editing import brush_segment
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.recovery import write_recovery_frame

SHAPE = (64, 80)


def run_frames(count: int = 8) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(40, 200, (count, *SHAPE), dtype=np.uint8)


def opened(tmp_path, recovery=()) -> tuple[AnnotationDocument, object]:
    return AnnotationDocument.load(tmp_path / "labels", run_frames(), recovery)


def paint(document: AnnotationDocument, frame: int, label: str, centre, radius=6.0) -> None:
    mask = document.masks(frame)[label]
    edit = brush_segment(mask, centre, centre, radius)
    document.push(frame, f"Brush ({label})", [(label, edit)])


def test_undo_and_redo_are_per_frame_and_the_saved_marker_says_what_is_unsaved(tmp_path):
    document, report = opened(tmp_path)
    assert report.recovered == () and document.unsaved_frames() == []
    paint(document, 2, "tumor", (20, 20))
    paint(document, 5, "liver", (40, 30), radius=12)
    paint(document, 2, "tumor", (50, 40))
    assert document.unsaved_frames() == [2, 5]
    painted = document.masks(2)["tumor"].copy()

    assert document.undo(2) and document.history(2).undo_text() == "Brush (tumor)"
    assert document.masks(2)["tumor"].sum() < painted.sum()
    assert document.masks(5)["liver"].any()  # frame 5 untouched by frame 2's undo
    assert document.redo(2)
    np.testing.assert_array_equal(document.masks(2)["tumor"], painted)

    assert document.undo(5) and not document.undo(5)  # back at its saved (empty) state
    assert document.unsaved_frames() == [2] and document.history(5).redo_text() == "Brush (liver)"


def test_saving_writes_the_unsaved_frames_with_the_key_frame_flagged(tmp_path):
    document, _ = opened(tmp_path)
    paint(document, 2, "liver", (40, 30), radius=14)
    paint(document, 2, "tumor", (40, 30), radius=5)
    paint(document, 4, "liver", (30, 30), radius=10)
    report = document.save(key_frame=4)
    assert report.ok and report.saved == (2, 4) and document.unsaved_frames() == []
    second = read_labelme(tmp_path / "labels" / "0002.json")
    fourth = read_labelme(tmp_path / "labels" / "0004.json")
    assert not second.is_key_frame and fourth.is_key_frame
    assert second.masks["tumor"].any() and second.masks["liver"].any()
    untouched = (tmp_path / "labels" / "0002.json").read_bytes()

    paint(document, 4, "tumor", (30, 30), radius=3)  # only frame 4 changes
    document.save(key_frame=2)  # and the key frame moves to frame 2
    assert read_labelme(tmp_path / "labels" / "0002.json").is_key_frame
    assert not read_labelme(tmp_path / "labels" / "0004.json").is_key_frame
    assert read_labelme(tmp_path / "labels" / "0004.json").masks["tumor"].any()
    assert (tmp_path / "labels" / "0002.json").read_bytes() != untouched  # its flag only
    reopened, _ = opened(tmp_path)
    saved, edited = reopened.masks(4)["liver"], document.masks(4)["liver"]
    assert (saved & edited).sum() / (saved | edited).sum() >= 0.99  # outlines kept to IoU 0.99


def test_a_frame_that_cannot_be_written_keeps_its_edits_and_stays_unsaved(tmp_path):
    (tmp_path / "labels").write_text("not a folder", encoding="utf-8")
    document = AnnotationDocument.load(tmp_path / "labels", run_frames())[0]
    paint(document, 1, "liver", (20, 20))
    report = document.save(key_frame=1)
    assert not report.ok and 1 in report.failed and document.unsaved_frames() == [1]
    assert document.unsaved_copy(1)["liver"].any()


def test_a_full_history_forgets_its_oldest_step_and_with_it_the_saved_state():
    history = FrameHistory(limit=3)
    for number in range(3):
        history.push(_step(number))
    history.clean = 1
    history.push(_step(3))  # the first step falls off: the saved state is now at 0
    assert history.clean == 0 and len(history.steps) == 3 and history.index == 3
    history.push(_step(4))
    assert history.clean is None and not history.is_clean


def test_recovery_copies_equal_to_the_labels_are_removed_and_the_others_offered(tmp_path):
    document, _ = opened(tmp_path)
    paint(document, 3, "liver", (40, 30), radius=12)
    document.save(key_frame=3)
    saved = opened(tmp_path)[0].masks(3)
    recovery = tmp_path / "recovery"
    stale = write_recovery_frame(recovery, 3, saved)  # equal to the saved labels
    newer = write_recovery_frame(recovery, 6, saved)  # frame 6 has no labels: offered
    write_recovery_frame(recovery, 99, saved)  # beyond this video

    reopened, report = opened(tmp_path, [recovery])
    assert [frame.frame_index for frame in report.recovered] == [6]
    assert not stale.exists() and newer.exists()
    assert any("another video" in problem for problem in report.problems)


def _step(number: int):
    from dsaviewer.app.annotation_document import EditStep

    return EditStep(f"step {number}", ())
