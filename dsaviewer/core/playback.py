"""Cine playback timing, free of Qt so it can be tested without a display.

The viewer shows every frame in order at the chosen rate. When the machine cannot keep up
it does not skip frames silently: it keeps showing each frame and reports the rate it really
achieved, so the radiologist knows playback is slower than acquisition.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class PlaybackState:
    """Which frame is shown and how playback advances; owned by the cine controller."""

    n_frames: int
    fps: float = 15.0
    loop: bool = True
    index: int = 0
    playing: bool = False
    _shown_at: deque[float] = field(default_factory=lambda: deque(maxlen=30), repr=False)

    def __post_init__(self) -> None:
        if self.n_frames < 1:
            raise ValueError("a video has at least one frame")
        if self.fps <= 0:
            raise ValueError(f"frame rate must be positive, got {self.fps}")

    @property
    def interval_ms(self) -> int:
        return max(1, round(1000.0 / self.fps))

    def seek(self, index: int) -> int:
        self.index = min(max(int(index), 0), self.n_frames - 1)
        return self.index

    def step(self, delta: int = 1) -> int:
        """Move ``delta`` frames; at the ends wrap when looping, else stop playing."""
        target = self.index + delta
        if 0 <= target < self.n_frames:
            self.index = target
        elif self.loop and self.playing:
            self.index = target % self.n_frames
        else:
            self.index = min(max(target, 0), self.n_frames - 1)
            self.playing = False
        return self.index

    def record_shown(self, timestamp_s: float) -> None:
        self._shown_at.append(timestamp_s)

    def achieved_fps(self) -> float | None:
        """The rate frames were actually shown at over the last second or so."""
        if len(self._shown_at) < 3:
            return None
        span = self._shown_at[-1] - self._shown_at[0]
        return (len(self._shown_at) - 1) / span if span > 0 else None

    def reset_rate_measurement(self) -> None:
        self._shown_at.clear()
