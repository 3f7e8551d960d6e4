"""Opening and analysing write nothing beside a loose file: its state and every cached
analysis go to the per-user folder, keyed by the video's identity; a case folder gets only
what the user changed, and read-only media work fully."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from test_gui_fixtures import FakeAnalysis, run_frames, tumor_mask

from dsaviewer.app.case_session import open_session
from dsaviewer.app.saved_analysis import to_saved
from dsaviewer.io.calibration import manual_calibration
from dsaviewer.io.case_state import (
    CaseState,
    SavedAnalysis,
    VideoIdentity,
    load_case_state,
    locate_case_state,
    save_case_state,
)
from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.frame_labels import labels_folder_for
from dsaviewer.io.recovery import recovery_folder_for
from dsaviewer.io.user_data import user_data_folder, video_key
from dsaviewer.io.writers import write_avi

DEMO_VIDEO = Path(__file__).resolve().parent.parent / "resources/demo/synth_s2024_12015/video.avi"


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def analysis_for(shape: tuple[int, int]) -> SavedAnalysis:
    tumor = tumor_mask(shape)
    probability = tumor.astype(np.float32) * 0.9
    return SavedAnalysis(probability, 1 - probability, tumor, ~tumor, {"key_frame": 3})


def test_a_loose_file_in_a_shared_folder_gets_nothing_beside_it(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    video = shutil.copy(DEMO_VIDEO, shared / "run.avi")
    before = listing(shared)

    session = open_session(video)
    save_case_state(session.location, CaseState(key_frame_override=2))
    clinical = ClinicalVariables(age=60)
    analysis = to_saved(FakeAnalysis()(session.video, key_frame=2), clinical)
    height, width = session.video.frame_shape
    identity = VideoIdentity(session.video.source.name, session.video.n_frames, (height, width))
    save_case_state(session.location, CaseState(identity, 2, clinical, analysis))
    labels_folder_for(video), recovery_folder_for(video)  # asked for, not made

    assert listing(shared) == before
    folder = session.location.state_folder
    assert folder == user_data_folder() / "cases" / video_key(video)
    assert (folder / "state.json").is_file()
    assert not folder.is_relative_to(shared)
    assert not labels_folder_for(video).is_relative_to(shared)
    assert not recovery_folder_for(video).is_relative_to(shared)

    # The same run copied elsewhere (another drive, a CD) finds its state.
    elsewhere = Path(shutil.copy(video, tmp_path / "copy.avi"))
    restored = open_session(elsewhere)
    assert restored.key_frame_override == 2 and restored.result is not None
    assert restored.clinical == ClinicalVariables(age=60)


def test_a_case_folder_gets_state_only_once_the_user_changes_something(tmp_path):
    case = tmp_path / "case1"
    write_avi(case / "video.avi", run_frames(6, 32), 5)
    location = locate_case_state(case)
    cached = save_case_state(location, CaseState(analysis=analysis_for((32, 32))))
    assert listing(case) == ["video.avi"]  # the analysis is a cache, in the user folder
    assert load_case_state(location).analysis.stored_as == cached.analysis.stored_as

    save_case_state(location, CaseState(key_frame_override=4, analysis=cached.analysis))
    assert listing(case) == ["video.avi", "viewer", "viewer/state.json"]
    state = load_case_state(location)
    assert state.key_frame_override == 4 and state.analysis is not None

    save_case_state(location, CaseState(analysis=cached.analysis))  # the override undone
    assert load_case_state(location).key_frame_override is None


def test_a_manual_calibration_is_a_change_kept_in_the_case_but_never_beside_a_loose_file(
    tmp_path,
):
    case = tmp_path / "case1"
    write_avi(case / "video.avi", run_frames(6, 32), 5)
    shared = tmp_path / "shared"
    write_avi(shared / "run.avi", run_frames(6, 32), 5)
    calibration = manual_calibration(0.25)
    for opened in (case, shared / "run.avi"):
        location = locate_case_state(opened)
        save_case_state(location, CaseState(calibration=calibration))
        assert load_case_state(location).calibration == calibration
    assert listing(case) == ["video.avi", "viewer", "viewer/state.json"]
    assert listing(shared) == ["run.avi"]


def test_a_case_on_read_only_media_keeps_the_users_changes_in_the_user_folder(tmp_path):
    case = tmp_path / "cdrom" / "case1"
    write_avi(case / "video.avi", run_frames(6, 32), 5)
    # Tests run as root, whom permissions do not stop: a file where the folder would go
    # makes the case folder unwritable for the viewer's state.
    (case / "viewer").write_text("not a folder")
    location = locate_case_state(case)
    save_case_state(location, CaseState(key_frame_override=3, clinical=ClinicalVariables(age=55)))
    assert (case / "viewer").read_text() == "not a folder"
    state = load_case_state(location)
    assert state.key_frame_override == 3 and state.clinical == ClinicalVariables(age=55)
