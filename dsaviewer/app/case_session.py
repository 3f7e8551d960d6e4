"""The open case as the viewer holds it: the video, its key frame, clinical values and the
last analysis, and how that maps onto what is saved. Qt-free (napari's split of models and
views): the window shows a session and edits it; :func:`open_session` runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dsaviewer.app.saved_analysis import from_saved, to_saved
from dsaviewer.core.difference import frame_difference
from dsaviewer.core.keyframe import (
    KEY_FRAME_AUTO,
    KEY_FRAME_LABELS,
    KEY_FRAME_OVERRIDE,
    select_key_frame,
)
from dsaviewer.core.overlay_images import OverlaySet, make_overlays
from dsaviewer.core.preprocess import FieldBox, find_field
from dsaviewer.core.window_level import default_window, grey_histogram
from dsaviewer.errors import InputError
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.case_state import (
    CaseLocation,
    CaseState,
    SavedAnalysis,
    VideoIdentity,
    locate_case_state,
    read_case_state,
)
from dsaviewer.io.clinical import ClinicalVariables, read_clinical_csv
from dsaviewer.io.key_frame_labels import labelled_key_frame
from dsaviewer.io.video import Video, load_video

CLINICAL_FROM_VIEWER = "entered in the viewer"
CLINICAL_FROM_CSV = "from clinical.csv"
CLINICAL_NONE = "none entered"


def frame_number(index: int) -> int:
    """The number the viewer shows for a 0-based frame index: frames count from 1 on screen,
    as in DICOM viewers and the scanners' burned-in counters; files keep 0-based indices."""
    return index + 1


@dataclass
class CaseSession:
    """One open case. Mutated on the UI thread only; workers get snapshots."""

    opened: Path
    video: Video
    location: CaseLocation
    key_frame_auto: int
    key_frame_labels: int | None
    window: tuple[float, float]
    histogram: tuple[np.ndarray, np.ndarray]
    overlays: OverlaySet
    key_frame_override: int | None = None
    clinical: ClinicalVariables = field(default_factory=ClinicalVariables)
    clinical_source: str = CLINICAL_NONE
    result: AnalysisResult | None = None
    result_clinical: ClinicalVariables | None = None  # the values result.prediction read
    analysis_record: SavedAnalysis | None = None  # result as saved or to be saved
    notes: list[str] = field(default_factory=list)  # problems met while opening

    @property
    def key_frame(self) -> int:
        if self.key_frame_override is not None:
            return self.key_frame_override
        return self.key_frame_labels if self.key_frame_labels is not None else self.key_frame_auto

    @property
    def key_frame_source(self) -> str:
        if self.key_frame_override is not None:
            return KEY_FRAME_OVERRIDE
        return KEY_FRAME_LABELS if self.key_frame_labels is not None else KEY_FRAME_AUTO

    @property
    def result_matches_key_frame(self) -> bool:
        return self.result is not None and self.result.key_frame == self.key_frame

    @property
    def prediction_matches_clinical(self) -> bool:
        return self.result is not None and self.result_clinical == self.clinical

    def set_result(self, result: AnalysisResult, clinical_used: ClinicalVariables) -> None:
        """Take a new analysis, or a new prediction on the same masks (which keeps the stored
        arrays: only state.json is rewritten)."""
        record = to_saved(result, clinical_used)
        previous = self.analysis_record
        if previous is not None and previous.tumor_mask is result.tumor_mask:
            record = replace(record, stored_as=previous.stored_as)
        self.result, self.result_clinical, self.analysis_record = result, clinical_used, record

    def state(self) -> CaseState:
        """What to save now."""
        height, width = self.video.frame_shape
        return CaseState(
            video=VideoIdentity(self.video.source.name, self.video.n_frames, (height, width)),
            key_frame_override=self.key_frame_override,
            clinical=self.clinical if self.clinical_source == CLINICAL_FROM_VIEWER else None,
            analysis=self.analysis_record,
        )

    def mark_saved(self, stored: CaseState) -> None:
        """Note what :func:`write_case_state` returned, so its arrays are not written twice."""
        analysis = stored.analysis
        current = self.analysis_record
        if analysis is not None and current is not None and analysis.details is current.details:
            self.analysis_record = analysis


