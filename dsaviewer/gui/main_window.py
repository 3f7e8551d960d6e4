"""The main window: puts the widgets together and keeps them in step with the open case.

The case itself is a Qt-free :class:`CaseSession`; the widgets show it; disk, analysis and
export run in workers, so the event loop stays free while they work.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.case_session import (
    CLINICAL_FROM_VIEWER,
    CaseSession,
    frame_number,
    open_session,
    overlays_for,
)
from dsaviewer.core.keyframe import KEY_FRAME_AUTO, KEY_FRAME_SOURCE_TEXT
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.dock import AnnotationDock
from dsaviewer.gui.background.analysis_runner import (
    AnalysisRequest,
    AnalysisRunner,
    AnalyzeFunction,
)
from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.gui.docks.analysis_panel import AnalysisPanel
from dsaviewer.gui.docks.clinical_form import ClinicalForm, choose_clinical_row
from dsaviewer.gui.docks.response_panel import ResponsePanel
from dsaviewer.gui.export.exporter import CaseExporter, FrameExport, ask_png_path
from dsaviewer.gui.image.frame_view import FrameView
from dsaviewer.gui.overlays.overlay_controls import OverlayControls
from dsaviewer.gui.overlays.overlay_panel import OverlayPanel
from dsaviewer.gui.playback.cine import CineController
from dsaviewer.gui.playback.playback_bar import PlaybackBar
from dsaviewer.gui.recent_files import RecentFiles
from dsaviewer.gui.settings import (
    AUTO_ANALYZE,
    LAST_FOLDER,
    WINDOW_GEOMETRY,
    WINDOW_STATE,
    open_settings,
    read_bool,
)
from dsaviewer.gui.training.weights_controller import WeightsController
from dsaviewer.io.case_state import write_case_state
from dsaviewer.io.video import Video

FALLBACK_FPS = 15.0  # when a file states no frame rate; shown as "assumed" in the UI
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
        self.setWindowTitle("DSA Viewer")
        self.setAcceptDrops(True)
        self.resize(1600, 1000)
        self.settings = settings if settings is not None else open_settings()
        self.session: CaseSession | None = None
        self._open_token: object | None = None

        self.frame_view = FrameView()
        self.playback = PlaybackBar()
        self.cine = CineController(self)
        self.header = QLabel()
        self.header.setStyleSheet("color: gray; font-size: 11px;")
        self.overlay_panel = OverlayPanel()
        self.analysis_panel = AnalysisPanel()
        self.clinical_form = ClinicalForm()
        self.response_panel = ResponsePanel()
        self.cursor_label = QLabel()
        self.overlay_controls = OverlayControls(self.overlay_panel, self.frame_view, self.settings)
        self.runner = AnalysisRunner(analyze, self)
        self.weights = WeightsController(self, self.runner, self.analysis_panel, self.settings)
        self.exporter = CaseExporter(self)
        self._save_pool = serial_pool(self)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.header)
        layout.addWidget(self.frame_view, 1)
        layout.addWidget(self.playback)
        self.setCentralWidget(central)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        docks = [self._dock("Overlays", self.overlay_panel, right),
                 self._dock("Analysis", self.analysis_panel, right),
                 self._dock("TACE response", self.response_panel, right)]
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        clinical = self._dock("Clinical variables", self.clinical_form, left)
        self.annotation = AnnotationDock(self.frame_view, self.overlay_panel,
                                         self.overlay_controls, self)
        self.addDockWidget(left, self.annotation)
        # Behind the clinical form: annotating is a task of its own, chosen by its tab.
        self.tabifyDockWidget(clinical, self.annotation)
        clinical.raise_()
        # First-run layout; a saved one replaces it in _restore_preferences.
        self.resizeDocks(docks, [190, 480, 230], Qt.Orientation.Vertical)
        self.resizeDocks([docks[0], clinical], [380, 300], Qt.Orientation.Horizontal)
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().showMessage("Open a DSA run: File > Open, or drop a file here")

        self._build_menus()
        self._connect()
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
        self.recent = RecentFiles(self.settings, file_menu.addMenu("Open &recent"),
                                  self.open_path)
        file_menu.addSeparator()
        file_menu.addActions(self.annotation.file_actions)
        file_menu.addSeparator()
        self._action(file_menu, "Export &frame as PNG…", "Ctrl+E", self._export_frame)
        self._action(file_menu, "Export case &summary as PNG…", "Ctrl+Shift+E",
                     self._export_summary)
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

    def _action(self, menu, text, shortcut, handler) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(handler)
        menu.addAction(action)
        self.addAction(action)
        return action

    def _connect(self) -> None:
        self.cine.frame_changed.connect(self._show_frame)
        self.cine.playing_changed.connect(self.playback.set_playing)
        self.playback.play_clicked.connect(self.cine.toggle)
        self.playback.step_clicked.connect(self.cine.step)
        self.playback.seek_requested.connect(self.cine.seek)
        self.playback.fps_changed.connect(self.cine.set_fps)
        self.playback.loop_toggled.connect(self.cine.set_loop)
        self.frame_view.cursor_moved.connect(self._show_cursor)
        self.analysis_panel.run_requested.connect(self.run_analysis)
        self.analysis_panel.cancel_requested.connect(self.runner.cancel)
        self.analysis_panel.auto_run_toggled.connect(
            lambda on: self.settings.setValue(AUTO_ANALYZE, on)
        )
        self.analysis_panel.lesions.lesion_selected.connect(self._focus_lesion)
        self.clinical_form.values_changed.connect(self._clinical_edited)
        self.clinical_form.load_csv_requested.connect(self._ask_clinical_csv)
        self.runner.started.connect(lambda _: self.analysis_panel.show_running())
        self.runner.progressed.connect(self.analysis_panel.show_progress)
        self.runner.finished.connect(self._analysis_done)
        self.runner.failed.connect(self._analysis_failed)
        self.runner.cancelled.connect(
            lambda _: self.analysis_panel.show_stopped("Analysis cancelled")
        )
        self.exporter.finished.connect(lambda path: self.statusBar().showMessage(
            f"Saved {path}", 8000))
        self.exporter.failed.connect(lambda message: self._warn("Export failed", message))

    def _restore_preferences(self) -> None:
        geometry = self.settings.value(WINDOW_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value(WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        self.analysis_panel.auto_box.setChecked(read_bool(self.settings, AUTO_ANALYZE, True))

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
        self.session = session
        video = session.video
        fps = video.fps if video.fps is not None else FALLBACK_FPS
        self.frame_view.prepare(video.max_value, session.histogram,
                                None if video.pixel_spacing_mm is None else
                                video.pixel_spacing_mm[1])
        self.frame_view.set_inverted(False)
        self.invert_action.setChecked(False)
        self.playback.set_video(video.n_frames, fps, video.fps is not None)
        self.cine.load(video.n_frames, fps)
        self.frame_view.set_window(*session.window)
        self._apply_overlays(session.overlays)
        self._refresh_key_frame()
        self.cine.seek(session.key_frame)
        self.annotation.open_case(session, self.cine.index)
        self.clinical_form.set_values(session.clinical, session.clinical_source)
        self._refresh_analysis()
        self.analysis_panel.set_available(True)
        self.header.setText(_header_text(video))
        self.setWindowTitle(f"DSA Viewer — {session.location.case_id or video.source.name}")
        self.recent.add(session.opened)
        self.weights.case_opened(session.opened)
        self.settings.setValue(LAST_FOLDER, str(session.opened.absolute().parent))
        rate = f"{fps:g} fps" if video.fps is not None else f"{fps:g} fps (assumed)"
        height, width = video.frame_shape
        message = f"{video.source.name}: {video.n_frames} frames, {width}×{height}, {rate}"
        self.statusBar().showMessage("; ".join([message, *session.notes]), 15000)
        self.case_opened.emit(session)
        needs_run = session.result is None or not session.result_matches_key_frame
        if needs_run and self.analysis_panel.auto_box.isChecked():
            # After the new case is painted: the worker would slow that first paint down.
            QTimer.singleShot(0, self.run_analysis)

    def _open_error(self, path: Path, error: Exception, trace: str, token: object) -> None:
        if token is not self._open_token:
            return
        message = str(error) if isinstance(error, InputError) else (
            f"Unexpected error while opening {path}: {error}\n\n{trace}")
        self.statusBar().showMessage(f"Could not open {path.name}", 8000)
        if self.session is not None and not self.annotation.editor.is_open:
            self.annotation.open_case(self.session, self.cine.index)  # edit the case still shown
        self.open_failed.emit(message)
        self._warn("Cannot open", message)

    # ----- playback and display -----
    def _show_frame(self, index: int) -> None:
        if self.session is None:
            return
        video = self.session.video
        self.frame_view.show_frame(video.frames[index])
        self.annotation.show_frame(index)
        acquisition_fps = video.fps if video.fps is not None else FALLBACK_FPS
        self.playback.show_position(index, video.n_frames, index / acquisition_fps,
                                    index == self.session.key_frame)
        state = self.cine.state
        self.playback.show_rate(state.playing, state.fps, state.achieved_fps())

    def _show_cursor(self, row: int, col: int, value: float) -> None:
        if row < 0 or self.session is None:
            self.cursor_label.clear()
            return
        text = f"x {col}  y {row}  value {value:g}"
        spacing = self.session.video.pixel_spacing_mm
        if spacing is not None:
            text += f"  ({col * spacing[1]:.1f}, {row * spacing[0]:.1f} mm)"
        result = self.session.result
        if result is not None:
            text += f"  tumor p {result.tumor_probability[row, col]:.2f}"
        self.cursor_label.setText(text)

    def _toggle_invert(self) -> None:
        self.frame_view.set_inverted(self.invert_action.isChecked())

    def reset_view(self) -> None:
        """Fit, default window, not inverted."""
        self.frame_view.fit()
        self.frame_view.set_inverted(False)
        self.invert_action.setChecked(False)
        if self.session is not None:
            self.frame_view.set_window(*self.session.window)

    # ----- key frame -----
    def go_to_key_frame(self) -> None:
        if self.session is not None:
            self.cine.pause()
            self.cine.seek(self.session.key_frame)

    def set_key_frame_here(self) -> None:
        if self.session is not None:
            self._change_key_frame(self.cine.index)

    def clear_key_frame_override(self) -> None:
        if self.session is not None:
            self._change_key_frame(None)

    def _change_key_frame(self, override: int | None) -> None:
        session = self.session
        if override == session.key_frame_override:
            return
        session.key_frame_override = override
        self._refresh_key_frame()
        self._save_state()
        self._recolour_overlays()
        self._refresh_analysis()
        if self.analysis_panel.auto_box.isChecked() and not session.result_matches_key_frame:
            self.run_analysis()

    def _refresh_key_frame(self) -> None:
        session = self.session
        self.playback.timeline.set_key_frame(session.key_frame)
        self.annotation.set_key_frame(session.key_frame)
        source = KEY_FRAME_SOURCE_TEXT[session.key_frame_source]
        self.playback.timeline.setToolTip(f"Key frame {frame_number(session.key_frame)} "
                                          f"({source})")
        self._show_frame(self.cine.index)

    # ----- overlays -----
    def _recolour_overlays(self) -> None:
        """Colour the overlays of the key frame and result in a worker; they are shown if
        both are still the session's when the images arrive."""
        session = self.session
        key_frame, result = session.key_frame, session.result

        def show(overlays: OverlaySet) -> None:
            if session is self.session and key_frame == session.key_frame and (
                    result is session.result):
                session.overlays = overlays
                self._apply_overlays(overlays)

        run_in_background(lambda: overlays_for(session.video, key_frame, result), show,
                          lambda error, trace: self._warn("Overlays failed",
                                                          f"{error}\n\n{trace}"))

    def _apply_overlays(self, overlays: OverlaySet) -> None:
        result = self.session.result
        self.overlay_controls.show(overlays, None if result is None else result.lesions,
                                   self.session.key_frame)
        self.annotation.refresh_legend()

    def _focus_lesion(self, number: int) -> None:
        self.frame_view.overlays.highlight(number or None)
        result = self.session.result if self.session is not None else None
        lesion = next((item for item in (result.lesions if result else []) if
                       item.number == number), None)
        if lesion is not None:
            self.frame_view.centre_on(lesion.bbox)

    # ----- analysis -----
    def run_analysis(self) -> None:
        session = self.session
        if session is None:
            return
        automatic = session.key_frame_source == KEY_FRAME_AUTO
        self.runner.start(AnalysisRequest(
            video=session.video,
            clinical=session.clinical,
            key_frame=None if automatic else session.key_frame,
            key_frame_source=session.key_frame_source,
            token=session,
        ))

    def _analysis_done(self, result, request: AnalysisRequest) -> None:
        session = self.session
        if request.token is not session:
            return  # made for a case that is no longer open
        session.set_result(result, request.clinical)
        self.annotation.set_result(result)
        self._save_state()
        self._recolour_overlays()
        self._refresh_analysis()
        self.analysis_finished.emit(result)

    def _analysis_failed(self, message: str, request: AnalysisRequest) -> None:
        if request.token is not self.session:
            return
        # In the panel, not a dialog: an automatic run on opening must not interrupt.
        self.analysis_panel.show_stopped(f"Analysis failed: {message}", error=True)
        self.statusBar().showMessage("Analysis failed", 8000)

    def _refresh_analysis(self) -> None:
        session = self.session
        result = session.result
        source = KEY_FRAME_SOURCE_TEXT.get(result.key_frame_source, result.key_frame_source) \
            if result is not None else ""
        if not self.runner.running:
            self.analysis_panel.show_result(result, session.key_frame, source)
        state = ""
        if result is not None and not session.result_matches_key_frame:
            state = (f"Made on key frame {frame_number(result.key_frame)}; the key frame is "
                     f"now {frame_number(session.key_frame)}.")
        elif result is not None and not session.prediction_matches_clinical:
            state = "The clinical values changed since this prediction; it is being updated." \
                if self.runner.running else "The clinical values changed: run the analysis."
        # The analysis' caveats (untrained weights, too few frames) hold for the call too.
        caveats = [] if result is None else [f"Note: {note}" for note in result.notes]
        self.response_panel.show_prediction(None if result is None else result.prediction,
                                            "\n".join(filter(None, [state, *caveats])))

    # ----- clinical values -----
    def _clinical_edited(self, values) -> None:
        session = self.session
        if session is None:
            return
        session.clinical, session.clinical_source = values, CLINICAL_FROM_VIEWER
        self.clinical_form.set_source(CLINICAL_FROM_VIEWER)
        self._save_state()
        if session.result is not None and session.result_matches_key_frame:
            # The pipeline has no response-only entry point yet: a full run on the loaded
            # models takes about a second, and this keeps one path for every prediction.
            self.run_analysis()
        self._refresh_analysis()

    def _ask_clinical_csv(self) -> None:
        if self.session is None:
            return
        start = self.session.location.clinical_csv or Path(self._last_folder())
        path, _ = QFileDialog.getOpenFileName(self, "Clinical values", str(start),
                                              "CSV files (*.csv);;All files (*)")
        if path:
            self.load_clinical_csv(Path(path))

    def load_clinical_csv(self, path: Path) -> None:
        """Take this case's row of a clinical.csv (or the row the user picks)."""
        chosen = choose_clinical_row(self, path, self.session.location.case_id)
        if chosen is not None:
            case_id, values = chosen
            self.clinical_form.set_values(values, CLINICAL_FROM_VIEWER)
            self._clinical_edited(values)
            self.statusBar().showMessage(f"Clinical values of {case_id} loaded from {path}",
                                         8000)

    # ----- persistence -----
    def _save_state(self) -> None:
        session = self.session
        state, folder = session.state(), session.location.state_folder
        run_in_background(
            lambda: write_case_state(folder, state),
            lambda stored: self._state_saved(session, stored),
            lambda error, trace: self.statusBar().showMessage(
                f"Could not save the case state in {folder}: {error}", 15000),
            pool=self._save_pool,
        )

    def _state_saved(self, session: CaseSession, stored) -> None:
        session.mark_saved(stored)
        self.state_saved.emit()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if not self.annotation.confirm_close():
            event.ignore()
            return
        self.cine.pause()
        self.runner.cancel()
        self._save_pool.waitForDone(10_000)  # the user's edits must reach the disk
        self.settings.setValue(WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.setValue(WINDOW_STATE, self.saveState())
        self.settings.sync()
        super().closeEvent(event)

    # ----- export -----
    def _export_frame(self) -> None:
        if self.session is not None:
            index = self.cine.index
            path = ask_png_path(self, "Export frame", self.session,
                                f"frame{frame_number(index):04d}")
            if path is not None:
                self.exporter.export_frame(path, self._as_shown(index))

    def _export_summary(self) -> None:
        if self.session is not None:
            path = ask_png_path(self, "Export case summary", self.session, "summary")
            if path is not None:
                self.exporter.export_summary(path, self.session,
                                             self._as_shown(self.session.key_frame))

    def _as_shown(self, index: int) -> FrameExport:
        """Frame ``index`` as the screen shows frames now (window, inversion, layers, the
        annotator's masks while the editor shows them)."""
        result = self.session.result
        return FrameExport(
            frame=self.session.video.frames[index],
            window=self.frame_view.window(),
            inverted=self.frame_view.inverted,
            overlays=self.session.overlays,
            opacities=self.overlay_controls.shown_opacities(),
            lesions=[] if result is None else result.lesions,
            edited=self.annotation.editor.masks_as_shown(index),
        )

    def _warn(self, title: str, message: str) -> None:
        QMessageBox.warning(self, title, message)


def _header_text(video: Video) -> str:
    keys = ("PatientName", "PatientID", "StudyDate", "StudyDescription", "Modality",
            "Manufacturer", "InstitutionName")
    return "   ·   ".join(video.metadata[key] for key in keys if video.metadata.get(key))
