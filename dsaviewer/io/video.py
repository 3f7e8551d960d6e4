"""The video every layer above ``io`` works with, and the one entry point that loads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Video:
    """A DSA run as loaded from disk.

    ``frames`` is ``(T, H, W)`` uint8 or uint16 in display polarity MONOCHROME2 (higher is
    brighter). ``fps`` is the acquisition frame rate when the file states one, else None.
    ``pixel_spacing_mm`` is (row, column) spacing in mm at the detector/imager when known.
    ``metadata`` holds display strings only (patient, study, device), never pixel data.
    """

    frames: np.ndarray
    fps: float | None
    pixel_spacing_mm: tuple[float, float] | None
    source: Path
    source_format: str
    bits_stored: int = 8
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def frame_shape(self) -> tuple[int, int]:
        return int(self.frames.shape[1]), int(self.frames.shape[2])

    @property
    def max_value(self) -> int:
        """The largest representable pixel value, for window/level defaults."""
        return (1 << self.bits_stored) - 1
