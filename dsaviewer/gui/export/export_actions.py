"""File > Export frame / Export case summary as the window shows them: the window/level,
inversion and layers on screen and the annotator's masks while the editor shows them, saved
where the user says, written by the window's :class:`CaseExporter` in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dsaviewer.app.case_session import frame_number
from dsaviewer.gui.export.exporter import FrameExport, ask_png_path

if TYPE_CHECKING:
    from dsaviewer.gui.main_window import MainWindow


def export_frame(window: MainWindow) -> None:
    """The frame on screen, as shown."""
    index = window.cine.index
    path = _ask_png(window, "Export frame", f"frame{frame_number(index):04d}")
    if path is not None:
        window.exporter.export_frame(path, frame_as_shown(window, index))


def export_summary(window: MainWindow) -> None:
    """The one-page summary, with the key frame as shown."""
    path = _ask_png(window, "Export case summary", "summary")
    if path is not None:
        window.exporter.export_summary(path, window.model,
                                       frame_as_shown(window, window.model.key_frame))


def frame_as_shown(window: MainWindow, index: int) -> FrameExport:
    """Frame ``index`` as the screen shows frames now (window, inversion, layers, the
    annotator's masks while the editor shows them)."""
    model = window.model
    result = model.result
    return FrameExport(
        frame=model.case.video.frames[index],
        window=window.frame_view.window(),
        inverted=window.frame_view.inverted,
        overlays=window.overlay_controls.as_shown(model.overlays),
        opacities=window.overlay_controls.shown_opacities(),
        lesions=[] if result is None else result.lesions,
        edited=window.annotation.editor.masks_as_shown(index),
    )


def _ask_png(window: MainWindow, title: str, what: str) -> Path | None:
    case = window.model.case
    return None if case is None else ask_png_path(window, title, case, what)
