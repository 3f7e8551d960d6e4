"""The viewer's application model: everything the views show about the open case, Qt-free and
evented (napari's split: ``components/dims.py`` holds the state, ``qt_dims.py`` shows it).

Every field has an event under ``model.events.<field>`` that fires with the new value when the
value changes (psygnal). A view subscribes to the fields it shows::

    model.events.key_frame.connect(label.show_key_frame)

Fields change only through the model's methods (or, for plain choices such as ``frame`` and
``scope``, by assignment); no view writes another view's state. Derived facts (which key
frame is in force, whether the result still fits it) are computed here, once.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

from psygnal import Signal, SignalGroupDescriptor

from dsaviewer.app.calibration_in_force import calibration_in_force, measured_with
from dsaviewer.app.case_session import (
    CLINICAL_FROM_VIEWER,
    CLINICAL_NONE,
    CaseSession,
    key_frame_in_force,
)
from dsaviewer.app.overlays import DEFAULT_LAYERS, LayerState, shown_opacities
from dsaviewer.app.saved_analysis import to_saved
from dsaviewer.core.keyframe import KEY_FRAME_AUTO
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.inference.results import AnalysisResult, ScopeDecision
from dsaviewer.io.calibration import Calibration
from dsaviewer.io.case_state import CaseState, SavedAnalysis, VideoIdentity
from dsaviewer.io.clinical import ClinicalVariables

IDLE = "idle"
RUNNING = "running"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class AnalysisStatus:
    """Where the analysis stands: ``state`` is idle, running, failed or cancelled;
    ``fraction`` and ``stage`` tell a running one's progress, ``message`` why one stopped."""

    state: str = IDLE
    fraction: float = 0.0
    stage: str = ""
    message: str = ""

    @property
    def running(self) -> bool:
        return self.state == RUNNING


