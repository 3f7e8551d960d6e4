"""Run blocking work (disk, inference, export) off the UI thread and deliver the result back.

Callbacks always run on the UI thread. A :class:`TaskHandle` lets the UI cancel a task and
receive its progress; the task itself only sees a ``threading.Event`` and a plain function,
so the layers below stay free of Qt.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

# Relays waiting for their task; held here so Python does not collect them mid-flight.
_pending: set[_Relay] = set()


class TaskHandle(QObject):
    """The UI's side of one background task: cancel it, follow its progress.

    ``report(fraction, message)`` may be called from any thread; ``progressed`` is delivered
    on the UI thread. ``fraction`` is in [0, 1], or negative when the amount is unknown.
    """

    progressed = Signal(float, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def report(self, fraction: float, message: str = "") -> None:
        self.progressed.emit(float(fraction), message)


class _Relay(QObject):
    """Lives in the UI thread: signals emitted by the worker are queued to its slots, so the
    callbacks always run on the UI thread (a plain function as receiver would run in the
    worker thread instead)."""

    finished = Signal(object)
    failed = Signal(object, str)

    def __init__(self, on_done: Callable[[Any], None], on_error: Callable[[Exception, str], None]):
        super().__init__()
        self._on_done = on_done
        self._on_error = on_error
        self.finished.connect(self._deliver_done)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_done(self, result: object) -> None:
        _pending.discard(self)
        self._on_done(result)

    @Slot(object, str)
    def _deliver_error(self, exc: object, trace: str) -> None:
        _pending.discard(self)
        self._on_error(exc, trace)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # noqa: BLE001 - every failure must reach the UI as a message
            self._relay.failed.emit(exc, traceback.format_exc())
        else:
            self._relay.finished.emit(result)


def run_in_background(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[Exception, str], None],
    pool: QThreadPool | None = None,
) -> None:
    """Start ``fn`` on ``pool`` (default: the global pool); the callbacks run on the UI thread."""
    relay = _Relay(on_done, on_error)
    _pending.add(relay)
    (pool or QThreadPool.globalInstance()).start(_Task(fn, relay))


def serial_pool(parent: QObject | None = None) -> QThreadPool:
    """A pool running one task at a time in submission order: saves of the same file must
    land in the order they were made."""
    pool = QThreadPool(parent)
    pool.setMaxThreadCount(1)
    return pool
