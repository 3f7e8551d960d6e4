"""When the viewer analyses the open case, and what it asks the pipeline for.

A run is asked for on opening and after a person changes the key frame, when no result fits
the key frame in force and ``model.auto_run`` is on; and after a person changes the clinical
values while the result fits the key frame (the prediction must follow them; the pipeline
has no response-only entry point, and a run on loaded models takes about a second).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_AUTO
from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.video import Video


@dataclass(frozen=True)
class AnalysisRequest:
    """One run: ``key_frame`` None lets the pipeline choose, otherwise ``key_frame_source``
    ("override" or "labels") says where it came from; ``token`` identifies the case it was
    made for, so a result arriving after another case opened is dropped."""

    video: Video
    clinical: ClinicalVariables
    key_frame: int | None
    key_frame_source: str
    token: object


class AnalysisScheduler:
    """Asks ``start(request)`` for runs as the module doc says; ``later(fn)`` runs ``fn``
    once the event loop is free (after a newly opened case is painted)."""

    def __init__(
        self,
        model: ViewerModel,
        start: Callable[[AnalysisRequest], None],
        later: Callable[[Callable[[], None]], None],
    ) -> None:
        self._model = model
        self._start = start
        self._later = later
        # Lambdas: psygnal holds bound methods weakly; this lives as long as the model.
        model.events.case.connect(lambda case: self._opened(case))
        model.key_frame_chosen.connect(lambda _index: self._key_frame_chosen())
        model.clinical_edited.connect(lambda _values: self._clinical_edited())

    def request(self) -> AnalysisRequest | None:
        """What a run of the open case asks for now; None without a case."""
        model = self._model
        if model.case is None:
            return None
        automatic = model.key_frame_source == KEY_FRAME_AUTO
        return AnalysisRequest(
            video=model.case.video,
            clinical=model.clinical,
            key_frame=None if automatic else model.key_frame,
            key_frame_source=model.key_frame_source,
            token=model.case,
        )

    def run(self) -> None:
        """Analyse the open case now."""
        request = self.request()
        if request is not None:
            self._start(request)

    def _opened(self, case: object) -> None:
        if case is not None and self._model.auto_run and self._model.needs_analysis:
            self._later(lambda: self._run_if_open(case))

    def _run_if_open(self, case: object) -> None:
        if self._model.case is case:
            self.run()

    def _key_frame_chosen(self) -> None:
        if self._model.auto_run and self._model.needs_analysis:
            self.run()

    def _clinical_edited(self) -> None:
        if self._model.result_matches_key_frame:
            self.run()
