"""The Help menu: the user guide, the keyboard shortcuts, the log folder and About (version,
active weights with their sha256, licences, the research-only statement).

The shortcut sheet is read from the window's own menus when it is shown, so it never lists a
key the program does not have. The user guide is the README's "Using it" section.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from dsaviewer import __version__
from dsaviewer.gui.docks.response_panel import RESEARCH_NOTE
from dsaviewer.io.app_log import log_folder
from dsaviewer.resources import resources_dir

# What the packaged program ships, with each project's licence.
LICENCES = (
    ("Qt for Python (PySide6)", "LGPL-3.0"),
    ("pyqtgraph", "MIT"),
    ("NumPy", "BSD-3-Clause"),
    ("OpenCV", "Apache-2.0"),
    ("pydicom", "MIT"),
    ("pylibjpeg", "MIT"),
    ("Pillow", "MIT-CMU (HPND)"),
    ("ONNX Runtime", "MIT"),
    ("PyTorch (where installed)", "BSD-3-Clause"),
)
_GUIDE_HEADING = "## Using it"


class HelpMenu:
    """Builds the Help menu of ``window``; ``active_weights`` answers the folder of the
    weights analyses run with now (None: the bundled ones)."""

    def __init__(self, window: QMainWindow,
                 active_weights: Callable[[], Path | None] = lambda: None) -> None:
        self._window = window
        self._active_weights = active_weights
        self.menu: QMenu = window.menuBar().addMenu("&Help")
        self.dialog: QDialog | None = None  # the last one shown, for tests
        self._add("&User guide", QKeySequence.StandardKey.HelpContents, self.show_guide)
        self._add("&Keyboard shortcuts", "Ctrl+/", self.show_shortcuts)
        self._add("Open &log folder", None, self.open_log_folder)
        self.menu.addSeparator()
        self._add("&About DSA Viewer", None, self.show_about)

    def _add(self, text: str, shortcut, handler) -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(handler)
        self.menu.addAction(action)
        self._window.addAction(action)
        return action

    # ----- the texts -----
    def about_html(self) -> str:
        folder = self._active_weights() or resources_dir() / "weights"
        weights = "".join(
            f"<li>{escape(role)}: {escape(file)}<br><code>sha256 {escape(digest)}</code></li>"
            for role, file, digest in weights_files(folder)
        ) or "<li>no weights manifest found</li>"
        licences = "".join(f"<li>{escape(name)}: {escape(licence)}</li>"
                           for name, licence in LICENCES)
        return (
            f"<h3>DSA Viewer {escape(__version__)}</h3>"
            f"<p><b>{escape(RESEARCH_NOTE)}</b></p>"
            f"<p>Active weights: {escape(folder.name)} "
            f"({escape(str(folder))})</p><ul>{weights}</ul>"
            f"<p>Built on:</p><ul>{licences}</ul>"
            f"<p>Log folder: {escape(str(log_folder()))}</p>"
        )

    def shortcut_html(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(menu)}</td><td>{escape(text)}</td><td><b>{escape(keys)}</b></td></tr>"
            for menu, text, keys in shortcut_rows(self._window)
        )
        return f"<h3>Keyboard shortcuts</h3><table cellpadding='3'>{rows}</table>"

    # ----- the actions -----
    def show_about(self) -> None:
        self._show("About DSA Viewer", self.about_html())

    def show_shortcuts(self) -> None:
        self._show("Keyboard shortcuts", self.shortcut_html())

    def show_guide(self) -> None:
        browser = self._show("User guide", "")
        browser.setMarkdown(user_guide_markdown())

    def open_log_folder(self) -> bool:
        folder = log_folder()
        folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _show(self, title: str, html: str) -> QTextBrowser:
        dialog = QDialog(self._window)
        dialog.setWindowTitle(title)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        browser = QTextBrowser()
        browser.setOpenExternalLinks(True)
        browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        dialog.resize(640, 520)
        dialog.show()  # not exec(): the viewer stays usable beside it
        self.dialog = dialog
        return browser


def weights_files(folder: Path) -> list[tuple[str, str, str]]:
    """(role, file, sha256) of each model named in ``folder/manifest.json``."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [(role, str(entry.get("file", "")), str(entry.get("sha256", "")))
            for role, entry in manifest.items() if isinstance(entry, dict) and "sha256" in entry]


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(menu, action, keys) of every menu action with a shortcut, in menu order."""
    rows = []
    for menu in window.findChildren(QMenu):
        title = menu.title().replace("&", "")
        for action in menu.actions():
            keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText)
                             for key in action.shortcuts())
            if keys and not action.isSeparator():
                rows.append((title, action.text().replace("&", ""), keys))
    return rows


def user_guide_markdown(readme: Path | None = None) -> str:
    """The README's "Using it" section (up to the next top-level section)."""
    path = readme or resources_dir().parent / "README.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return "The user guide is the README of the DSA Viewer project."
    start = text.find(_GUIDE_HEADING)
    if start < 0:
        return text
    end = text.find("\n## ", start + len(_GUIDE_HEADING))
    return text[start: end if end > 0 else len(text)].strip()
