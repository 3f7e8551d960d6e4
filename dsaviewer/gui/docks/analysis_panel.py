"""The Analysis panel: run or cancel the analysis, its progress, what it ran on and how
long it took, its notes, and the lesion table."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.case_session import frame_number
from dsaviewer.app.viewer_model import CANCELLED, FAILED, RUNNING, AnalysisStatus, ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_SOURCE_TEXT
from dsaviewer.gui.docks.lesion_table import LesionTable
from dsaviewer.inference.results import AnalysisResult


class AnalysisPanel(QWidget):
    run_requested = Signal()
    cancel_requested = Signal()
    auto_run_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_button = QPushButton("Run analysis")
        self.run_button.setToolTip("Segment tumor and liver on the key frame and predict the "
                                   "TACE response (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.auto_box = QCheckBox("Run when a case opens")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.status = QLabel("No analysis yet")
        self.status.setWordWrap(True)
        self.weights = QLabel()  # the active weights, set by the window
        self.weights.setWordWrap(True)
        self.weights.setStyleSheet("color: gray;")
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #e0a030;")
        self.notes.setVisible(False)
        self.lesions = LesionTable()

        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.auto_box)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.weights)
        layout.addWidget(self.notes)
        layout.addWidget(self.lesions, 1)

        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.auto_box.toggled.connect(self.auto_run_toggled)
        self.set_available(False)

    def follow(self, model: ViewerModel) -> None:
        """Show the model's analysis state and result; the check box is ``model.auto_run``."""

        def status(state: AnalysisStatus) -> None:
            if state.state == RUNNING:
                if state.stage:
                    self.show_progress(state.fraction, state.stage)
                else:
                    self.show_running()
            elif state.state == FAILED:
                self.show_stopped(f"Analysis failed: {state.message}", error=True)
            elif state.state == CANCELLED:
                self.show_stopped("Analysis cancelled")
            else:
                result()

        def result(*_: object) -> None:
            if model.case is None or model.analysis.running:
                return
            shown = model.result
            source = "" if shown is None else KEY_FRAME_SOURCE_TEXT.get(
                shown.key_frame_source, shown.key_frame_source)
            self.show_result(shown, model.key_frame, source)
            if model.result_hidden:  # outside the models' scope: the lesions are not shown
                self.lesions.show_lesions([])
                self.status.setText(self.status.text() + "<br><b>Outside what the models were "
                                    "made for: lesions hidden (see the banner).</b>")

        model.events.case.connect(lambda case: self.set_available(case is not None))
        model.events.analysis.connect(status)
        model.events.result.connect(result)
        model.events.key_frame.connect(result)
        model.events.scope.connect(result)
        model.events.show_out_of_scope.connect(result)
        self.auto_box.setChecked(model.auto_run)
        model.events.auto_run.connect(lambda on: self.auto_box.setChecked(on))
        self.auto_box.toggled.connect(lambda on: setattr(model, "auto_run", on))

    def set_available(self, available: bool) -> None:
        self.run_button.setEnabled(available)

    def show_weights(self, name: str) -> None:
        """Name the weights the next analysis runs on."""
        self.weights.setText(f"Weights: {escape(name)}")

    def show_running(self, message: str = "Starting…") -> None:
        self.run_button.setEnabled(False)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.progress.setVisible(True)
        self.progress.setValue(0)
        self.status.setText(message)

    def show_progress(self, fraction: float, stage: str) -> None:
        if fraction >= 0:
            self.progress.setValue(round(100 * fraction))
        self.status.setText(f"Running: {stage.replace('_', ' ')} done")

    def show_stopped(self, message: str, error: bool = False) -> None:
        """After a failure or a cancellation; the previous result stays in the table."""
        self._idle()
        self.status.setText(escape(message).replace("\n", "<br>"))
        self.status.setStyleSheet("color: #e05050;" if error else "")

    def show_result(self, result: AnalysisResult | None, key_frame: int, source_text: str) -> None:
        self._idle()
        self.status.setStyleSheet("")
        if result is None:
            self.status.setText("No analysis yet")
            self.notes.setVisible(False)
            self.lesions.show_lesions([])
            return
        total_s = result.timings_ms.get("total", float("nan")) / 1000.0
        count = len(result.lesions)
        lines = [
            f"Key frame {frame_number(result.key_frame)} ({source_text}) · {count} lesion"
            f"{'' if count == 1 else 's'}",
            f"{result.device} · {result.backend} · {total_s:.2f} s",
        ]
        if result.weights_name:
            lines.append(f"Made with: {escape(result.weights_name)}")
        if result.key_frame != key_frame:
            lines.append(f"<b>The key frame is now {frame_number(key_frame)}: run the analysis "
                         "again.</b>")
        self.status.setText("<br>".join(lines))
        self.notes.setText("<br>".join(escape(note) for note in result.notes))
        self.notes.setVisible(bool(result.notes))
        self.lesions.show_lesions(result.lesions)

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setVisible(False)
        self.progress.setVisible(False)
