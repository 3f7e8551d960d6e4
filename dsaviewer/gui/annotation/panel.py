"""The annotation panel: the mask editor's tools, label, brush size, undo/redo and the
accept / copy / import / save / export commands, with their keyboard shortcuts.

The shortcuts belong to the panel's actions (window-wide while the panel is shown); the main
window may put the same actions in its menus (``panel.undo_action`` ...) rather than making
its own, which would make the shortcuts ambiguous.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.case_session import frame_numbers_text
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.dialogs import (
    ask_export_dataset,
    save_and_report,
    show_import_report,
)
from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.annotation.tools import (
    LABEL_RGB,
    LABEL_SHORTCUT,
    LABEL_TEXT,
    MAX_BRUSH_RADIUS,
    Tool,
)
from dsaviewer.gui.annotation.undo import history_actions
from dsaviewer.io.labelme import LABELS

_RADIUS_STEP = 1.25  # [ and ] scale the brush by this factor
_TOOL_COLUMNS = 2


class AnnotationPanel(QWidget):
    """Controls for one :class:`MaskEditor`."""

    def __init__(self, editor: MaskEditor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor

        self.tool_actions: dict[Tool, QAction] = {}
        tools = QActionGroup(self)
        tools.setExclusive(True)
        for tool in Tool:
            action = self._action(tool.spec.text, tool.spec.shortcut, tool.spec.help)
            action.setCheckable(True)
            action.triggered.connect(lambda _checked, t=tool: editor.set_tool(t))
            tools.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions[editor.tool].setChecked(True)

        self.label_actions: dict[str, QAction] = {}
        labels = QActionGroup(self)
        for label in LABELS:
            action = self._action(
                LABEL_TEXT[label], LABEL_SHORTCUT[label], f"Edit the {label} mask"
            )
            action.setCheckable(True)
            action.triggered.connect(lambda _checked, name=label: editor.set_label(name))
            labels.addAction(action)
            self.label_actions[label] = action
        self.label_actions[editor.label].setChecked(True)

        self.radius_box = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=MAX_BRUSH_RADIUS)
        self.radius_box.setSuffix(" px")
        self.radius_box.setValue(editor.radius)
        self.radius_box.setToolTip("Brush and eraser radius in image pixels ([ and ])")
        self.radius_box.valueChanged.connect(editor.set_radius)
        smaller = self._action("Smaller brush", "[", "Shrink the brush")
        smaller.triggered.connect(lambda: editor.set_radius(editor.radius / _RADIUS_STEP))
        larger = self._action("Larger brush", "]", "Grow the brush")
        larger.triggered.connect(lambda: editor.set_radius(editor.radius * _RADIUS_STEP))

        self.undo_action, self.redo_action = history_actions(editor, self)
        for action in (self.undo_action, self.redo_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

        self.accept_action = self._action(
            "Accept model masks", "", "Copy the model's tumor and liver masks into this frame"
        )
        self.accept_action.triggered.connect(editor.accept_prediction)
        self.copy_previous_action = self._action(
            "Copy from previous frame", "", "Copy the previous frame's masks into this frame"
        )
        self.copy_previous_action.triggered.connect(editor.copy_from_previous)
        self.import_action = self._action(
            "Import Labelme JSON…", "", "Replace this frame's masks with a Labelme file's"
        )
        self.import_action.triggered.connect(self._import)
        self.save_action = self._action(
            "Save labels", "Ctrl+S", "Write the edited frames as labels/NNNN.json (Labelme)"
        )
        self.save_action.triggered.connect(lambda: save_and_report(self.window(), editor))
        self.export_action = self._action(
            "Export dataset…", "", "Copy cases with their labels into a training dataset"
        )
        self.export_action.triggered.connect(lambda: ask_export_dataset(self.window(), editor))

        self._case_actions = [
            *self.tool_actions.values(),
            *self.label_actions.values(),
            smaller,
            larger,
            self.accept_action,
            self.copy_previous_action,
            self.import_action,
            self.save_action,
        ]
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: gray;")
        self._build_layout()

        editor.tool_changed.connect(lambda tool: self.tool_actions[tool].setChecked(True))
        editor.label_changed.connect(lambda label: self.label_actions[label].setChecked(True))
        editor.radius_changed.connect(self._show_radius)
        editor.message.connect(self.status.setText)
        editor.unsaved_changed.connect(self._show_unsaved)
        editor.case_opened.connect(lambda _report: self._set_enabled(True))
        editor.case_closed.connect(lambda: self._set_enabled(False))
        self._set_enabled(editor.is_open)

    def _action(self, text: str, shortcut: str, tip: str) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            tip = f"{tip} ({shortcut})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.addAction(action)  # shortcuts work while the panel is shown
        return action

    def _build_layout(self) -> None:
        label_row = QHBoxLayout()
        for label, action in self.label_actions.items():
            # The active label in its mask's colour: which one a stroke paints shows at a glance.
            label_row.addWidget(_button(action, _checked_css(f"rgb{LABEL_RGB[label]}", "black")))
        tool_grid = QGridLayout()
        tool_style = _checked_css("palette(highlight)", "palette(highlighted-text)")
        for number, action in enumerate(self.tool_actions.values()):
            tool_grid.addWidget(
                _button(action, tool_style), number // _TOOL_COLUMNS, number % _TOOL_COLUMNS
            )
        form = QFormLayout()
        form.addRow("Label", label_row)
        form.addRow("Brush", self.radius_box)
        edit_box = QGroupBox("Edit masks")
        edit_layout = QVBoxLayout(edit_box)
        edit_layout.addLayout(form)
        edit_layout.addLayout(tool_grid)
        history = QHBoxLayout()
        history.addWidget(_button(self.undo_action))
        history.addWidget(_button(self.redo_action))
        edit_layout.addLayout(history)
        for action in (self.accept_action, self.copy_previous_action):
            edit_layout.addWidget(_button(action))

        files_box = QGroupBox("Labels")
        files_layout = QVBoxLayout(files_box)
        for action in (self.import_action, self.save_action, self.export_action):
            files_layout.addWidget(_button(action))

        layout = QVBoxLayout(self)
        layout.addWidget(edit_box)
        layout.addWidget(files_box)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def _set_enabled(self, enabled: bool) -> None:
        """Everything but undo/redo (they follow the history) and export (it needs no open
        case) works on the open case."""
        self.radius_box.setEnabled(enabled)
        for action in self._case_actions:
            action.setEnabled(enabled)
        self._show_unsaved(enabled and self.editor.has_unsaved_changes())

    def _show_radius(self, radius: float) -> None:
        self.radius_box.blockSignals(True)
        self.radius_box.setValue(radius)
        self.radius_box.blockSignals(False)

    def _show_unsaved(self, unsaved: bool) -> None:
        if unsaved:
            frames = frame_numbers_text(self.editor.unsaved_frames())
            self.save_action.setText(f"Save labels (unsaved: frame {frames})")
        else:
            self.save_action.setText("Save labels")

    def _import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window(), "Import Labelme file", str(self.editor.labels_dir or ""),
            "Labelme files (*.json);;All files (*)",
        )
        if not path:
            return
        try:
            report = self.editor.import_labelme(path)
        except InputError as error:
            QMessageBox.warning(self.window(), "Labelme import", str(error))
            return
        show_import_report(self.window(), report)


def _checked_css(background: str, text: str) -> str:
    return (
        f"QToolButton:checked {{ background: {background}; color: {text}; "
        "border: 1px solid palette(dark); border-radius: 3px; }"
    )


def _button(action: QAction, style: str = "") -> QToolButton:
    button = QToolButton()
    button.setStyleSheet(style)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return button
