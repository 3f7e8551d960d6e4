"""Cine playback: a timer that advances :class:`PlaybackState` one frame per tick.

Ticks are scheduled against a clock, not with a fixed millisecond interval: 1000/30 ms does
not round to a whole number, and a fixed interval would play 30 fps as 30.3 and 120 as 125.
When the machine falls behind, the schedule restarts from the frame shown instead of rushing
to catch up, so every frame is still shown, in order, and the achieved rate says how slow.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from dsaviewer.core.playback import PlaybackState


class CineController(QObject):
    frame_changed = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = PlaybackState(n_frames=1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._origin = 0.0  # when frame count 0 of the current schedule was due
        self._count = 0

    def load(self, n_frames: int, fps: float, start: int = 0) -> None:
        self.pause()
        self.state = PlaybackState(n_frames=n_frames, fps=fps, loop=self.state.loop)
        self.frame_changed.emit(self.state.seek(start))

    @property
    def index(self) -> int:
        return self.state.index

    def set_fps(self, fps: float) -> None:
        self.state.fps = fps
        self.state.reset_rate_measurement()
        if self.state.playing:
            self._restart_schedule()

    def set_loop(self, loop: bool) -> None:
        self.state.loop = loop

    def play(self) -> None:
        if self.state.n_frames < 2:
            return
        if not self.state.loop and self.state.index == self.state.n_frames - 1:
            self.state.seek(0)
        self.state.playing = True
        self.state.reset_rate_measurement()
        self._restart_schedule()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        was_playing = self.state.playing
        self.state.playing = False
        self._timer.stop()
        if was_playing:
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.state.playing else self.play()

    def seek(self, index: int) -> None:
        if index != self.state.index:
            self.frame_changed.emit(self.state.seek(index))

    def step(self, delta: int) -> None:
        self.pause()
        self.seek(self.state.index + delta)

    def _restart_schedule(self) -> None:
        self._origin, self._count = time.perf_counter(), 0
        self._schedule_next()

    def _schedule_next(self) -> None:
        period = 1.0 / self.state.fps
        now = time.perf_counter()
        due = self._origin + (self._count + 1) * period
        if now > due + period:  # a frame or more behind: go on from here, do not rush
            self._origin, self._count = now - period, 0
            due = now
        self._timer.start(max(0, round(1000.0 * (due - now))))

    def _tick(self) -> None:
        self._count += 1
        self.state.step(1)
        self.state.record_shown(time.perf_counter())
        self.frame_changed.emit(self.state.index)
        if self.state.playing:
            self._schedule_next()
        else:
            self.playing_changed.emit(False)
