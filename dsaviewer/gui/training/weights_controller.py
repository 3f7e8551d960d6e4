"""Which weights the viewer analyses with: the shipped ones or a fine-tuned folder, chosen
in the Analysis menu or at the end of a training run, remembered across sessions (QSettings).
The choice is the application model's ``weights`` field; the analysis runner and the
analysis panel follow its event. A folder whose files fail their checksums is refused with
the reason; a remembered folder that fails at start-up falls back to the shipped weights."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.errors import InputError
from dsaviewer.gui.background.analysis_runner import AnalysisRunner
from dsaviewer.gui.docks.analysis_panel import AnalysisPanel
from dsaviewer.gui.training.fine_tune_process import training_available
from dsaviewer.gui.training.train_dialog import TrainDialog
from dsaviewer.inference.weights_library import (
    check_weights_folder,
    is_shipped,
    library_dir,
    weights_display_name,
)
from dsaviewer.io.case_folder import is_case_folder, open_case

ACTIVE_WEIGHTS = "analysis/weights_dir"  # "" for the shipped weights


class WeightsController(QObject):
    def __init__(self, window: QMainWindow, model: ViewerModel, runner: AnalysisRunner,
                 panel: AnalysisPanel, settings: QSettings) -> None:
        super().__init__(window)
        self._window, self._model, self._settings = window, model, settings
        model.events.weights.connect(runner.use_weights)
        model.events.weights.connect(lambda folder: panel.show_weights(
            weights_display_name(folder)))
        panel.show_weights(weights_display_name(model.weights))
        model.weights = runner.weights_dir  # the model starts from what the runner was given
        self.dialog: TrainDialog | None = None
        self._opened_cases: list[Path] = []
        self.refusal = ""  # why the remembered weights were not restored, if they were not

        self.train_action = QAction("&Train on labelled cases…", self)
        self.train_action.triggered.connect(self.open_training)
        if not training_available():
            self.train_action.setEnabled(False)
            self.train_action.setToolTip("Needs the source installation with PyTorch")
        self.choose_action = QAction("Use weights &folder…", self)
        self.choose_action.triggered.connect(self._ask_folder)
        self.shipped_action = QAction("Use the &shipped weights", self)
        self.shipped_action.triggered.connect(lambda: self.activate(None))
        self.actions = [self.train_action, self.choose_action, self.shipped_action]
        self._restore()

    @property
    def active(self) -> Path | None:
        """The weights folder analyses use; None: the shipped weights."""
        return self._model.weights

    def case_opened(self, opened: Path) -> None:
        """Remember the case folders of this session (those with labels can train)."""
        for folder in (opened, opened.parent):
            if is_case_folder(folder) and folder not in self._opened_cases:
                self._opened_cases.append(folder)
                return

    def annotated_cases(self) -> list[Path]:
        """The case folders opened in this session that hold labels now."""
        found = []
        for folder in self._opened_cases:
            try:
                if open_case(folder).label_files:
                    found.append(folder)
            except InputError:
                continue
        return found

    def activate(self, folder: Path | None, quiet: bool = False) -> bool:
        """Analyse with ``folder`` (None: the shipped weights) from the next run on; False,
        with the reason shown, when its manifest or checksums fail."""
        if folder is not None and not is_shipped(folder):
            try:
                check_weights_folder(folder)
            except InputError as error:
                if not quiet:
                    QMessageBox.warning(self._window, "Weights refused",
                                        f"These weights cannot be used: {error}")
                return False
        else:
            folder = None
        self._settings.setValue(ACTIVE_WEIGHTS, "" if folder is None else str(folder))
        self._model.weights = folder
        return True

    def open_training(self) -> TrainDialog:
        if self.dialog is None or not self.dialog.isVisible():
            self.dialog = TrainDialog(self.annotated_cases(), self.active, self._window)
            self.dialog.use_requested.connect(self._use_trained)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _use_trained(self, folder: Path) -> None:
        if self.activate(folder):
            self._window.statusBar().showMessage(
                f"Analysing with {weights_display_name(folder)}", 8000)

    def _ask_folder(self) -> None:
        start = library_dir() if library_dir().is_dir() else Path.home()
        folder = QFileDialog.getExistingDirectory(self._window, "Weights folder (with "
                                                  "manifest.json)", str(start))
        if folder:
            self.activate(Path(folder))

    def _restore(self) -> None:
        stored = str(self._settings.value(ACTIVE_WEIGHTS, "") or "")
        if not stored:  # the runner's own weights: the shipped ones unless a caller chose
            return
        if not self.activate(Path(stored), quiet=True):
            self.activate(None)
            message = (f"The weights chosen before ({stored}) fail their checks; analysing "
                       "with the shipped weights")
            self.refusal = message
            # After the window's own first status message.
            QTimer.singleShot(0, lambda: self._window.statusBar().showMessage(message, 15000))
