"""The viewer's parametric mode, region curves and side-by-side comparison (pytest-qt,
offscreen), on a generated run and its post-embolisation control run."""

from __future__ import annotations

import csv
import dataclasses
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from test_gui_fixtures import FakeAnalysis

from dsaviewer.core.compare_runs import frame_at
from dsaviewer.core.lesions import extract_lesions
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.parametric.panel import ParametricPanel
from dsaviewer.gui.settings import AUTO_ANALYZE
from dsaviewer.io.video import load_video
from training.synth import SynthOptions
from training.synth.case_writer import write_case
from training.synth.embolisation import Embolisation, generate_pair

WAIT_MS = 30_000
OPTIONS = SynthOptions(sizes=(((256, 256), 1.0),), frames=(20, 20), p_rich_blood=1.0,
                       max_tumors=1, formats=(("avi", 1.0),), p_breath=0.0, p_end_breath=0.0)
EMBOLISATION = Embolisation(stain_remaining=0.2, flow="slowed", slowing=1.8, shift_px=(4.0, -3.0),
                            rotation_deg=1.5)


# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


@pytest.fixture(scope="module")
def generated_pair(tmp_path_factory):
    pair = generate_pair(11, 1, OPTIONS, EMBOLISATION)
    root = tmp_path_factory.mktemp("pair")
    return pair, write_case(pair.pre, root), write_case(pair.post, root)


@pytest.fixture
def pair_on_disk(generated_pair, tmp_path):
    """The pair's case folders, copied: the viewer saves its state into a case it opened."""
    pair, pre, post = generated_pair
    return (pair, shutil.copytree(pre, tmp_path / "cases" / pre.name),
            shutil.copytree(post, tmp_path / "cases" / post.name))


class LabelAnalysis(FakeAnalysis):
    """The stand-in analysis, with the generated run's true masks as its result."""

    def __init__(self, tumor: np.ndarray, liver: np.ndarray) -> None:
        super().__init__()
        self.tumor, self.liver = tumor, liver

    def __call__(self, video, *args, **kwargs):
        result = super().__call__(video, *args, **kwargs)
        probability = np.where(self.tumor, 0.9, 0.02).astype(np.float32)
        return dataclasses.replace(
            result, tumor_mask=self.tumor, liver_mask=self.liver, tumor_probability=probability,
            lesions=extract_lesions(self.tumor, probability, video.pixel_spacing_mm))


def test_panel_maps_parameters_drawn_regions_cursor_and_export(qtbot, pair_on_disk, tmp_path):
    pair, pre, _ = pair_on_disk
    video = load_video(pre)
    panel = ParametricPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 900)
    panel.show()

    with qtbot.waitSignal(panel.maps_ready, timeout=WAIT_MS):
        panel.show_case(video)
    ttp_image = panel.map_view.image.image.copy()
    # The map and its colour bar are on screen, not only held: opening a case once emptied
    # the scene, leaving a black dock over correct data.
    scene = panel.map_view.scene()
    assert panel.map_view.image.scene() is scene and panel.map_view.colour_bar.scene() is scene
    assert ttp_image.shape == (*video.frame_shape, 3)
    ttp_levels = panel.map_view.colour_bar.levels()
    assert ttp_levels[1] <= video.times_s()[-1] + 1e-6  # the colour bar is in seconds

    with qtbot.waitSignal(panel.parameter_shown, timeout=WAIT_MS):
        panel.parameter.setCurrentText("Arrival time")
    assert not np.array_equal(panel.map_view.image.image, ttp_image)
    assert panel.map_view.colour_bar.levels()[0] < ttp_levels[0]  # contrast arrives earlier

    with qtbot.waitSignal(panel.curves_changed, timeout=WAIT_MS):
        panel.roi_buttons["ellipse"].click()
    assert list(panel.plot.curves) == ["ROI 1"]
    assert panel.plot.curves["ROI 1"].shape == (video.n_frames,)

    panel.show_frame(7)
    assert panel.plot.cursor.value() == pytest.approx(video.times_s()[7])

    csv_path = panel.export_csv(tmp_path / "tdc.csv")
    with csv_path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["time_s", "ROI 1"] and len(rows) == 1 + video.n_frames
    png = panel.export_png(tmp_path / "tdc.png")
    assert png.stat().st_size > 1000


