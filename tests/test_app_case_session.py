"""Opening a case for the viewer and the application model that holds it (Qt-free): what
opening restores and from where, and what the model saves as it changes."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from test_gui_fixtures import (
    N_FRAMES,
    SPACING_MM,
    FakeAnalysis,
    run_frames,
    write_avi_case,
    write_dicom_case,
)

from dsaviewer.app.case_session import (
    CLINICAL_FROM_CSV,
    CLINICAL_FROM_VIEWER,
    CLINICAL_NONE,
    open_session,
)
from dsaviewer.app.persistence import CaseStatePersistence
from dsaviewer.app.tasks import run_now
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import (
    KEY_FRAME_AUTO,
    KEY_FRAME_LABELS,
    KEY_FRAME_OVERRIDE,
    select_key_frame,
)
from dsaviewer.core.lesions import MinLesionSize
from dsaviewer.inference.results import ScopeDecision
from dsaviewer.io.calibration import catheter_calibration, manual_calibration
from dsaviewer.io.case_state import load_case_state
from dsaviewer.io.clinical import ClinicalRow, ClinicalVariables, write_clinical_csv
from dsaviewer.io.labelme import write_labelme
from dsaviewer.io.writers import write_avi

HELD_KEY_FRAME = N_FRAMES - 3  # the first of the identical held frames


def opened(path) -> ViewerModel:
    """A model showing the case at ``path`` whose state is saved as it changes."""
    model = ViewerModel()
    CaseStatePersistence(model, run_now)
    model.open(open_session(path))
    return model


def test_opening_picks_the_key_frame_and_prepares_the_display(tmp_path):
    session = open_session(write_dicom_case(tmp_path / "c1"))
    model = ViewerModel()
    model.open(session)
    assert model.key_frame == session.key_frame_auto == HELD_KEY_FRAME == model.frame
    assert model.key_frame_source == KEY_FRAME_AUTO
    assert session.key_frame_auto == select_key_frame(session.video.frames).index
    low, high = session.window
    assert 0 <= low < high <= 255
    assert session.overlays.difference is not None  # the frame difference needs no analysis
    assert session.overlays.tumor is None and session.result is None
    assert session.clinical == ClinicalVariables() and session.clinical_source == CLINICAL_NONE
    assert session.notes == []


def test_clinical_values_come_from_the_datasets_csv_row(tmp_path):
    write_avi_case(tmp_path / "c1")
    write_avi_case(tmp_path / "c2")
    write_clinical_csv(tmp_path / "clinical.csv", {
        "c1": ClinicalRow(ClinicalVariables(age=70, bclc="A")),
        "c3": ClinicalRow(ClinicalVariables(age=50)),
    })
    with_row = open_session(tmp_path / "c1")
    assert with_row.clinical == ClinicalVariables(age=70, bclc="A")
    assert with_row.clinical_source == CLINICAL_FROM_CSV
    assert open_session(tmp_path / "c2").clinical_source == CLINICAL_NONE


def test_values_entered_in_the_viewer_win_over_the_csv(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    write_clinical_csv(tmp_path / "clinical.csv", {"c1": ClinicalRow(ClinicalVariables(age=70))})
    model = opened(case)
    assert model.clinical == ClinicalVariables(age=70)
    model.edit_clinical(ClinicalVariables(age=71))
    assert model.clinical_source == CLINICAL_FROM_VIEWER
    reopened = open_session(case)
    assert reopened.clinical == ClinicalVariables(age=71)
    assert reopened.clinical_source == CLINICAL_FROM_VIEWER


def test_override_and_analysis_are_restored_with_identical_lesions(tmp_path):
    case = write_dicom_case(tmp_path / "c1")
    model = opened(case)
    model.set_key_frame_override(5)
    result = FakeAnalysis()(model.case.video, clinical=ClinicalVariables(age=60), key_frame=5)
    model.set_result(result, ClinicalVariables(age=60))

    reopened = opened(case)
    assert reopened.key_frame == 5 and reopened.key_frame_source == KEY_FRAME_OVERRIDE
    restored = reopened.result
    assert restored.key_frame == 5 and reopened.result_matches_key_frame
    assert reopened.result_clinical == ClinicalVariables(age=60)
    assert restored.prediction == result.prediction
    assert [lesion.area_px for lesion in restored.lesions] == [
        lesion.area_px for lesion in result.lesions]
    assert [lesion.area_mm2 for lesion in restored.lesions] == [
        lesion.area_mm2 for lesion in result.lesions]
    np.testing.assert_array_equal(restored.frame_difference, result.frame_difference)
    assert reopened.overlays.tumor is not None


def test_an_out_of_scope_decision_is_restored_with_the_analysis(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    model = opened(case)
    scope = ScopeDecision(in_scope=False, score=0.125, reasons=("not a liver run",))
    model.set_result(dataclasses.replace(FakeAnalysis()(model.case.video), scope=scope),
                     ClinicalVariables())
    assert model.scope == scope
    reopened = opened(case)
    assert reopened.result.scope == scope and reopened.scope == scope


def test_a_changed_prediction_rewrites_the_state_but_not_the_masks(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    model = opened(case)
    result = FakeAnalysis()(model.case.video)
    model.set_result(result, ClinicalVariables())
    first = model.analysis_record.stored_as
    model.set_result(result, ClinicalVariables(age=50))  # same masks, new prediction
    assert model.analysis_record.stored_as == first
    saved = load_case_state(model.case.location)  # the analysis: in the per-user cache
    assert saved.analysis.stored_as == first
    assert saved.analysis.details["clinical_used"]["age"] == "50"


def test_a_manual_calibration_is_restored_and_measures_the_lesions(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    model = opened(case)
    model.set_result(FakeAnalysis()(model.case.video), ClinicalVariables())
    assert model.calibration is None
    assert all(lesion.area_mm2 is None for lesion in model.result.lesions)  # an AVI: no mm
    catheter = catheter_calibration(12.0, 6.0)  # 2 mm over 12 px
    model.set_calibration(catheter)
    measured = model.result.lesions
    assert [lesion.area_mm2 for lesion in measured] == [
        pytest.approx(lesion.area_px / 36) for lesion in measured]

    reopened = opened(case)
    assert reopened.calibration == reopened.calibration_override == catheter
    restored = reopened.result.lesions  # the saved analysis, measured with it
    assert [(lesion.area_mm2, lesion.longest_diameter_mm) for lesion in restored] == [
        (lesion.area_mm2, lesion.longest_diameter_mm) for lesion in measured]
    reopened.set_calibration(None)
    assert all(lesion.area_mm2 is None for lesion in reopened.result.lesions)
    assert opened(case).calibration is None


def test_a_later_result_is_measured_with_the_manual_calibration(tmp_path):
    model = opened(write_avi_case(tmp_path / "c1"))
    model.set_calibration(manual_calibration(0.5))
    model.set_result(FakeAnalysis()(model.case.video), ClinicalVariables())
    lesion = model.result.lesions[0]
    assert lesion.area_mm2 == pytest.approx(lesion.area_px * 0.25)


def test_a_dicoms_own_spacing_holds_until_a_person_calibrates(tmp_path):
    case = write_dicom_case(tmp_path / "c1")
    model = opened(case)
    assert model.calibration_override is None
    assert model.calibration.mm_per_px == pytest.approx(SPACING_MM)
    typed = manual_calibration(0.25)
    model.set_calibration(typed)
    assert model.calibration == typed  # the person's calibration wins
    assert opened(case).calibration == typed
    model.set_calibration(None)
    assert opened(case).calibration.mm_per_px == pytest.approx(SPACING_MM)


def test_a_saved_analysis_lists_lesions_down_to_the_size_it_was_made_with(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    model = opened(case)
    result = FakeAnalysis()(model.case.video)
    small, large = sorted(lesion.area_px for lesion in result.lesions)  # the two tumours
    limit = MinLesionSize(area_mm2=(small + large) / 2, area_px=small + 1)
    model.set_result(dataclasses.replace(result, min_lesion_size=limit), ClinicalVariables())

    reopened = opened(case)
    assert reopened.result.min_lesion_size == limit
    assert [lesion.area_px for lesion in reopened.result.lesions] == [large]
    reopened.set_calibration(manual_calibration(1.0))  # mm² = px: the mm² limit holds now
    assert [lesion.area_px for lesion in reopened.result.lesions] == [large]


def test_state_of_another_video_is_not_applied_to_this_one(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    model = opened(case)
    model.set_key_frame_override(2)
    model.set_result(FakeAnalysis()(model.case.video), ClinicalVariables())
    model.edit_clinical(ClinicalVariables(age=44))
    model.set_calibration(manual_calibration(0.25))
    write_avi(case / "video.avi", run_frames(N_FRAMES + 3), 7.5)  # the run was replaced

    reopened = open_session(case)
    assert reopened.key_frame_override is None and reopened.result is None
    assert reopened.calibration_override is None
    assert reopened.clinical == ClinicalVariables(age=44)  # the patient's values still hold
    assert any("different video" in note for note in reopened.notes)


def test_an_unreadable_state_becomes_a_note_not_a_failure(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    (case / "viewer").mkdir()
    (case / "viewer" / "state.json").write_text("{broken", encoding="utf-8")
    session = open_session(case)
    assert session.result is None
    assert any("state.json" in note for note in session.notes)


def test_the_labelled_key_frame_is_used_when_there_is_no_override(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    mask = np.zeros((96, 96), bool)
    mask[20:40, 20:40] = True
    write_labelme(case / "labels" / "0004.json", run_frames()[4], {"tumor": mask},
                  flags={"key_frame": True})
    model = opened(case)
    assert model.key_frame == 4 and model.key_frame_source == KEY_FRAME_LABELS
    model.set_key_frame_override(9)
    assert model.key_frame == 9 and model.key_frame_source == KEY_FRAME_OVERRIDE
    model.set_key_frame_override(None)
    assert model.key_frame == 4 and model.key_frame_source == KEY_FRAME_LABELS


def test_saved_state_json_is_plain_readable_json(tmp_path):
    case = write_avi_case(tmp_path / "c1")
    opened(case).set_key_frame_override(3)
    document = json.loads((case / "viewer" / "state.json").read_text(encoding="utf-8"))
    assert document["key_frame_override"] == 3
    assert document["video"] == {"source": "video.avi", "frames": N_FRAMES, "height": 96,
                                 "width": 96}


def test_contradicting_key_frame_flags_fall_back_to_the_automatic_key_frame_with_a_note(
        tmp_path):
    case = write_avi_case(tmp_path / "c1")
    mask = np.zeros((96, 96), bool)
    mask[20:40, 20:40] = True
    for index in (4, 6):
        write_labelme(case / "labels" / f"{index:04d}.json", run_frames()[index],
                      {"tumor": mask}, flags={"key_frame": True})
    model = opened(case)
    assert model.key_frame_source == KEY_FRAME_AUTO
    assert model.key_frame == model.case.key_frame_auto
    assert any("frames [4, 6] are flagged" in note for note in model.case.notes)
