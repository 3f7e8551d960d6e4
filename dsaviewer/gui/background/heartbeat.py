"""A probe of the event loop's responsiveness, for the responsiveness test and the playback
benchmark: a fast timer whose longest gap between ticks is how long the loop was blocked."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

HEARTBEAT_MS = 5


class Heartbeat:
    """Use as a context manager around the work to watch. ``max_gap_ms`` is the longest
    wall-clock gap between two ticks; ``max_busy_ms`` the most CPU time the UI thread itself
    spent between two ticks (the rest of a gap is waiting: for the CPU on a busy machine, or
    for the GIL), which is what a test can assert on a shared machine."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.ticks = 0
        self.max_gap_ms = 0.0
        self.max_busy_ms = 0.0

    def _tick(self) -> None:
        wall, busy = time.perf_counter(), time.thread_time()
        self.max_gap_ms = max(self.max_gap_ms, 1000 * (wall - self._wall))
        self.max_busy_ms = max(self.max_busy_ms, 1000 * (busy - self._busy))
        self._wall, self._busy = wall, busy
        self.ticks += 1

    def __enter__(self) -> Heartbeat:
        self._wall, self._busy = time.perf_counter(), time.thread_time()
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.stop()
