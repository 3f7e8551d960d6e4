"""Marks on the timeline for the frames an annotator has labelled: a subscriber to the mask
editor that keeps the timeline's saved and unsaved marks up to date."""

from __future__ import annotations

from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.playback.timeline import Timeline


def attach_timeline_marks(editor: MaskEditor, timeline: Timeline) -> None:
    """Show ``editor``'s saved and unsaved frames on ``timeline`` from now on."""

    def refresh(*_ignored) -> None:
        store = editor.store if editor.is_open else None
        if store is None:
            timeline.set_annotated((), ())
            return
        saved = [frame for frame in store.frames() if store.get(frame).label_file is not None]
        timeline.set_annotated(saved, editor.unsaved_frames())

    for signal in (editor.masks_changed, editor.unsaved_changed, editor.case_opened,
                   editor.case_closed):
        signal.connect(refresh)
