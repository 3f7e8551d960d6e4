"""The Undo and Redo actions of the mask editor: they act on the history of the frame on
screen (kept by :class:`~dsaviewer.app.annotation_document.AnnotationDocument`) and show what
they would take back or bring back."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence


def history_actions(editor, parent: QObject) -> tuple[QAction, QAction]:
    """(Undo: Ctrl+Z, Redo: Ctrl+Shift+Z and Ctrl+Y on every platform) for ``editor``."""
    undo = QAction("Undo", parent)
    undo.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
    redo = QAction("Redo", parent)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    _follow(editor, undo, editor.undo, "Undo",
            lambda: "" if editor.history is None else editor.history.undo_text())
    _follow(editor, redo, editor.redo, "Redo",
            lambda: "" if editor.history is None else editor.history.redo_text())
    return undo, redo


def _follow(editor, action: QAction, run: Callable[[], None], verb: str,
            text: Callable[[], str]) -> None:
    def refresh() -> None:
        action.setEnabled(bool(text()))
        action.setText(f"{verb} {text()}".strip())

    action.triggered.connect(run)
    editor.history_changed.connect(refresh)
    refresh()
