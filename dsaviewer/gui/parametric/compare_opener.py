"""Opening the comparison of the open run with a second run of the patient, off the UI
thread: load the second run, map both, register, measure; then show them side by side."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.gui.background.workers import run_in_background
from dsaviewer.gui.parametric.compare_view import CompareView
from dsaviewer.inference.compare_files import compare_videos
from dsaviewer.io.video import Video, load_video


def open_comparison(
    pre: Video,
    result: object | None,
    post_path: str | Path,
    on_view: Callable[[CompareView], None],
    on_error: Callable[[str], None],
) -> None:
    """Compare ``pre`` (the open run, its regions from ``result``'s masks) with the run at
    ``post_path``; ``on_view(view)`` receives the shown comparison, ``on_error(message)``
    the reason it could not be made. Both run on the UI thread."""
    if result is None:
        on_error("Analyse the open run first: its tumor and liver masks are the regions "
                 "compared.")
        return
    tumor: np.ndarray = result.tumor_mask  # type: ignore[attr-defined]
    liver: np.ndarray = result.liver_mask  # type: ignore[attr-defined]

    def work() -> tuple[Video, object]:
        post = load_video(post_path)
        comparison, _, _ = compare_videos(pre, post, tumor, liver)
        return post, comparison

    def done(outcome: tuple[Video, object]) -> None:
        post, comparison = outcome
        view = CompareView(pre, post, comparison)  # type: ignore[arg-type]
        view.resize(1400, 900)
        view.show()
        on_view(view)

    def failed(error: Exception, trace: str) -> None:
        on_error(str(error) if isinstance(error, InputError) else f"{error}\n\n{trace}")

    run_in_background(work, done, failed)
