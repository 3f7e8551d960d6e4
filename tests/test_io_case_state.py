"""The viewer's saved state: where it goes, what it holds, and that the case stays intact."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from test_gui_fixtures import run_frames, tumor_mask

from dsaviewer.errors import InputError
from dsaviewer.io.calibration import catheter_calibration
from dsaviewer.io.case_folder import open_case
from dsaviewer.io.case_state import (
    CaseState,
    SavedAnalysis,
    VideoIdentity,
    locate_case_state,
    read_case_state,
    write_case_state,
)
from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.user_data import user_data_folder
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_frame_folder


def _analysis(seed: int = 0) -> SavedAnalysis:
    rng = np.random.default_rng(seed)
    tumor = tumor_mask((40, 50))
    return SavedAnalysis(
        tumor_probability=rng.random((40, 50)).astype(np.float32),
        liver_probability=rng.random((40, 50)).astype(np.float32),
        tumor_mask=tumor,
        liver_mask=~tumor,
        details={"key_frame": 7, "device": "CPU", "prediction": {"probability": 0.25}},
    )


def _state(**changes) -> CaseState:
    values = {
        "video": VideoIdentity("video.avi", 14, (40, 50)),
        "key_frame_override": 9,
        "clinical": ClinicalVariables(age=63, sex="F", afp=1234.5, bclc="B"),
        "analysis": _analysis(),
    }
    values.update(changes)
    return CaseState(**values)


def test_a_case_folder_keeps_its_state_in_viewer_whichever_way_it_is_opened(tmp_path):
    case = tmp_path / "case7"
    write_avi(case / "video.avi", run_frames(4, 32), 5)
    for opened in (case, case / "video.avi"):
        location = locate_case_state(opened)
        assert location.state_folder == case.absolute() / "viewer"
        assert location.case_id == "case7"
        assert location.clinical_csv == tmp_path.absolute() / "clinical.csv"


def test_a_loose_video_or_frame_folder_keeps_its_state_in_the_user_folder(tmp_path):
    write_avi(tmp_path / "run1.avi", run_frames(4, 32), 5)
    write_frame_folder(tmp_path / "frames_of_run2", run_frames(4, 32))
    for name in ("run1.avi", "frames_of_run2"):
        location = locate_case_state(tmp_path / name)
        assert location.state_folder == location.cache_folder
        assert location.state_folder.parent == user_data_folder() / "cases"
        assert location.case_id is None and location.clinical_csv is None
    assert len({locate_case_state(tmp_path / n).state_folder for n in ("run1.avi",
                                                                        "frames_of_run2")}) == 2


def test_a_sidecar_written_by_earlier_versions_is_still_used(tmp_path):
    write_avi(tmp_path / "run1.avi", run_frames(4, 32), 5)
    (tmp_path / "run1.avi.viewer").mkdir()
    assert locate_case_state(tmp_path / "run1.avi").state_folder == (
        tmp_path.absolute() / "run1.avi.viewer")


def test_nothing_saved_reads_as_an_empty_state(tmp_path):
    assert read_case_state(tmp_path / "viewer") == CaseState()


def test_state_reads_back_as_written(tmp_path):
    folder = tmp_path / "viewer"
    state = _state()
    stored = write_case_state(folder, state)
    again = read_case_state(folder)
    assert again.video == state.video
    assert again.key_frame_override == 9
    assert again.clinical == state.clinical
    assert again.analysis.details == state.analysis.details
    assert again.analysis.stored_as == stored.analysis.stored_as
    np.testing.assert_array_equal(again.analysis.tumor_mask, state.analysis.tumor_mask)
    np.testing.assert_array_equal(again.analysis.liver_mask, state.analysis.liver_mask)
    for name in ("tumor_probability", "liver_probability"):
        saved = getattr(again.analysis, name)
        assert saved.dtype == np.float32
        np.testing.assert_allclose(saved, getattr(state.analysis, name), atol=1 / 65535)


def test_a_manual_calibration_reads_back_as_written(tmp_path):
    folder = tmp_path / "viewer"
    calibration = catheter_calibration(12.0, 6.0)
    write_case_state(folder, _state(calibration=calibration))
    document = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    assert document["calibration"]["mm_per_px"] == [pytest.approx(1 / 6)] * 2
    assert read_case_state(folder).calibration == calibration
    write_case_state(folder, _state(calibration=None))  # removed by the user
    assert read_case_state(folder).calibration is None


def test_a_state_file_from_before_calibrations_were_saved_reads_as_uncalibrated(tmp_path):
    folder = tmp_path / "viewer"
    folder.mkdir()
    # What the viewer wrote before a calibration was part of the state: no such key.
    (folder / "state.json").write_text(json.dumps({
        "format": "dsaviewer-viewer-state", "format_version": 1,
        "saved": "2025-01-01T00:00:00+00:00",
        "video": {"source": "video.avi", "frames": 14, "height": 40, "width": 50},
        "key_frame_override": 9, "clinical": None, "analysis": None,
    }), encoding="utf-8")
    state = read_case_state(folder)
    assert state.calibration is None
    assert state.key_frame_override == 9 and state.video == VideoIdentity("video.avi", 14,
                                                                          (40, 50))


def test_saving_again_keeps_the_arrays_and_a_new_analysis_replaces_them(tmp_path):
    folder = tmp_path / "viewer"
    stored = write_case_state(folder, _state())
    first = stored.analysis.stored_as
    written = (folder / first / "tumor_mask.png").stat().st_mtime_ns
    stored = write_case_state(folder, CaseState(stored.video, 3, None, stored.analysis))
    assert stored.analysis.stored_as == first
    assert (folder / first / "tumor_mask.png").stat().st_mtime_ns == written
    assert read_case_state(folder).key_frame_override == 3

    replaced = write_case_state(folder, _state(analysis=_analysis(seed=1)))
    assert replaced.analysis.stored_as != first
    assert not (folder / first).exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["state.json", replaced.analysis.stored_as])


def test_clearing_the_analysis_removes_its_arrays(tmp_path):
    folder = tmp_path / "viewer"
    write_case_state(folder, _state())
    write_case_state(folder, _state(analysis=None))
    assert [p.name for p in folder.iterdir()] == ["state.json"]
    assert read_case_state(folder).analysis is None


def test_the_case_stays_a_valid_untouched_training_case(tmp_path):
    case = tmp_path / "case1"
    write_avi(case / "video.avi", run_frames(6, 40), 5)
    video_bytes = hashlib.sha256((case / "video.avi").read_bytes()).hexdigest()
    write_case_state(locate_case_state(case).state_folder, _state())
    assert hashlib.sha256((case / "video.avi").read_bytes()).hexdigest() == video_bytes
    resolved = open_case(case)
    assert resolved.video_path == case / "video.avi"
    assert resolved.label_files == {}
    assert load_video(case).n_frames == 6


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"format": "other"}), "not a viewer state"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 99}), "99"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "key_frame_override": -2}), "key_frame_override"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "clinical": {"age": "two hundred"}}), "age"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "analysis": {"arrays": "analysis-missing", "details": {}}}),
         "tumor_mask.png"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "calibration": 0.2}), "'calibration' entry"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "calibration": {"mm_per_px": [20, 20], "source": "typed",
                                     "corrected": True}}), "20 mm per pixel is outside"),
        (json.dumps({"format": "dsaviewer-viewer-state", "format_version": 1,
                     "calibration": {"mm_per_px": [0.2], "source": "typed",
                                     "corrected": True}}), "two numbers"),
    ],
)
def test_a_damaged_state_is_an_input_error_naming_the_problem(tmp_path, text, problem):
    folder = tmp_path / "viewer"
    folder.mkdir()
    (folder / "state.json").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=problem) as raised:
        read_case_state(folder)
    assert "viewer" in str(raised.value)
