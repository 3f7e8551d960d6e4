"""Saving the open case's state (key-frame override, clinical values entered in the viewer,
a manual calibration, the analysis) whenever one of them changes: it listens to the model,
nobody calls it.

Writes go through ``submit`` (the viewer's single-thread save pool, so writes keep their
order); ``saved`` fires once one reached the disk, ``failed`` with a message when it could not.
"""

from __future__ import annotations

from psygnal import Signal

from dsaviewer.app.tasks import Submit
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.io.case_state import CaseState, save_case_state


class CaseStatePersistence:
    saved = Signal()
    failed = Signal(str)

    def __init__(self, model: ViewerModel, submit: Submit) -> None:
        self._model = model
        self._submit = submit
        # Lambdas, not bound methods: psygnal holds those weakly, and this object lives as
        # long as the model it listens to, whoever else keeps it.
        for happened in (model.key_frame_chosen, model.clinical_edited, model.calibrated,
                         model.analysed):
            happened.connect(lambda _what: self._save())

    def _save(self) -> None:
        model = self._model
        case = model.case
        if case is None:
            return
        state, location = model.state(), case.location
        # The analysis is a cache kept in the per-user folder; a case folder gets only what
        # the user changed (io.case_state.save_case_state).
        folder = location.cache_folder or location.state_folder

        def stored(written: CaseState) -> None:
            if model.case is case:
                model.mark_saved(written)
            self.saved.emit()

        self._submit(
            lambda: save_case_state(location, state),
            stored,
            lambda error, _trace: self.failed.emit(
                f"Could not save the case state in {folder}: {error}"),
        )