def test_the_viewer_shows_the_cases_regions_and_follows_the_frame(qtbot, pair_on_disk, tmp_path):
    pair, pre, post = pair_on_disk
    labels = pair.pre.labels[0]
    window = _window(qtbot, tmp_path, LabelAnalysis(labels.tumor, labels.liver))
    panel = window.parametric.panel

    with qtbot.waitSignal(panel.maps_ready, timeout=WAIT_MS):
        window.open_path(pre)
    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.run_analysis()
    qtbot.waitUntil(lambda: "tumor" in panel.plot.curves, timeout=WAIT_MS)

    names = [panel.regions.item(row).text() for row in range(panel.regions.count())]
    assert names[:3] == ["tumor", "liver", "lesion 1"]
    tumor, liver = panel.plot.curves["tumor"], panel.plot.curves["liver"]
    assert np.nanmax(tumor) > np.nanmax(liver)  # a hypervascular tumor out-stains the liver
    with qtbot.waitSignal(panel.curves_changed, timeout=WAIT_MS):
        panel.regions.item(2).setCheckState(Qt.CheckState.Checked)
    assert "lesion 1" in panel.plot.curves

    window.cine.seek(9)
    qtbot.waitUntil(lambda: panel.plot.cursor.value() == pytest.approx(panel.times[9]),
                    timeout=WAIT_MS)


def test_compare_plays_both_runs_in_step_since_first_arrival(qtbot, pair_on_disk, tmp_path,
                                                           monkeypatch):
    pair, pre, post = pair_on_disk
    labels = pair.pre.labels[0]
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *rest: warnings.append(text))
    window = _window(qtbot, tmp_path, LabelAnalysis(labels.tumor, labels.liver))
    feature = window.parametric
    with qtbot.waitSignal(window.case_opened, timeout=WAIT_MS):
        window.open_path(pre)

    feature.compare_with(str(post))  # no analysis yet: no regions to compare
    assert warnings and "Analyse the open run first" in warnings[0]

    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        window.run_analysis()
    feature.compare_with(str(post))
    qtbot.waitUntil(lambda: bool(feature.compare_views), timeout=WAIT_MS)
    view = feature.compare_views[0]
    qtbot.addWidget(view)

    measured = view.comparison.blush_reduction_pct
    assert measured == pytest.approx(100 * pair.blush_reduction, abs=10.0)
    assert f"{measured:.1f} %" in view.summary.text()
    pre_run, post_run = view.runs
    assert post_run.first_arrival > pre_run.first_arrival  # the slowed flow arrives later
    for moment in (-1.0, 0.0, 1.5, 4.0):
        view.show_moment(moment)
        assert view.shown_frames() == (frame_at(pre_run.times_since_arrival, moment),
                                       frame_at(post_run.times_since_arrival, moment))
        assert view.plot.cursor.value() == pytest.approx(moment)
    view.show_moment(0.0)  # each run at its own first arrival
    for frame, run in zip(view.shown_frames(), view.runs, strict=True):
        assert run.times[frame] <= run.first_arrival + 1e-9
        assert frame == len(run.times) - 1 or run.times[frame + 1] > run.first_arrival

    start = view.slider.value()
    view.toggle_playing()
    qtbot.waitUntil(lambda: view.slider.value() >= start + 3, timeout=WAIT_MS)
    view.toggle_playing()
    assert not view.timer.isActive()


def _window(qtbot, tmp_path, analyze) -> MainWindow:
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    settings.setValue(AUTO_ANALYZE, False)
    window = MainWindow(settings, analyze=analyze)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window
