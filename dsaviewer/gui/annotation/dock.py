"""The mask editor inside the clinician viewer: the editor on the frame view, its panel as a
dock, and the rules that keep it in step with the open case and the model's overlays.

Editing is on while the dock is shown. Hiding it (closing it, or another dock's tab in front)
hides the edited masks and goes back to Navigate, so a hidden tool never takes the left
button and a clinician who does not annotate sees the model's overlays only.

The edited masks have the model's colours and lie above its overlays; while a tool other than
Navigate is active the model's tumor and liver layers are hidden, so what is drawn is what is
being edited ("Accept model masks" copies them in). Navigate shows both again.
"""

from __future__ import annotations

from dataclasses import replace

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox

from dsaviewer.app.annotation_document import OpenReport
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation import dialogs
from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.annotation.panel import AnnotationPanel
from dsaviewer.gui.annotation.tools import Tool
from dsaviewer.gui.image.frame_view import FrameView
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.labelme import LABELS

DOCK_NAME = "Annotation"
_MESSAGE_MS = 8000


class AnnotationDock(QDockWidget):
    """``editor`` and ``panel`` are public for the menus and tests. It follows the model's
    case, frame, key frame and result, and tells the model whether a mask tool is active and
    which labels are annotated on the frame shown (the overlays and legend show that); the
    main window asks :meth:`confirm_close` before another case opens."""

    def __init__(self, model: ViewerModel, frame_view: FrameView, window: QMainWindow) -> None:
        super().__init__(DOCK_NAME, window)
        self.setObjectName(DOCK_NAME)  # saveState needs names
        self._model = model
        self._window = window
        self._shown = False
        self._annotated: tuple[str, ...] = ()  # labels with pixels on the frame shown
        self._unanswered: OpenReport | None = None  # recovery not yet offered
        self.editor = MaskEditor(frame_view.view, self)
        self.panel = AnnotationPanel(self.editor)
        self.setWidget(self.panel)
        self.panel.setEnabled(False)  # until the dock is on screen
        self.editor.set_layers_visible(False)

        self.editor.message.connect(lambda text: window.statusBar().showMessage(text, _MESSAGE_MS))
        self.editor.tool_changed.connect(lambda _tool: self._apply_mode())
        self.editor.label_changed.connect(lambda _label: self._refresh_annotated(force=True))
        self.editor.masks_changed.connect(self._masks_changed)
        self.visibilityChanged.connect(self._set_shown)
        model.events.case.connect(lambda _case: self.open_case())
        model.events.frame.connect(self._show_frame)
        model.events.key_frame.connect(self.editor.set_key_frame)
        model.events.result.connect(self._set_result)

    @property
    def file_actions(self) -> list[QAction]:
        """For the File menu: save (Ctrl+S), import a Labelme file, export a dataset."""
        panel = self.panel
        return [panel.save_action, panel.import_action, panel.export_action]

    @property
    def edit_actions(self) -> list[QAction]:
        """For the Edit menu: the editor's only undo and redo actions."""
        return [self.panel.undo_action, self.panel.redo_action]

    # ----- the case -----
    def open_case(self) -> None:
        """Edit the masks of the model's case at its frame (also to edit the case still shown
        after another failed to open); unsaved edits of an earlier session are offered once
        the case is on screen."""
        model = self._model
        case = model.case
        if case is None or self.editor.is_open:
            return
        try:
            report = self.editor.open_case(
                case.opened, case.video.frames, model.key_frame, current_frame=model.frame
            )
        except (InputError, OSError) as error:
            QMessageBox.warning(self.window(), "Annotations", f"Mask editing is off: {error}")
            return
        self._set_result(model.result)
        self._refresh_annotated(force=True)
        # After the case is painted: the question should not hold the new case back.
        self._unanswered = report
        QTimer.singleShot(0, lambda: self._offer_recovery(report))

    def _offer_recovery(self, report: OpenReport) -> None:
        if report is not self._unanswered or not self.editor.is_open:
            return  # closed or reopened since
        self._unanswered = None
        if report.problems and not self._shown:
            # Someone not annotating is told in a line, not stopped by a dialog.
            self.editor.message.emit(
                f"{len(report.problems)} problem(s) with the label files in "
                f"{report.labels_dir}: {report.problems[0]}"
            )
            report = replace(report, problems=())
        dialogs.offer_recovery(self.window(), self.editor, report)

    def confirm_close(self) -> bool:
        """Before the case or the window closes: True when it may (unsaved edits saved or
        discarded as the user chose; the editor is closed), False to stay."""
        closed = dialogs.confirm_close(self.window(), self.editor)
        if closed:
            self._unanswered = None
            self._refresh_annotated()
        return closed

    # ----- what the viewer shows -----
    def _show_frame(self, index: int) -> None:
        if self._model.case is None:
            return
        self.editor.set_frame(index)
        self._refresh_annotated()

    def _set_result(self, result: AnalysisResult | None) -> None:
        """The model's masks that "Accept model masks" copies."""
        if result is None:
            self.editor.set_prediction(None, None)
        else:
            self.editor.set_prediction(result.tumor_mask, result.liver_mask)

    # ----- editing mode -----
    def _set_shown(self, shown: bool) -> None:
        if not shiboken6.isValid(self._window):
            return  # the window is being destroyed: its views may be gone already
        self._shown = shown
        # A tab behind another keeps its widgets "visible": disabling the panel is what turns
        # its tool keys off.
        self.panel.setEnabled(shown)
        if not shown:
            self.editor.set_tool(Tool.NAVIGATE)
        self._apply_mode()

    def _apply_mode(self) -> None:
        self.editor.set_layers_visible(self._shown)
        self._model.editing_masks = self._shown and self.editor.tool is not Tool.NAVIGATE
        self._refresh_annotated(force=True)

    def _masks_changed(self, frame: int) -> None:
        if frame == self.editor.frame:
            self._refresh_annotated()

    def _refresh_annotated(self, force: bool = False) -> None:
        """Tell the model which labels have pixels on the frame shown, the active label first
        (none while the editor is hidden); checked on every frame played, told on a change."""
        store = self.editor.store
        annotation = None if store is None else store.get(self.editor.frame)
        annotated = () if annotation is None else tuple(
            label for label in LABELS if annotation.masks[label].any()
        )
        if force or annotated != self._annotated:
            self._annotated = annotated
            labels = sorted(annotated, key=lambda label: label != self.editor.label)
            self._model.edited_labels = tuple(labels) if self._shown else ()
