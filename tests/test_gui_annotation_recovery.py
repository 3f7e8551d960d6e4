"""No annotation work lost: edits copied for recovery and offered after a crash, saving where
nothing can be written, closing with unsaved edits."""

from __future__ import annotations

import numpy as np
from annotation_viewer import (
    make_case,
    make_viewer,
    paint_something,
    recovered_frames,
)
from PySide6.QtWidgets import QMessageBox

from dsaviewer.gui.annotation.dialogs import confirm_close
from dsaviewer.io.recovery import find_recovery, read_recovery


def test_edits_are_copied_for_recovery_and_offered_after_a_crash(qtbot, viewer, tmp_path):
    edited = paint_something(viewer, 1)
    qtbot.waitUntil(lambda: find_recovery(viewer.case) is not None, timeout=3000)
    viewer.editor.wait_for_recovery_writes()
    (copy,) = find_recovery(viewer.case).frames
    assert copy.frame_index == 1 and np.array_equal(copy.masks["liver"], edited["liver"])

    # The program dies: no save, no close. A new session opens the same case.
    other = make_viewer(qtbot, viewer.case, viewer.frames, tmp_path / "user-recovery")
    report = other.editor.open_case(viewer.case, viewer.frames, key_frame=2)
    assert [frame.frame_index for frame in report.recovered] == [1]
    other.editor.restore(report.recovered)
    other.editor.set_frame(1)
    assert all(np.array_equal(other.masks()[k], edited[k]) for k in edited)
    assert other.editor.unsaved_frames() == [1]  # restored, not yet saved
    assert other.editor.save().ok
    other.editor.wait_for_recovery_writes()
    assert recovered_frames(viewer.case) == []
    other.editor.close_case()


def test_saving_where_nothing_can_be_written_keeps_the_edits(qtbot, viewer):
    (viewer.case / "labels").write_text("a file where the labels folder should be")
    edited = paint_something(viewer, 2)
    report = viewer.editor.save()
    assert not report.ok and 2 in report.failed and report.saved == ()
    assert viewer.editor.has_unsaved_changes()
    assert all(np.array_equal(viewer.masks()[k], edited[k]) for k in edited)
    viewer.editor.save_recovery_now()
    viewer.editor.wait_for_recovery_writes()
    assert recovered_frames(viewer.case) == [2]

    (viewer.case / "labels").unlink()  # the user frees the place and saves again
    assert viewer.editor.save().saved == (2,)
    viewer.editor.wait_for_recovery_writes()
    assert recovered_frames(viewer.case) == []


def test_an_unwritable_case_keeps_recovery_copies_in_the_user_folder(qtbot, tmp_path):
    case, frames = make_case(tmp_path / "case2")
    (case / "viewer").write_text("a file where the viewer folder should be")
    viewer = make_viewer(qtbot, case, frames, tmp_path / "user-recovery")
    failures = []
    viewer.editor.message.connect(failures.append)
    edited = paint_something(viewer, 0)
    viewer.editor.save_recovery_now()
    viewer.editor.wait_for_recovery_writes()
    fallback = viewer.editor.recovery_dirs[1]
    assert fallback.parent == tmp_path / "user-recovery"
    (copy,) = read_recovery(fallback).frames
    assert np.array_equal(copy.masks["tumor"], edited["tumor"])
    assert not any("could not be copied" in text for text in failures)
    viewer.editor.close_case()


def test_closing_asks_and_does_what_was_answered(qtbot, viewer, monkeypatch):
    paint_something(viewer, 0)
    viewer.editor.save_recovery_now()
    viewer.editor.wait_for_recovery_writes()
    answers = []

    def answer(button):
        def ask(*args, **kwargs):
            answers.append(args[2])
            return button
        monkeypatch.setattr(QMessageBox, "question", ask)

    answer(QMessageBox.StandardButton.Cancel)
    assert not confirm_close(viewer.widget, viewer.editor)
    assert viewer.editor.is_open and "Frame(s) 1 " in answers[-1]  # index 0, counted from 1

    (viewer.case / "labels").write_text("blocked")
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)  # the failure report
    answer(QMessageBox.StandardButton.Save)
    assert not confirm_close(viewer.widget, viewer.editor)  # could not save: stay open
    assert viewer.editor.is_open and viewer.editor.has_unsaved_changes()

    answer(QMessageBox.StandardButton.Discard)
    assert confirm_close(viewer.widget, viewer.editor)
    assert not viewer.editor.is_open
    assert recovered_frames(viewer.case) == []  # discarded on purpose: nothing to offer


def test_closing_without_an_answer_keeps_unsaved_edits_for_next_time(qtbot, viewer):
    edited = paint_something(viewer, 4)
    viewer.editor.close_case()  # e.g. another case opened: nothing is thrown away
    assert recovered_frames(viewer.case) == [4]
    report = viewer.editor.open_case(viewer.case, viewer.frames)
    (frame,) = report.recovered
    assert np.array_equal(frame.masks["liver"], edited["liver"])
    viewer.editor.discard_recovered()
    viewer.editor.wait_for_recovery_writes()
    assert recovered_frames(viewer.case) == []
