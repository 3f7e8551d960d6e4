"""The window's events in the log file (:mod:`dsaviewer.io.app_log`): a subscriber to the
main window's signals, writing numbers and kinds only, never a path, a name or a value a
patient could be told by."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QMainWindow

from dsaviewer.app.case_session import frame_number
from dsaviewer.io.app_log import anonymous_reason, log_event


def attach_event_log(window: QMainWindow) -> None:
    """Log what ``window`` does: cases opened, analyses finished, files refused."""
    window.case_opened.connect(_opened)
    window.analysis_finished.connect(_analysed)
    window.open_failed.connect(
        lambda message: log_event(f"open refused: {anonymous_reason(message)}", logging.WARNING)
    )


def _opened(session) -> None:
    video = session.video
    height, width = video.frame_shape
    kind = "case folder" if session.location.case_id is not None else "loose file"
    log_event(f"opened a {kind}: {video.source_format}, {video.n_frames} frames of "
              f"{width}x{height}, {video.bits_stored}-bit")


def _analysed(result) -> None:
    total = result.timings_ms.get("total")
    took = "" if total is None else f" in {total / 1000:.1f} s"
    log_event(f"analysis finished on {result.device} ({result.backend}){took}: key frame "
              f"{frame_number(result.key_frame)}, {len(result.lesions)} lesion(s)")