def open_session(path: str | Path) -> CaseSession:
    """Load what ``path`` names and everything saved with it. InputError for a video that
    cannot be opened; problems with the saved state only become ``notes``."""
    opened = Path(path)
    video = load_video(opened)
    location = locate_case_state(opened)
    notes: list[str] = []
    try:
        state = read_case_state(location.state_folder)
    except InputError as error:
        notes.append(f"the saved viewer state was not restored: {error}")
        state = CaseState()
    state = _state_for_video(state, video, notes)

    exposed = exposed_field(video)
    session = CaseSession(
        opened=opened,
        video=video,
        location=location,
        key_frame_auto=select_key_frame(video.frames, field=exposed).index,
        key_frame_labels=_labelled_key_frame(location, video, notes),
        window=default_window(video.frames, exposed),
        histogram=grey_histogram(video.frames),
        overlays=OverlaySet(),
        key_frame_override=state.key_frame_override,
        notes=notes,
    )
    _restore_clinical(session, state, notes)
    if state.analysis is not None:
        try:
            session.result, session.result_clinical = from_saved(state.analysis, video)
            session.analysis_record = state.analysis
        except InputError as error:
            notes.append(f"the saved analysis was not restored: {error}")
    session.overlays = overlays_for(video, session.key_frame, session.result)
    return session


def exposed_field(video: Video) -> FieldBox | None:
    """The collimated field, found as the pipeline finds it (so the key frame scored inside
    it is the frame the analysis will choose); None for a blank or all-border clip."""
    try:
        return find_field(video.frames, white_level=video.max_value)
    except InputError:
        return None


def overlays_for(video: Video, key_frame: int, result: AnalysisResult | None) -> OverlaySet:
    """The overlay images for ``key_frame``: the result's masks when there is a result, and
    the frame difference, which needs no analysis."""
    if result is not None and result.key_frame == key_frame:
        difference = result.frame_difference
    else:
        difference = frame_difference(video.frames, key_frame)
    return make_overlays(
        None if result is None else result.tumor_mask,
        None if result is None else result.liver_mask,
        difference,
    )


def _state_for_video(state: CaseState, video: Video, notes: list[str]) -> CaseState:
    """Drop what belongs to another video: a replaced file must not get stale masks."""
    identity = state.video
    height, width = video.frame_shape
    if identity is None or (identity.n_frames, identity.frame_shape) == (
        video.n_frames,
        (height, width),
    ):
        override = state.key_frame_override
        if override is not None and override >= video.n_frames:
            notes.append(f"the saved key frame {frame_number(override)} is beyond the video; "
                         "ignored")
            return CaseState(identity, None, state.clinical, state.analysis)
        return state
    notes.append(
        f"the saved key frame and analysis were made for a different video "
        f"({identity.n_frames} frames of {identity.frame_shape[1]}x{identity.frame_shape[0]}); "
        "they were not restored"
    )
    return CaseState(identity, None, state.clinical, None)


def _restore_clinical(session: CaseSession, state: CaseState, notes: list[str]) -> None:
    if state.clinical is not None:
        session.clinical, session.clinical_source = state.clinical, CLINICAL_FROM_VIEWER
        return
    csv_path, case_id = session.location.clinical_csv, session.location.case_id
    if csv_path is None or case_id is None or not csv_path.is_file():
        return
    try:
        row = read_clinical_csv(csv_path).get(case_id)
    except InputError as error:
        notes.append(f"clinical.csv was not read: {error}")
        return
    if row is not None:
        session.clinical, session.clinical_source = row.variables, CLINICAL_FROM_CSV


def _labelled_key_frame(location: CaseLocation, video: Video, notes: list[str]) -> int | None:
    if location.case_id is None:
        return None
    try:
        index = labelled_key_frame(open_case(location.state_folder.parent))
    except InputError as error:
        notes.append(f"the labels' key frame was not used: {error}")
        return None
    if index is not None and index >= video.n_frames:
        notes.append(f"the labels flag frame {frame_number(index)} as key frame, beyond the "
                     "video; ignored")
        return None
    return index
