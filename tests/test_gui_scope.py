"""The viewer and the scope decision: the banner, what an out-of-scope result hides until a
person asks to see it anyway, the borderline call, and the key frame named in the legend while
another frame is on screen; with real files where they are present."""

from __future__ import annotations

import dataclasses

import pytest
from test_gui_fixtures import FakeAnalysis, write_avi_case
from viewer_window import (
    WAIT_MS,
    make_window,
    open_case,
    run_analysis,
)

from dsaviewer.app.overlays import LESIONS, LIVER, TUMOR
from dsaviewer.inference.results import ScopeDecision
from dsaviewer.resources import weights_dir

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")

OUTSIDE = ScopeDecision(in_scope=False, score=0.12, reasons=(
    "the image does not look like a liver angiography run (scope score 0.12, below 0.47)",))


class ScopedAnalysis(FakeAnalysis):
    """FakeAnalysis whose results carry ``scope`` and, if given, a response ``probability``."""

    def __init__(self, scope: ScopeDecision, probability: float | None = None) -> None:
        super().__init__()
        self.scope, self.probability = scope, probability

    def __call__(self, *args, **kwargs):
        result = super().__call__(*args, **kwargs)
        prediction = result.prediction
        if self.probability is not None:
            prediction = dataclasses.replace(prediction, probability=self.probability)
        return dataclasses.replace(result, scope=self.scope, prediction=prediction)


def _shown(window) -> set[str]:
    return {name for name in (TUMOR, LIVER, LESIONS) if window.frame_view.overlays.is_shown(name)}


def test_an_out_of_scope_result_is_hidden_behind_the_banner_until_shown_anyway(
        qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "viewer.ini", ScopedAnalysis(OUTSIDE))
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    assert not window.scope_banner.isVisible()
    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.run_analysis()
    banner = window.scope_banner
    qtbot.waitUntil(banner.isVisible, timeout=WAIT_MS)
    assert "does not look like a liver angiography run" in banner.text.text()
    qtbot.waitUntil(lambda: window.model.overlays.tumor is not None, timeout=WAIT_MS)
    assert _shown(window) == set()
    assert window.response_panel.call.text() == "No prediction"
    assert "outside what the models were made for" in window.response_panel.details.text()
    assert window.analysis_panel.lesions.rowCount() == 0
    assert "lesions hidden" in window.analysis_panel.status.text()

    banner.show_anyway.setChecked(True)  # a person asks to see it anyway
    assert window.model.show_out_of_scope
    assert _shown(window) == {TUMOR, LIVER, LESIONS}
    assert window.response_panel.call.text().startswith(("Responder", "Non-responder"))
    assert "shown anyway" in window.response_panel.state.text()
    assert window.analysis_panel.lesions.rowCount() > 0

    banner.show_anyway.setChecked(False)
    assert _shown(window) == set() and window.response_panel.call.text() == "No prediction"


def test_an_in_scope_result_shows_no_banner_and_a_borderline_call(
        qtbot, tmp_path):
    inside = ScopeDecision(in_scope=True, score=0.93)
    analysis = ScopedAnalysis(inside, probability=0.53)
    window = make_window(qtbot, tmp_path / "viewer.ini", analysis)
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    run_analysis(qtbot, window)
    assert not window.scope_banner.isVisible()
    assert _shown(window) == {TUMOR, LIVER, LESIONS}
    call = window.response_panel.call.text().replace("\u00a0", " ")
    assert call.startswith("Borderline: p = 0.53, within 0.05 of the threshold")


def test_the_legend_names_the_key_frame_of_the_masks_on_other_frames(
        qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "viewer.ini")
    open_case(qtbot, window, write_avi_case(tmp_path / "case"))
    run_analysis(qtbot, window)
    model = window.model
    legend = window.frame_view.legend
    assert "key frame" not in legend.text  # on the key frame itself
    other = 0 if model.key_frame else 1
    model.frame = other
    key_number = f"key frame {model.key_frame + 1}"
    qtbot.waitUntil(lambda: key_number in legend.text, timeout=WAIT_MS)
    model.frame = model.key_frame
    qtbot.waitUntil(lambda: "key frame" not in legend.text, timeout=WAIT_MS)


@pytest.fixture
def real_analysis():
    if not (weights_dir() / "manifest.json").is_file():
        pytest.skip(f"no shipped weights in {weights_dir()}")
    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer

    return PipelineAnalyzer()  # the viewer's own analyzer; torch is first imported in its worker


def test_the_real_cardiac_run_opens_with_the_banner(
        qtbot, shared_dicom_dir, tmp_path, real_analysis):
    window = make_window(qtbot, tmp_path / "viewer.ini", real_analysis)
    open_case(qtbot, window, shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm")
    with qtbot.waitSignal(window.analysis_finished, timeout=60_000):
        window.run_analysis()
    qtbot.waitUntil(window.scope_banner.isVisible, timeout=WAIT_MS)
    assert "heart / coronary arteries" in window.scope_banner.text.text()
    assert window.response_panel.call.text() == "No prediction"


def test_the_real_ultrasound_file_is_viewable_and_its_analysis_refused_in_words(
        qtbot, shared_dicom_dir, tmp_path, real_analysis):
    window = make_window(qtbot, tmp_path / "viewer.ini", real_analysis)
    open_case(qtbot, window, shared_dicom_dir / "US-MONO2-8-8x-execho.dcm")
    assert window.frame_view.frame is not None  # it can be viewed
    window.run_analysis()
    status = window.analysis_panel.status
    qtbot.waitUntil(lambda: "ultrasound file" in status.text(), timeout=60_000)
    assert "not an X-ray angiography run" in status.text()
