"""When the application model asks for an analysis, without Qt: the scheduler with a runner
that analyses at once (the stand-in pipeline of test_gui_fixtures), the persistence and the
overlay colouring on run_now."""

from __future__ import annotations

from test_gui_fixtures import FakeAnalysis, write_avi_case

from dsaviewer.app.analysis_requests import AnalysisRequest, AnalysisScheduler
from dsaviewer.app.case_session import open_session
from dsaviewer.app.overlay_colouring import OverlayColouring
from dsaviewer.app.persistence import CaseStatePersistence
from dsaviewer.app.tasks import run_now
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_OVERRIDE
from dsaviewer.io.case_state import load_case_state
from dsaviewer.io.clinical import ClinicalVariables


def viewer(auto_run: bool) -> tuple[ViewerModel, list[AnalysisRequest], AnalysisScheduler]:
    """A model with its controllers; every run is analysed at once and recorded."""
    model, runs, analyze = ViewerModel(auto_run=auto_run), [], FakeAnalysis()

    def start(request: AnalysisRequest) -> None:
        runs.append(request)
        result = analyze(request.video, clinical=request.clinical, key_frame=request.key_frame,
                         key_frame_source=request.key_frame_source)
        model.set_result(result, request.clinical)

    CaseStatePersistence(model, run_now)
    OverlayColouring(model, run_now)
    return model, runs, AnalysisScheduler(model, start, later=lambda run: run())


def test_opening_analyses_once_when_asked_and_a_new_key_frame_runs_again(tmp_path):
    model, runs, _ = viewer(auto_run=True)
    model.open(open_session(write_avi_case(tmp_path / "c1")))
    assert len(runs) == 1 and runs[0].key_frame is None  # the pipeline chooses
    assert model.result_matches_key_frame and model.overlays.tumor is not None

    model.set_key_frame_override(3)
    assert len(runs) == 2 and runs[1].key_frame == 3
    assert runs[1].key_frame_source == KEY_FRAME_OVERRIDE
    assert model.result.key_frame == 3
    saved = load_case_state(model.case.location)  # the analysis: in the per-user cache
    assert saved.key_frame_override == 3 and saved.analysis.details["key_frame"] == 3


def test_without_auto_run_nothing_runs_until_asked_but_a_prediction_follows_the_values(
        tmp_path):
    model, runs, scheduler = viewer(auto_run=False)
    model.open(open_session(write_avi_case(tmp_path / "c1")))
    model.set_key_frame_override(5)
    model.edit_clinical(ClinicalVariables(age=60))
    assert runs == [] and model.result is None  # no result to update

    scheduler.run()  # the Run button
    assert len(runs) == 1 and runs[0].key_frame == 5
    assert runs[0].clinical == ClinicalVariables(age=60) and model.result_matches_key_frame
    model.edit_clinical(ClinicalVariables(age=61))  # the result fits: its prediction is redone
    assert len(runs) == 2 and runs[1].clinical == ClinicalVariables(age=61)
    assert model.prediction_matches_clinical