@dataclass(eq=False)
class ViewerModel:
    """The open case and what the viewer knows and shows about it; see the module doc."""

    case: CaseSession | None = None  # the case as opened (video, where it lives, auto key frame)
    frame: int = 0  # the frame on screen
    key_frame: int = 0  # the key frame in force
    key_frame_source: str = KEY_FRAME_AUTO
    key_frame_override: int | None = None  # the key frame a person set
    clinical: ClinicalVariables = field(default_factory=ClinicalVariables)
    clinical_source: str = CLINICAL_NONE
    calibration_override: Calibration | None = None  # the calibration a person made
    calibration: Calibration | None = None  # in force: the person's, else the file's own
    result: AnalysisResult | None = None  # the last analysis, lesions in calibration's mm
    result_clinical: ClinicalVariables | None = None  # the values result.prediction read
    analysis_record: SavedAnalysis | None = None  # result as saved or to be saved
    analysis: AnalysisStatus = field(default_factory=AnalysisStatus)
    overlays: OverlaySet = field(default_factory=OverlaySet)  # coloured for key frame + result
    layers: Mapping[str, LayerState] = field(default_factory=lambda: dict(DEFAULT_LAYERS))
    editing_masks: bool = False  # a mask tool is active: the model's masks are hidden
    edited_labels: tuple[str, ...] = ()  # annotated labels on the frame shown, active first
    auto_run: bool = True  # analyse on opening and when the key frame changes
    weights: Path | None = None  # the weights folder analyses use; None: the bundled ones
    scope: ScopeDecision | None = None  # the result's scope decision; None until one is made
    show_out_of_scope: bool = False  # a person asked to see an out-of-scope result anyway

    # Fields holding frames, masks or coloured images change when a new object is set:
    # comparing their arrays on every set held the UI thread for ~50 ms on a 1024² run.
    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor(
        equality_operators={name: operator.is_ for name in (
            "case", "result", "analysis_record", "overlays")})
    # What happened to the open case, beside the field events (which also fire on opening):
    # what the controllers that save, colour and re-run listen to.
    key_frame_chosen: ClassVar[Signal] = Signal(object)  # a person set or cleared the key frame
    clinical_edited: ClassVar[Signal] = Signal(object)  # a person changed the clinical values
    analysed: ClassVar[Signal] = Signal(object)  # a new result (or prediction) arrived
    calibrated: ClassVar[Signal] = Signal(object)  # a person set or removed the calibration

    # ----- the case -----
    def open(self, case: CaseSession) -> None:
        """Show ``case``: every field of the case takes its opened values at once, then their
        events fire, ``case`` first, so that every subscriber sees the whole new case."""
        key_frame, source = key_frame_in_force(case, case.key_frame_override)
        opened = {
            "case": case,
            "frame": key_frame,  # a case opens on its key frame
            "key_frame_override": case.key_frame_override,
            "key_frame_source": source,
            "key_frame": key_frame,
            "clinical": case.clinical,
            "clinical_source": case.clinical_source,
            "calibration_override": case.calibration_override,
            "calibration": calibration_in_force(case.video, case.calibration_override),
            "result": case.result,
            "result_clinical": case.result_clinical,
            "analysis_record": case.analysis_record,
            "analysis": AnalysisStatus(),
            "overlays": case.overlays,
            "edited_labels": (),
            "scope": None if case.result is None else case.result.scope,
            "show_out_of_scope": False,
        }
        old = {name: getattr(self, name) for name in opened}
        with self.events.blocked():
            for name, value in opened.items():
                setattr(self, name, value)
        for name, value in opened.items():
            getattr(self.events, name).emit(value, old[name])

    # ----- key frame -----
    def set_key_frame_override(self, index: int | None) -> None:
        """A person's key frame; None goes back to the labels' or the automatic one."""
        if self.case is None or index == self.key_frame_override:
            return
        self.key_frame_override = index
        index, source = key_frame_in_force(self.case, index)
        self.key_frame_source = source  # before key_frame: its subscribers read the source
        self.key_frame = index
        self.key_frame_chosen.emit(self.key_frame_override)

    # ----- clinical values -----
    def edit_clinical(self, values: ClinicalVariables) -> None:
        """Clinical values a person entered or loaded."""
        if self.case is None:
            return
        self.clinical_source = CLINICAL_FROM_VIEWER
        self.clinical = values
        self.clinical_edited.emit(values)

    # ----- calibration -----
    def set_calibration(self, calibration: Calibration | None) -> None:
        """A person's calibration (catheter or typed); None goes back to the file's own.
        The result's lesions are measured again with the calibration now in force."""
        if self.case is None or calibration == self.calibration_override:
            return
        self.calibration_override = calibration
        # Before result: the lesion views read the calibration their millimetres come from.
        self.calibration = calibration_in_force(self.case.video, calibration)
        if self.result is not None:
            self.result = measured_with(self.result, self.calibration)
        self.calibrated.emit(calibration)

    # ----- analysis -----
    def set_result(self, result: AnalysisResult, clinical_used: ClinicalVariables) -> None:
        """A new analysis, or a new prediction on the same masks (which keeps the stored
        arrays: only state.json is rewritten). The pipeline measured the lesions with the
        file's spacing; a person's calibration measures them again."""
        if self.calibration_override is not None:
            result = measured_with(result, self.calibration)
        record = to_saved(result, clinical_used)
        previous = self.analysis_record
        if previous is not None and previous.tumor_mask is result.tumor_mask:
            record = replace(record, stored_as=previous.stored_as)
        self.result_clinical, self.analysis_record = clinical_used, record
        self.scope = result.scope  # before result: its views read whether to hide it
        self.result = result
        self.analysis = AnalysisStatus()  # after the result: views show it once idle
        self.analysed.emit(result)

    @property
    def result_matches_key_frame(self) -> bool:
        return self.result is not None and self.result.key_frame == self.key_frame

    @property
    def prediction_matches_clinical(self) -> bool:
        return self.result is not None and self.result_clinical == self.clinical

    @property
    def result_hidden(self) -> bool:
        """The result is outside the models' scope and nobody asked to see it anyway: its
        masks, lesions and prediction are not shown."""
        scope = self.scope
        return scope is not None and not scope.in_scope and not self.show_out_of_scope

    @property
    def needs_analysis(self) -> bool:
        """No result for the key frame in force."""
        return self.case is not None and not self.result_matches_key_frame

    # ----- overlays -----
    def set_layer(self, name: str, visible: bool | None = None,
                  opacity: float | None = None) -> None:
        """A layer's switch or opacity, as a person set it."""
        old = self.layers[name]
        new = LayerState(old.visible if visible is None else visible,
                         old.opacity if opacity is None else float(opacity))
        if new != old:
            self.layers = {**self.layers, name: new}

    def shown_opacities(self) -> dict[str, float]:
        """Layer name -> opacity of the layers switched on and not hidden by mask editing or
        an out-of-scope result."""
        return shown_opacities(self.layers, self.editing_masks, self.result_hidden)

    def close(self) -> None:
        """The viewer is closing: every subscriber is disconnected, so a result that a worker
        delivers afterwards changes the model but reaches no view (their widgets are gone)."""
        self.events.disconnect()
        for happened in (self.key_frame_chosen, self.clinical_edited, self.analysed,
                         self.calibrated):
            happened.disconnect()

    # ----- persistence -----
    def state(self) -> CaseState:
        """What to save for the open case now."""
        if self.case is None:
            raise RuntimeError("no case is open")
        video = self.case.video
        height, width = video.frame_shape
        return CaseState(
            video=VideoIdentity(video.source.name, video.n_frames, (height, width)),
            key_frame_override=self.key_frame_override,
            clinical=self.clinical if self.clinical_source == CLINICAL_FROM_VIEWER else None,
            analysis=self.analysis_record,
            calibration=self.calibration_override,
        )

    def mark_saved(self, stored: CaseState) -> None:
        """Note what :func:`save_case_state` returned, so its arrays are not written twice."""
        analysis, current = stored.analysis, self.analysis_record
        if analysis is not None and current is not None and analysis.details is current.details:
            self.analysis_record = analysis

