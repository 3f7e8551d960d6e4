"""Runs the analysis pipeline off the UI thread, one run at a time, cancellable.

The pipeline (and with it torch) is imported on the first run only, so the window opens
without waiting for torch. The loaded models are kept for later runs. A window can be given
another ``analyze`` function with the pipeline's signature (tests, benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from dsaviewer.app.analysis_requests import AnalysisRequest
from dsaviewer.app.viewer_model import CANCELLED, FAILED, RUNNING, AnalysisStatus, ViewerModel
from dsaviewer.errors import DSAViewerError
from dsaviewer.gui.background.workers import TaskHandle, run_in_background
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.video import Video

AnalyzeFunction = Callable[..., AnalysisResult]


class AnalysisRunner(QObject):
    started = Signal(object)  # AnalysisRequest
    progressed = Signal(float, str)  # fraction done, stage just finished
    finished = Signal(object, object)  # AnalysisResult, AnalysisRequest
    failed = Signal(str, object)  # message, AnalysisRequest
    cancelled = Signal(object)  # AnalysisRequest

    def __init__(self, analyze: AnalyzeFunction | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._analyze = analyze or PipelineAnalyzer()
        self._handle: TaskHandle | None = None
        self._request: AnalysisRequest | None = None
        self._queued: AnalysisRequest | None = None

    def report_to(self, model: ViewerModel) -> None:
        """Keep ``model.analysis`` and ``model.result`` in step with the runs; a run made for
        a case that is no longer open is ignored."""

        def status(request: AnalysisRequest | None, state: AnalysisStatus) -> None:
            if request is not None and request.token is model.case:
                model.analysis = state

        def done(result: AnalysisResult, request: AnalysisRequest) -> None:
            if request.token is model.case:
                model.set_result(result, request.clinical)

        self.started.connect(lambda request: status(request, AnalysisStatus(RUNNING)))
        self.progressed.connect(lambda fraction, stage: status(
            self._request, AnalysisStatus(RUNNING, fraction, stage)))
        self.finished.connect(done)
        self.failed.connect(lambda message, request: status(
            request, AnalysisStatus(FAILED, message=message)))
        self.cancelled.connect(lambda request: status(request, AnalysisStatus(CANCELLED)))

    @property
    def running(self) -> bool:
        return self._handle is not None

    def start(self, request: AnalysisRequest) -> None:
        """Run ``request``; a run in progress is cancelled and this one follows it."""
        if self._handle is not None:
            self._queued = request
            self._handle.cancel()
            return
        handle = TaskHandle(self)
        handle.progressed.connect(self.progressed)
        self._handle, self._request = handle, request
        self.started.emit(request)

        chosen = {} if request.key_frame is None else {
            "key_frame": request.key_frame, "key_frame_source": request.key_frame_source}

        def work() -> AnalysisResult:
            return self._analyze(
                request.video,
                clinical=request.clinical,
                progress=lambda stage, fraction: handle.report(fraction, stage),
                cancel=handle.cancel_event.is_set,
                **chosen,
            )

        run_in_background(work, self._done, self._error)

    @property
    def weights_dir(self) -> Path | None:
        """The weights folder runs analyse with; None: the bundled ones (or a window's own
        ``analyze`` function)."""
        return self._analyze.weights_dir if isinstance(self._analyze, PipelineAnalyzer) else None

    def use_weights(self, weights_dir: Path | None) -> None:
        """Later runs analyse with the weights in ``weights_dir`` (None: the bundled ones),
        loaded on their first run; a run in progress finishes on the weights it started with.
        A window given its own ``analyze`` function keeps it."""
        current = self._analyze
        if isinstance(current, PipelineAnalyzer) and current.weights_dir != weights_dir:
            self._analyze = PipelineAnalyzer(weights_dir, current.backend, current.device)

    def cancel(self) -> None:
        self._queued = None
        if self._handle is not None:
            self._handle.cancel()

    def _done(self, result: AnalysisResult) -> None:
        request, cancelled = self._finish()
        if cancelled:
            self.cancelled.emit(request)
        else:
            self.finished.emit(result, request)
        self._start_queued()

    def _error(self, error: Exception, trace: str) -> None:
        request, cancelled = self._finish()
        if cancelled:
            self.cancelled.emit(request)
        else:
            known = isinstance(error, DSAViewerError)
            self.failed.emit(str(error) if known else f"Unexpected error: {error}\n\n{trace}",
                             request)
        self._start_queued()

    def _finish(self) -> tuple[AnalysisRequest, bool]:
        handle, request = self._handle, self._request
        self._handle = self._request = None
        handle.deleteLater()
        return request, handle.cancelled

    def _start_queued(self) -> None:
        queued, self._queued = self._queued, None
        if queued is not None:
            self.start(queued)


class PipelineAnalyzer:
    """The real pipeline on the weights in ``weights_dir`` (default: the bundled ones),
    loaded on first use and kept. Called from one worker at a time. ``backend`` None: torch
    where it is installed, else ONNX Runtime (the packaged CPU build has no torch)."""

    def __init__(self, weights_dir: Path | None = None, backend: str | None = None,
                 device: str | None = None) -> None:
        self._weights_dir = weights_dir
        self._backend = backend
        self._device = device
        self._models: Any = None

    @property
    def weights_dir(self) -> Path | None:
        """The weights folder given (None: the bundled weights)."""
        return self._weights_dir

    @property
    def backend(self) -> str | None:
        return self._backend

    @property
    def device(self) -> str | None:
        return self._device

    def __call__(self, video: Video, **options: Any) -> AnalysisResult:
        from dsaviewer.inference.backend import load_backend
        from dsaviewer.inference.pipeline import analyze

        if self._models is None:
            self._models = load_backend(self._weights_dir, self._backend, self._device)
        return analyze(video, weights=self._models, **options)
