"""A window restored from a layout saved on a bigger monitor must still fit: its panels and
playback bar off-screen cannot be reached."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def fit_rect(window: QRect, available: QRect) -> QRect:
    """``window`` shrunk to at most ``available``'s size and moved inside it."""
    width = min(window.width(), available.width())
    height = min(window.height(), available.height())
    left = min(max(window.left(), available.left()), available.right() + 1 - width)
    top = min(max(window.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


def clamp_to_screen(widget: QWidget) -> None:
    """Fit ``widget``'s frame (title bar included) into the available area of the screen it
    opens on; a maximised window is left to the window manager."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    if screen is None or widget.isMaximized() or widget.isFullScreen():
        return
    available = screen.availableGeometry()
    frame, inner = widget.frameGeometry(), widget.geometry()
    # The frame's extra width and height (title bar, borders) must fit as well.
    extra_w, extra_h = frame.width() - inner.width(), frame.height() - inner.height()
    fitted = fit_rect(frame, available)
    if fitted == frame:
        return
    widget.resize(fitted.width() - extra_w, fitted.height() - extra_h)
    widget.move(fitted.topLeft())


class _FitOnFirstShow(QObject):
    """Fits the window again once it is shown: only then does the window manager's frame
    (title bar, borders) have its real size."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Show and isinstance(watched, QWidget):
            watched.removeEventFilter(self)
            # The window manager adds its frame a moment after the first show; fit again
            # once it has.
            for delay_ms in (0, 300, 1000):
                # With the window as context: no call once it is gone.
                QTimer.singleShot(delay_ms, watched, lambda: clamp_to_screen(watched))
        return False


def keep_on_screen(widget: QWidget) -> None:
    """Fit ``widget`` to its screen now and once more when it is first shown."""
    clamp_to_screen(widget)
    widget.installEventFilter(_FitOnFirstShow(widget))
