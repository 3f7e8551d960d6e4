"""Colours the overlay images (masks, frame difference) for the key frame and result in force,
off the UI thread, whenever a person changes the key frame or an analysis arrives; the
images reach the model only if both are still in force when they are ready."""

from __future__ import annotations

from psygnal import Signal

from dsaviewer.app.case_session import overlays_for
from dsaviewer.app.tasks import Submit
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.overlay_images import OverlaySet


class OverlayColouring:
    failed = Signal(str)

    def __init__(self, model: ViewerModel, submit: Submit) -> None:
        self._model = model
        self._submit = submit
        # Lambdas: psygnal holds bound methods weakly; this lives as long as the model.
        for happened in (model.key_frame_chosen, model.analysed):
            happened.connect(lambda _what: self._recolour())

    def _recolour(self) -> None:
        model = self._model
        case, key_frame, result = model.case, model.key_frame, model.result
        if case is None:
            return

        def show(overlays: OverlaySet) -> None:
            if model.case is case and model.key_frame == key_frame and model.result is result:
                model.overlays = overlays

        self._submit(lambda: overlays_for(case.video, key_frame, result), show,
                     lambda error, trace: self.failed.emit(f"{error}\n\n{trace}"))
