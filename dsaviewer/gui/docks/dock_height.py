"""A dock that needs more height takes it from the docks above and below it in the same
column, never from the screen: growing the window instead would push the playback bar off a
1366x768 laptop's screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, SignalInstance
from PySide6.QtWidgets import QDockWidget, QMainWindow


class DockHeightKeeper(QObject):
    """Gives ``dock`` the height ``missing()`` says it lacks, after each change of the
    window's layout (a neighbour's minimum that shrinks frees height only later) and each
    time ``asked_by`` fires (the dock's own content or size changed). Owned by ``window``."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, missing: Callable[[], int],
                 asked_by: SignalInstance) -> None:
        super().__init__(window)
        self._window, self._dock, self._missing = window, dock, missing
        self._pending = False
        window.installEventFilter(self)
        asked_by.connect(self.ask)

    def ask(self) -> None:
        # Later, and once for several requests: never inside a resize or a layout pass.
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self._give)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self._window and event.type() == QEvent.Type.LayoutRequest:
            self.ask()
        return False

    def _give(self) -> None:
        self._pending = False
        give_dock_height(self._window, self._dock, self._missing())


def give_dock_height(window: QMainWindow, dock: QDockWidget, extra: int) -> None:
    """Grow ``dock`` by up to ``extra`` pixels, taken from the spare height (height above the
    minimum) of the other docks of its area, the roomiest first. Qt may grant part of it; the
    dock's next resize asks again for the rest."""
    if extra <= 0 or dock.isFloating() or not dock.isVisible():
        return
    area = window.dockWidgetArea(dock)
    # A tab behind another counts as visible but holds no place of its own.
    column = [other for other in window.findChildren(QDockWidget)
              if other.isVisible() and not other.visibleRegion().isEmpty()
              and not other.isFloating() and window.dockWidgetArea(other) == area]
    heights = {other: other.height() for other in column}
    # Tabbed docks share one place: the spare height is that of the tab group, whose
    # minimum is its largest member's.
    donors = sorted((other for other in column if other is not dock),
                    key=lambda other: _spare(window, other), reverse=True)
    wanted = extra
    for donor in donors:
        taken = min(wanted, _spare(window, donor))
        if taken <= 0:
            break
        heights[donor] -= taken
        heights[dock] += taken
        wanted -= taken
    if wanted < extra:
        window.resizeDocks(list(heights), list(heights.values()), Qt.Orientation.Vertical)


def _spare(window: QMainWindow, dock: QDockWidget) -> int:
    group = [dock, *window.tabifiedDockWidgets(dock)]
    return dock.height() - max(member.minimumSizeHint().height() for member in group)
