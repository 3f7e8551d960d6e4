"""The "Train on labelled cases…" dialog: fine-tune the active weights on a dataset folder
(what Export dataset writes) or on the cases annotated in this session, within a time
budget, in a child process; a progress bar and a live plot of the loss and the validation
Dice; cancel; at the end the site-validation figures before and after, and "Use these
weights".

Each run lives in its own folder of the per-user weights library (its weights, manifest,
log and, for session cases, the exported dataset); a cancelled run's folder is removed.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.gui.background.workers import run_in_background
from dsaviewer.gui.training.fine_tune_process import FineTuneProcess
from dsaviewer.inference.weights_library import new_run_dir
from dsaviewer.io.dataset_export import case_folders_in, export_dataset

WEIGHTS_FOLDER = "weights"  # where the training command writes them inside its output folder
DEFAULT_MINUTES = 10


class TrainDialog(QDialog):
    weights_ready = Signal(object)  # Path of the new weights folder
    use_requested = Signal(object)  # Path: the user chose "Use these weights"

    def __init__(
        self,
        session_cases: Sequence[Path] = (),
        base: Path | None = None,
        parent: QWidget | None = None,
        extra_arguments: Sequence[str] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train on labelled cases")
        self.resize(640, 560)
        self._session_cases = list(session_cases)
        self._base = base
        self.extra_arguments = list(extra_arguments)  # more fine-tune options, e.g. --threads
        self._run_dir: Path | None = None
        self.weights_dir: Path | None = None
        self.process = FineTuneProcess(self)
        self._losses: list[tuple[int, float]] = []
        self._dice: dict[str, list[tuple[int, float]]] = {"tumor_dice": [], "liver_dice": []}
        self._last_step = 0

        self.folder_choice = QRadioButton("Dataset folder:")
        self.session_choice = QRadioButton(
            f"Cases annotated in this session ({len(self._session_cases)})")
        self.session_choice.setEnabled(bool(self._session_cases))
        group = QButtonGroup(self)
        group.addButton(self.folder_choice)
        group.addButton(self.session_choice)
        self.folder_choice.setChecked(True)
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a folder of case folders with labels/ and "
                                            "clinical.csv (File > Export dataset writes one)")
        browse = QPushButton("Browse…")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 240)
        self.minutes.setValue(DEFAULT_MINUTES)
        self.minutes.setSuffix(" min")
        self.start_button = QPushButton("Start training")
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.status = QLabel("Choose the labelled cases and a time budget.")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend()
        self.plot.setYRange(0.0, 1.5)
        self.loss_curve = self.plot.plot([], [], pen=pg.mkPen("#e0a030"), name="loss")
        self.dice_curves = {
            "tumor_dice": self.plot.plot([], [], pen=pg.mkPen("#30c0e0", width=2), symbol="o",
                                         symbolSize=5, name="validation tumor Dice"),
            "liver_dice": self.plot.plot([], [], pen=pg.mkPen("#40c040", width=2), symbol="o",
                                         symbolSize=5, name="validation liver Dice"),
        }
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.use_button = QPushButton("Use these weights")
        self.use_button.setEnabled(False)
        close = QPushButton("Close")

        source = QGridLayout()
        source.addWidget(self.folder_choice, 0, 0)
        source.addWidget(self.folder_edit, 0, 1)
        source.addWidget(browse, 0, 2)
        source.addWidget(self.session_choice, 1, 0, 1, 3)
        source.addWidget(QLabel("Time budget:"), 2, 0)
        source.addWidget(self.minutes, 2, 1)
        controls = QHBoxLayout()
        controls.addWidget(self.start_button)
        controls.addWidget(self.cancel_button)
        controls.addStretch(1)
        finish = QHBoxLayout()
        finish.addStretch(1)
        finish.addWidget(self.use_button)
        finish.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(source)
        layout.addLayout(controls)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.result)
        layout.addLayout(finish)

        browse.clicked.connect(self._browse)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(lambda: self.use_requested.emit(self.weights_dir))
        close.clicked.connect(self.close)
        self.process.started.connect(self._started)
        self.process.stepped.connect(self._stepped)
        self.process.validated.connect(self._validated)
        self.process.logged.connect(self._logged)
        self.process.finished.connect(self._finished)
        self.process.failed.connect(self._failed)
        self.process.stopped.connect(self._stopped)

    # ----- starting -----
    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dataset of labelled cases")
        if folder:
            self.folder_edit.setText(folder)
            self.folder_choice.setChecked(True)

    def start(self) -> None:
        """Start a run on the chosen cases (checked first; problems are shown, not raised)."""
        if self.process.running:
            return
        self._reset_plot()
        self._run_dir = new_run_dir(self._label())
        if self.session_choice.isChecked():
            self._set_running(True, "Collecting the session's cases…")
            dataset = self._run_dir / "dataset"
            cases = list(self._session_cases)
            run_in_background(lambda: export_dataset(cases, dataset),
                              lambda _: self._launch(dataset),
                              lambda error, trace: self._failed(f"{error}"))
            return
        folder = Path(self.folder_edit.text().strip())
        try:
            if not self.folder_edit.text().strip() or not case_folders_in(folder):
                raise ValueError(f"{folder} holds no case folders")
        except Exception as error:  # noqa: BLE001 - InputError, OSError, ValueError: all shown
            self._set_running(False, f"Cannot train: {error}")
            self._run_dir = None
            return
        self._set_running(True, "Starting…")
        self._launch(folder)

    def _launch(self, dataset: Path) -> None:
        self._run_dir.parent.mkdir(parents=True, exist_ok=True)
        self.process.start(dataset, self._run_dir, float(self.minutes.value()), self._base,
                           self.extra_arguments)

    def _label(self) -> str:
        if self.session_choice.isChecked():
            return "session"
        return Path(self.folder_edit.text().strip() or "dataset").name

    # ----- progress -----
    def _started(self, event: dict) -> None:
        self.status.setText(f"Training on {event.get('cases')} cases, at most "
                            f"{event.get('minutes'):g} min…")

    def _stepped(self, event: dict) -> None:
        step, planned = int(event["step"]), max(1, int(event["planned_steps"]))
        self._last_step = step
        left = float(event.get("time_left_s", 0.0))
        # The budget or early stopping usually ends a run long before its planned steps.
        budget = 60.0 * self.minutes.value()
        done = max(step / planned, 1.0 - left / budget if budget > 0 else 0.0)
        self.progress.setValue(round(1000 * min(1.0, done)))
        if event.get("loss") is not None:
            self._losses.append((step, float(event["loss"])))
            self.loss_curve.setData(*zip(*self._losses, strict=True))
        self.status.setText(f"Epoch {event['epoch']}, step {step}; at most "
                            f"{int(left // 60)}:{int(left % 60):02d} left")

    def _validated(self, event: dict) -> None:
        for name, curve in self.dice_curves.items():
            if name in event:
                self._dice[name].append((self._last_step, float(event[name])))
                curve.setData(*zip(*self._dice[name], strict=True))

    def _logged(self, message: str) -> None:
        if message.startswith(("site validation", "warning", "training on")):
            self.result.setText(message)

    # ----- the end -----
    def _finished(self, event: dict) -> None:
        self.weights_dir = Path(event["weights"])
        self.progress.setValue(1000)
        self._set_running(False, f"Finished ({event.get('stop_reason', '').replace('_', ' ')})."
                          f" Weights in {self.weights_dir}")
        self.result.setText(before_after_text(event.get("before", {}), event.get("after", {}),
                                              event.get("response_threshold", {})))
        self.use_button.setEnabled(True)
        self.weights_ready.emit(self.weights_dir)

    def _failed(self, message: str) -> None:
        self._set_running(False, f"Training failed: {message}")
        self.status.setStyleSheet("color: #e05050;")

    def _stopped(self) -> None:
        self._set_running(False, "Cancelled; no weights were written.")
        run_dir, self._run_dir = self._run_dir, None
        if run_dir is not None:  # our own folder: a cancelled run leaves nothing behind
            run_in_background(lambda: shutil.rmtree(run_dir, ignore_errors=True),
                              lambda _: None, lambda error, trace: None)

    def cancel(self) -> None:
        if self.process.running:
            self.cancel_button.setEnabled(False)
            self.status.setText("Stopping after the current step…")
            self.process.cancel()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        # A run would go on without a window to show or use it.
        self.cancel()
        super().closeEvent(event)

    def _set_running(self, running: bool, message: str) -> None:
        self.start_button.setEnabled(not running)
        for widget in (self.minutes, self.folder_edit, self.folder_choice):
            widget.setEnabled(not running)
        self.session_choice.setEnabled(not running and bool(self._session_cases))
        self.cancel_button.setEnabled(running)
        self.status.setStyleSheet("")
        self.status.setText(message)
        if running:
            self.use_button.setEnabled(False)
            self.result.clear()

    def _reset_plot(self) -> None:
        self._losses.clear()
        self._last_step = 0
        for values in self._dice.values():
            values.clear()
        self.loss_curve.setData([], [])
        for curve in self.dice_curves.values():
            curve.setData([], [])
        self.progress.setValue(0)


def before_after_text(before: dict, after: dict, threshold: dict) -> str:
    """The site-validation figures of a finished run, for people."""
    parts = []
    for name, label in (("tumor_dice", "tumor Dice"), ("liver_dice", "liver Dice")):
        if name in before and name in after:
            parts.append(f"{label} {before[name]:.3f} → {after[name]:.3f}")
    text = "On the site's validation cases: " + ("; ".join(parts) or "no figures") + "."
    if threshold.get("status") == "recalibrated":
        text += (f" Response threshold recalibrated on {threshold.get('cases')} cases: "
                 f"{threshold.get('before', float('nan')):.2f} → "
                 f"{threshold.get('threshold', float('nan')):.2f}.")
    elif threshold.get("status"):
        text += f" Response threshold {threshold['status']}."
    return text
