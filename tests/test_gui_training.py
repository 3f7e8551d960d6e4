"""The viewer's "Train on labelled cases…" dialog end to end (pytest-qt, offscreen): a real
fine-tuning process on three generated cases from tiny weights, cancelled once and then run
to the end on the cases opened in the session; its weights made active, remembered, used by
the real pipeline, and switched back; a weights folder that fails its checksums is refused,
also when it was remembered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from test_gui_fixtures import write_avi_case
from test_inference_fixtures import write_tiny_weights

from dsaviewer.gui.app import configure_pyqtgraph
from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
from dsaviewer.gui.main_window import MainWindow
from dsaviewer.gui.settings import AUTO_ANALYZE
from dsaviewer.gui.training.weights_controller import ACTIVE_WEIGHTS
from dsaviewer.inference.manifest import read_manifest
from dsaviewer.inference.weights_library import SHIPPED_NAME, library_dir
from training.export_onnx import export_onnx
from training.synth.dataset_writer import write_dataset
from training.synth.options import SynthOptions

RUN_MS = 240_000  # a child Python importing torch on a loaded machine, then a tiny run


@pytest.fixture(autouse=True)
def _private_places(tmp_path, monkeypatch):
    """Neither the user's settings nor their data folder is read or written."""
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    configure_pyqtgraph()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site") / "data"
    options = SynthOptions(sizes=(((128, 128), 1.0),), formats=(("png", 1.0),), frames=(14, 16))
    write_dataset(folder, 3, seed=11, options=options)
    return folder


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    folder = write_tiny_weights(tmp_path_factory.mktemp("base") / "tiny")
    export_onnx(folder)
    return folder


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *rest: shown.append(text))
    return shown


def make_window(qtbot, settings: Path, base: Path) -> MainWindow:
    stored = QSettings(str(settings), QSettings.Format.IniFormat)
    stored.setValue(AUTO_ANALYZE, False)
    window = MainWindow(stored, analyze=PipelineAnalyzer(base))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_train_cancel_train_use_remember_and_switch_back(qtbot, tmp_path, dataset, base,
                                                         warnings) -> None:
    settings = tmp_path / "viewer.ini"
    window = make_window(qtbot, settings, base)
    assert "tiny" in window.analysis_panel.weights.text()
    cases = sorted(path for path in dataset.iterdir() if path.is_dir()
                   and not path.name.startswith("."))
    for case in cases:  # annotated cases of this session (the generator labelled them)
        with qtbot.waitSignal(window.case_opened, timeout=30_000):
            window.open_path(case)
    dialog = window.weights.open_training()
    assert dialog.session_choice.isEnabled() and "(3)" in dialog.session_choice.text()
    dialog.folder_edit.setText(str(dataset))
    dialog.minutes.setValue(2)
    # One thread and early stopping after two flat epochs keep the run short on a busy CPU.
    dialog.extra_arguments = ["--threads", "1", "--read-workers", "1", "--patience", "2"]

    # Cancel after the first steps: no weights, and the run's folder is gone.
    with qtbot.waitSignal(dialog.process.stepped, timeout=RUN_MS):
        dialog.start_button.click()
    assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    with qtbot.waitSignal(dialog.process.stopped, timeout=RUN_MS):
        dialog.cancel_button.click()
    assert "Cancelled" in dialog.status.text() and not dialog.use_button.isEnabled()
    qtbot.waitUntil(lambda: not any(library_dir().iterdir()), timeout=10_000)

    # The whole run, on the session's cases: progress, live curves, before/after figures.
    dialog.session_choice.setChecked(True)
    with qtbot.waitSignal(dialog.process.finished, timeout=RUN_MS):
        dialog.start_button.click()
    assert dialog.progress.value() == 1000
    assert len(dialog.loss_curve.getData()[0]) >= 1
    assert len(dialog.dice_curves["tumor_dice"].getData()[0]) >= 1
    assert "tumor Dice" in dialog.result.text() and "→" in dialog.result.text()
    trained = dialog.weights_dir
    assert trained.parent.parent == library_dir() and (trained / "manifest.json").is_file()
    tuning = read_manifest(trained).provenance.fine_tuning
    assert tuning["site_data"]["case_ids"] == [case.name for case in cases]
    assert tuning["response_threshold"]["status"] == "recalibrated"  # clinical.csv came along

    dialog.use_button.click()
    assert window.weights.active == trained
    assert window.runner.weights_dir == trained
    assert "fine-tuned on 3 site cases" in window.analysis_panel.weights.text()
    assert QSettings(str(settings), QSettings.Format.IniFormat).value(ACTIVE_WEIGHTS) == str(
        trained)

    # The real pipeline analyses with them and names them in its result.
    case = write_avi_case(tmp_path / "case")
    with qtbot.waitSignal(window.case_opened, timeout=30_000):
        window.open_path(case)
    with qtbot.waitSignal(window.analysis_finished, timeout=60_000) as finished:
        window.run_analysis()
    assert "fine-tuned on 3 site cases" in finished.args[0].weights_name
    assert "fine-tuned" in window.analysis_panel.status.text()
    dialog.close()
    window.close()

    # Remembered by a new window; "Use the shipped weights" switches back, also remembered.
    again = make_window(qtbot, settings, base)
    assert again.weights.active == trained and again.runner.weights_dir == trained
    again.weights.shipped_action.trigger()
    assert again.weights.active is None and again.runner.weights_dir is None
    assert again.analysis_panel.weights.text() == f"Weights: {SHIPPED_NAME}"
    assert QSettings(str(settings), QSettings.Format.IniFormat).value(ACTIVE_WEIGHTS) == ""
    assert warnings == []


def test_weights_failing_their_checksums_are_refused(qtbot, tmp_path, base, warnings) -> None:
    corrupt = tmp_path / "corrupt"
    shutil.copytree(base, corrupt)
    graph = corrupt / "segmentation.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    settings = tmp_path / "viewer.ini"
    window = make_window(qtbot, settings, base)

    assert not window.weights.activate(corrupt)
    assert len(warnings) == 1 and "checksum mismatch" in warnings[0]
    assert window.weights.active == base and window.runner.weights_dir == base

    # A remembered folder that went bad: the next window falls back to the shipped weights.
    QSettings(str(settings), QSettings.Format.IniFormat).setValue(ACTIVE_WEIGHTS, str(corrupt))
    window.close()
    again = make_window(qtbot, settings, base)
    assert again.weights.active is None and again.runner.weights_dir is None
    assert str(corrupt) in again.weights.refusal
    assert again.analysis_panel.weights.text() == f"Weights: {SHIPPED_NAME}"
