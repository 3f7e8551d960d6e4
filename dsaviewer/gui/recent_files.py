"""File > Open Recent: the last opened paths, newest first, kept in QSettings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from dsaviewer.gui.settings import RECENT_FILES, read_strings

MAX_RECENT = 10


class RecentFiles:
    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[Path], None]):
        self._settings = settings
        self._menu = menu
        self._open_path = open_path
        self._rebuild()

    def paths(self) -> list[Path]:
        return [Path(text) for text in read_strings(self._settings, RECENT_FILES)]

    def add(self, path: Path) -> None:
        text = str(Path(path).absolute())
        others = [item for item in read_strings(self._settings, RECENT_FILES) if item != text]
        self._settings.setValue(RECENT_FILES, [text, *others][:MAX_RECENT])
        self._rebuild()

    def _rebuild(self) -> None:
        self._menu.clear()
        paths = self.paths()
        for number, path in enumerate(paths, start=1):
            action = self._menu.addAction(f"&{number % 10}  {path.name}")
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _=False, target=path: self._open_path(target))
        if not paths:
            self._menu.addAction("(none)").setEnabled(False)
        else:
            self._menu.addSeparator()
            self._menu.addAction("Clear list", self._clear)
        self._menu.setEnabled(True)

    def _clear(self) -> None:
        self._settings.setValue(RECENT_FILES, [])
        self._rebuild()
