"""Opening a case for the viewer: the video, its automatic and labelled key frames, the
display defaults, and what was saved with it (key-frame override, clinical values, a manual
calibration, the last analysis). Qt-free; :func:`open_session` runs in a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dsaviewer.app.calibration_in_force import calibration_in_force, spacing_of
from dsaviewer.app.saved_analysis import from_saved
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
from dsaviewer.io.calibration import Calibration
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.case_state import (
    CaseLocation,
    CaseState,
    SavedAnalysis,
    load_case_state,
    locate_case_state,
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


def frame_numbers_text(indices) -> str:
    """0-based frame indices as a person reads them: ``"8, 9"`` for [7, 8]."""
    return ", ".join(str(frame_number(int(index))) for index in indices)


def frame_file_text(index: int) -> str:
    """A frame named with its label file, where a message points at one: frame 8 is
    ``labels/0007.json`` (the contract's 0-based NNNN)."""
    return f"frame {frame_number(index)} (file {int(index):04d})"


@dataclass
class CaseSession:
    """A case as :func:`open_session` found it: the video and what was saved with it. The
    viewer's :class:`~dsaviewer.app.viewer_model.ViewerModel` takes these values on opening
    and holds what changes afterwards; this object is not changed once opened."""

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
    calibration_override: Calibration | None = None  # a person's, saved with the case
    result: AnalysisResult | None = None  # lesions measured with the calibration in force
    result_clinical: ClinicalVariables | None = None  # the values result.prediction read
    analysis_record: SavedAnalysis | None = None  # result as saved or to be saved
    notes: list[str] = field(default_factory=list)  # problems met while opening

    @property
    def key_frame(self) -> int:
        """The key frame in force when the case was opened."""
        return key_frame_in_force(self, self.key_frame_override)[0]


def key_frame_in_force(case: CaseSession, override: int | None) -> tuple[int, str]:
    """(index, source) of the key frame in force: a person's choice (``override``), else the
    frame the labels flag, else the automatic one."""
    if override is not None:
        return override, KEY_FRAME_OVERRIDE
    if case.key_frame_labels is not None:
        return case.key_frame_labels, KEY_FRAME_LABELS
    return case.key_frame_auto, KEY_FRAME_AUTO


def open_session(path: str | Path) -> CaseSession:
    """Load what ``path`` names and everything saved with it. InputError for a video that
    cannot be opened; problems with the saved state only become ``notes``."""
    opened = Path(path)
    video = load_video(opened)
    location = locate_case_state(opened)
    notes: list[str] = []
    try:
        state = load_case_state(location)
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
        calibration_override=state.calibration,
        notes=notes,
    )
    _restore_clinical(session, state, notes)
    if state.analysis is not None:
        try:
            spacing = spacing_of(calibration_in_force(video, state.calibration))
            session.result, session.result_clinical = from_saved(state.analysis, video, spacing)
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
            return replace(state, key_frame_override=None)
        return state
    # A calibration too: it was made on another run, maybe at another magnification.
    dropped = [name for name, saved in (("key frame", state.key_frame_override),
                                        ("calibration", state.calibration),
                                        ("analysis", state.analysis)) if saved is not None]
    if dropped:
        notes.append(
            f"not restored, made for a different video ({identity.n_frames} frames of "
            f"{identity.frame_shape[1]}x{identity.frame_shape[0]}): the saved "
            + ", ".join(dropped)
        )
    return CaseState(identity, clinical=state.clinical)


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
