"""The main window: creates the views, docks and menus and wires them to the application
model (:class:`~dsaviewer.app.viewer_model.ViewerModel`).

Each view subscribes to the model fields it shows; the controllers beside the model save the
case state, colour the overlays and ask for analyses when the model says so. Disk, analysis
and export run in workers, so the event loop stays free while they work.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.analysis_requests import AnalysisScheduler
from dsaviewer.app.case_session import CaseSession, open_session
from dsaviewer.app.overlay_colouring import OverlayColouring
from dsaviewer.app.persistence import CaseStatePersistence
from dsaviewer.app.viewer_model import FAILED, ViewerModel
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.dock import AnnotationDock
from dsaviewer.gui.annotation.timeline_marks import attach_timeline_marks
from dsaviewer.gui.background.analysis_runner import AnalysisRunner, AnalyzeFunction
from dsaviewer.gui.background.garbage import UiThreadGarbageCollection
from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.gui.calibration_controls import CalibrationControls
from dsaviewer.gui.docks.analysis_panel import AnalysisPanel
from dsaviewer.gui.docks.clinical_form import ClinicalForm, ask_clinical_csv, load_clinical_row
from dsaviewer.gui.docks.response_panel import ResponsePanel
from dsaviewer.gui.docks.scrollable import scrollable
from dsaviewer.gui.event_log import attach_event_log
from dsaviewer.gui.export.export_actions import export_frame, export_summary
from dsaviewer.gui.export.exporter import CaseExporter
from dsaviewer.gui.help_menu import HelpMenu
from dsaviewer.gui.image.frame_view import FrameView
from dsaviewer.gui.image.readouts import CaseHeader, CursorReadout
from dsaviewer.gui.image.scope_banner import ScopeBanner
from dsaviewer.gui.overlays.overlay_controls import OverlayControls
from dsaviewer.gui.overlays.overlay_panel import OverlayPanel
from dsaviewer.gui.pacs.actions import PacsActions
from dsaviewer.gui.parametric.install import install_parametric
from dsaviewer.gui.playback.cine import CineController
from dsaviewer.gui.playback.playback_bar import PlaybackBar, acquisition_fps
from dsaviewer.gui.recent_files import RecentFiles
from dsaviewer.gui.screen_fit import keep_on_screen
from dsaviewer.gui.settings import (
    AUTO_ANALYZE,
    LAST_FOLDER,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    open_settings,
    read_bool,
)
from dsaviewer.gui.training.weights_controller import WeightsController

_OPEN_FILTER = "DSA runs (*.avi *.mp4 *.dcm *.dicom);;All files (*)"


class MainWindow(QMainWindow):
    """``case_opened`` fires once a case is on screen, ``open_failed`` with the reason when it
    could not be opened, ``state_saved`` after the case's state reached the disk."""

    case_opened = Signal(object)  # CaseSession
    open_failed = Signal(str)
    state_saved = Signal()
    analysis_finished = Signal(object)  # AnalysisResult

    def __init__(
        self, settings: QSettings | None = None, analyze: AnalyzeFunction | None = None
    ) -> None:
        super().__init__()
        # While the window is open, Python's garbage is collected on this (the UI) thread
        # only: a collection set off in a worker deleted Qt objects under it (garbage.py).
        self._garbage = UiThreadGarbageCollection(self)
        self.setWindowTitle("DSA Viewer")
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
        self.settings = settings if settings is not None else open_settings()
        self.model = ViewerModel()
        self._open_token: object | None = None

        self.frame_view = FrameView()
        self.playback = PlaybackBar()
        self.cine = CineController(self)
        self.header = CaseHeader(self.model)
        self.overlay_panel = OverlayPanel()
        self.analysis_panel = AnalysisPanel()
        self.clinical_form = ClinicalForm()
        self.response_panel = ResponsePanel()
        self.cursor_label = CursorReadout(self.model, self.frame_view)
        self.scope_banner = ScopeBanner()  # above the image while the result is out of scope
        self.overlay_controls = OverlayControls(self.model, self.overlay_panel, self.frame_view,
                                                self.settings)
        self.runner = AnalysisRunner(analyze, self)
        self.weights = WeightsController(self, self.model, self.runner, self.analysis_panel,
                                         self.settings)
        self.exporter = CaseExporter(self)
        self._save_pool = serial_pool(self)
        self.persistence = CaseStatePersistence(
            self.model, lambda *job: run_in_background(*job, pool=self._save_pool))
        self.colouring = OverlayColouring(self.model, run_in_background)
        self.scheduler = AnalysisScheduler(self.model, self.runner.start,
                                           lambda later: QTimer.singleShot(0, later))

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.scope_banner)
        layout.addWidget(self.frame_view, 1)
        layout.addWidget(self.playback)
        self.setCentralWidget(central)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        docks = [self._dock("Overlays", self.overlay_panel, right),
                 self._dock("Analysis", self.analysis_panel, right),
                 self._dock("TACE response", scrollable(self.response_panel), right)]
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        clinical = self._dock("Clinical variables", self.clinical_form, left)
        self.annotation = AnnotationDock(self.model, self.frame_view, self)
        self.addDockWidget(left, self.annotation)
        # Behind the clinical form: annotating is a task of its own, chosen by its tab.
        self.tabifyDockWidget(clinical, self.annotation)
        clinical.raise_()
        # First-run layout; a saved one replaces it in _restore_preferences.
        self.resizeDocks(docks, [160, 440, 260], Qt.Orientation.Vertical)
        self.resizeDocks([docks[0], clinical], [380, 300], Qt.Orientation.Horizontal)
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().showMessage("Open a DSA run: File > Open, or drop a file here")

        self._build_menus()
        self._follow_model()
        self.parametric = install_parametric(self)
        self.help_menu = HelpMenu(self, lambda: self.runner.weights_dir)
        self._connect()
        attach_event_log(self)
        attach_timeline_marks(self.annotation.editor, self.playback.timeline)
        self._restore_preferences()

    # ----- construction -----
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "_"))  # saveState needs names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Open file…", QKeySequence.StandardKey.Open, self._ask_file)
        self._action(file_menu, "Open &folder…", "Ctrl+Shift+O", self._ask_folder)
        self.recent = RecentFiles(self.settings, file_menu.addMenu("Open &recent"), self.open_path)
        file_menu.addSeparator()
        file_menu.addActions(self.annotation.file_actions)
        file_menu.addSeparator()
        self._action(file_menu, "Export &frame as PNG…", "Ctrl+E", self._export_frame)
        self._action(file_menu, "Export case &summary as PNG…", "Ctrl+Shift+E",
                     self._export_summary)
        file_menu.addSeparator()
        self.pacs = PacsActions(self, file_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)

        self.menuBar().addMenu("&Edit").addActions(self.annotation.edit_actions)

        view = self.menuBar().addMenu("&View")
        self._action(view, "Play / pause", Qt.Key.Key_Space, self.cine.toggle)
        self._action(view, "Next frame", Qt.Key.Key_Right, lambda: self.cine.step(1))
        self._action(view, "Previous frame", Qt.Key.Key_Left, lambda: self.cine.step(-1))
        self._action(view, "First frame", Qt.Key.Key_Home, lambda: self.cine.step(-(10**9)))
        self._action(view, "Last frame", Qt.Key.Key_End, lambda: self.cine.step(10**9))
        view.addSeparator()
        self._action(view, "&Fit to window", "F", self.frame_view.fit)
        self.invert_action = self._action(view, "&Invert", "I", self._toggle_invert)
        self.invert_action.setCheckable(True)
        self._action(view, "&Reset view", "R", self.reset_view)
        view.addSeparator()
        for dock in self.findChildren(QDockWidget):
            view.addAction(dock.toggleViewAction())

        key = self.menuBar().addMenu("&Key frame")
        self._action(key, "&Go to key frame", "K", self.go_to_key_frame)
        self._action(key, "&Set current frame as key frame", "Ctrl+K", self.set_key_frame_here)
        self._action(key, "&Use the automatic key frame", "Ctrl+Shift+K",
                     self.clear_key_frame_override)

        analysis = self.menuBar().addMenu("&Analysis")
        self._action(analysis, "&Run analysis", "Ctrl+R", self.run_analysis)
        self._action(analysis, "&Cancel analysis", "Escape", self.runner.cancel)
        self._action(analysis, "Load clinical values from &CSV…", None, self._ask_clinical_csv)
        analysis.addSeparator()
        analysis.addActions(self.weights.actions)
        analysis.addSeparator()
        self.calibration = CalibrationControls(self, view, analysis)

    def _action(self, menu, text, shortcut, handler) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(handler)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _follow_model(self) -> None:
        model = self.model
        for view in (self.frame_view, self.playback, self.analysis_panel, self.clinical_form,
                     self.response_panel, self.scope_banner):
            view.follow(model)
        model.events.case.connect(self._show_case)
        self.persistence.saved.connect(lambda: self.state_saved.emit())
        self.persistence.failed.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.colouring.failed.connect(lambda message: self._warn("Overlays failed", message))

    def _connect(self) -> None:
        model = self.model
        self.cine.frame_changed.connect(lambda index: setattr(model, "frame", index))
        self.playback.control(self.cine)
        self.analysis_panel.run_requested.connect(self.run_analysis)
        self.analysis_panel.cancel_requested.connect(self.runner.cancel)
        model.events.auto_run.connect(lambda on: self.settings.setValue(AUTO_ANALYZE, on))
        self.analysis_panel.lesions.lesion_selected.connect(self._focus_lesion)
        self.clinical_form.load_csv_requested.connect(self._ask_clinical_csv)
        self.runner.report_to(model)
        model.analysed.connect(lambda result: self.analysis_finished.emit(result))
        # In the panel and here, not a dialog: an automatic run on opening must not interrupt.
        model.events.analysis.connect(lambda status: status.state == FAILED and
                                      self.statusBar().showMessage("Analysis failed", 8000))
        self.exporter.finished.connect(lambda path: self.statusBar().showMessage(
            f"Saved {path}", 8000))
        self.exporter.failed.connect(lambda message: self._warn("Export failed", message))

    def _restore_preferences(self) -> None:
        geometry = self.settings.value(WINDOW_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        keep_on_screen(self)  # also the first-run 1600x1000 on a smaller screen
        state = self.settings.value(WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        self.model.auto_run = read_bool(self.settings, AUTO_ANALYZE, True)

    # ----- opening -----
    def _ask_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open DSA run", self._last_folder(),
                                              _OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    def _ask_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open case, DICOM or frame folder",
                                                self._last_folder())
        if path:
            self.open_path(Path(path))

    def _last_folder(self) -> str:
        return str(self.settings.value(LAST_FOLDER, ""))

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def open_path(self, path: str | Path) -> None:
        """Open in the background; the current case stays on screen until the new one is in,
        and stays if the new one cannot be opened. Unsaved mask edits are saved or discarded
        first, as the user chooses; cancelling that cancels the opening."""
        if not self.annotation.confirm_close():
            return
        path = Path(path)
        token = self._open_token = object()
        self.statusBar().showMessage(f"Opening {path}…")
        run_in_background(
            lambda: open_session(path),
            lambda session: self._opened(session, token),
            lambda error, trace: self._open_error(path, error, trace, token),
        )

    def _opened(self, session: CaseSession, token: object) -> None:
        if token is not self._open_token:
            return  # a later open superseded this one
        self.runner.cancel()
        self.model.open(session)
        self.recent.add(session.opened)
        self.weights.case_opened(session.opened)
        self.settings.setValue(LAST_FOLDER, str(session.opened.absolute().parent))
        video = session.video
        rate = f"{video.fps:g} fps" if video.fps is not None else \
            f"{acquisition_fps(video):g} fps (assumed)"
        height, width = video.frame_shape
        message = f"{video.source.name}: {video.n_frames} frames, {width}×{height}, {rate}"
        self.statusBar().showMessage("; ".join([message, *session.notes]), 15000)
        self.case_opened.emit(session)

    def _show_case(self, session: CaseSession) -> None:
        """What the window itself shows of a case: playback, title, header, invert off."""
        video = session.video
        self.cine.load(video.n_frames, acquisition_fps(video), start=self.model.frame)
        self.invert_action.setChecked(False)
        self.setWindowTitle(f"DSA Viewer — {session.location.case_id or video.source.name}")

    def _open_error(self, path: Path, error: Exception, trace: str, token: object) -> None:
        if token is not self._open_token:
            return
        message = str(error) if isinstance(error, InputError) else (
            f"Unexpected error while opening {path}: {error}\n\n{trace}")
        self.statusBar().showMessage(f"Could not open {path.name}", 8000)
        self.annotation.open_case()  # edit the case still shown
        self.open_failed.emit(message)
        self._warn("Cannot open", message)

    # ----- playback and display -----
    def _toggle_invert(self) -> None:
        self.frame_view.set_inverted(self.invert_action.isChecked())

    def reset_view(self) -> None:
        """Fit, default window, not inverted."""
        self.frame_view.fit()
        self.frame_view.set_inverted(False)
        self.invert_action.setChecked(False)
        if self.model.case is not None:
            self.frame_view.set_window(*self.model.case.window)

    # ----- key frame -----
    def go_to_key_frame(self) -> None:
        if self.model.case is not None:
            self.cine.pause()
            self.cine.seek(self.model.key_frame)

    def set_key_frame_here(self) -> None:
        self.model.set_key_frame_override(self.cine.index)

    def clear_key_frame_override(self) -> None:
        self.model.set_key_frame_override(None)

    def _focus_lesion(self, number: int) -> None:
        self.frame_view.overlays.highlight(number or None)
        result = self.model.result
        lesion = next((item for item in (result.lesions if result else []) if
                       item.number == number), None)
        if lesion is not None:
            self.frame_view.centre_on(lesion.bbox)

    # ----- analysis -----
    def run_analysis(self) -> None:
        self.scheduler.run()

    # ----- clinical values -----
    def _ask_clinical_csv(self) -> None:
        path = ask_clinical_csv(self, self.model, Path(self._last_folder()))
        if path is not None:
            self.load_clinical_csv(path)

    def load_clinical_csv(self, path: Path) -> None:
        """Take this case's row of a clinical.csv (or the row the user picks)."""
        message = load_clinical_row(self, self.model, path)
        if message:
            self.statusBar().showMessage(message, 8000)

    # ----- closing -----
    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self.annotation.confirm_close():
            event.ignore()
            return
        self.cine.pause()
        self.runner.cancel()
        self._save_pool.waitForDone(10_000)  # the user's edits must reach the disk
        self.model.close()  # work still in a worker (overlay colouring) must not reach its views
        self.settings.setValue(WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.setValue(WINDOW_STATE, self.saveState())
        self.settings.sync()
        super().closeEvent(event)
        self._garbage.stop()

    # ----- export -----
    def _export_frame(self) -> None:
        export_frame(self)

    def _export_summary(self) -> None:
        export_summary(self)

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)

