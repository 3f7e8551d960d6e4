"""What surrounds the image: the collimator's black border (rectangular shutters or a round
iris, with a soft penumbra and noise), vignetting inside the field, and the text a real
system burns into exported frames (frame counter, side marker)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Collimator:
    shape: str  # "rect" or "round"
    alpha: np.ndarray  # float32 (H, W): 1 in the exposed field, 0 in the border
    vignette: np.ndarray  # float32 (H, W): display gain, 1 at the field centre
    border_level: float  # mean grey of the border, in 8-bit units
    border_noise: float  # its noise SD, 8-bit units

    @property
    def field(self) -> np.ndarray:
        return self.alpha > 0.5

    def contains(self, point: np.ndarray, margin: float) -> bool:
        """Whether image point ``point`` lies in the field at least ``margin`` px inside."""
        height, width = self.alpha.shape
        x, y = float(point[0]), float(point[1])
        if not (margin <= x < width - margin and margin <= y < height - margin):
            return False
        offsets = ((0, 0), (margin, 0), (-margin, 0), (0, margin), (0, -margin))
        return all(self.alpha[int(y + dy), int(x + dx)] > 0.5 for dx, dy in offsets)


def sample_collimator(
    rng: np.random.Generator, width: int, height: int, round_iris: bool
) -> Collimator:
    inset = rng.uniform(0.015, 0.09, 4) * np.array([width, width, height, height])
    x0, x1 = inset[0], width - inset[1]
    y0, y1 = inset[2], height - inset[3]
    penumbra = rng.uniform(1.0, 3.0) * width / 1021.0
    xs = np.arange(width, dtype=np.float32)[None, :] + 0.5
    ys = np.arange(height, dtype=np.float32)[:, None] + 0.5
    # Signed distance (px) inside the rectangle, positive in the field.
    inside = np.minimum(np.minimum(xs - x0, x1 - xs), np.minimum(ys - y0, y1 - ys))
    if round_iris:
        centre = np.array([width / 2, height / 2]) + rng.normal(0, 0.01, 2) * [width, height]
        radius = rng.uniform(0.5, 0.6) * max(x1 - x0, y1 - y0)
        radius = min(radius, 0.5 * np.hypot(x1 - x0, y1 - y0) - 4)
        inside = np.minimum(inside, radius - np.sqrt((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2))
    alpha = np.clip(0.5 + inside / (2.0 * penumbra), 0.0, 1.0).astype(np.float32)

    centre_x, centre_y = (x0 + x1) / 2, (y0 + y1) / 2
    half_diagonal = 0.5 * np.hypot(x1 - x0, y1 - y0)
    r2 = ((xs - centre_x) ** 2 + (ys - centre_y) ** 2) / np.float32(half_diagonal**2)
    strength = np.float32(rng.uniform(0.04, 0.22))
    vignette = (1.0 - strength * np.minimum(r2, np.float32(1.44)) ** np.float32(1.25)).astype(
        np.float32
    )
    return Collimator(
        shape="round" if round_iris else "rect",
        alpha=alpha,
        vignette=vignette,
        border_level=float(rng.uniform(0.0, 12.0)),
        border_noise=float(rng.uniform(0.5, 3.5)),
    )


@dataclass(frozen=True)
class BurnedInText:
    """Text drawn into every frame, in 8-bit grey units; ``{frame}`` and ``{count}`` in a
    line are replaced by the 1-based frame number and the frame count."""

    lines: tuple[tuple[str, tuple[int, int]], ...]  # (text, bottom-left origin)
    font_scale: float
    thickness: int
    value: float

    def draw(self, frame: np.ndarray, frame_index: int, count: int, white: int) -> None:
        colour = int(round(self.value / 255.0 * white))
        for text, origin in self.lines:
            label = text.format(frame=frame_index + 1, count=count)
            cv2.putText(
                frame,
                label,
                origin,
                cv2.FONT_HERSHEY_SIMPLEX,
                self.font_scale,
                colour,
                self.thickness,
                cv2.LINE_AA,
            )


def sample_text(
    rng: np.random.Generator, width: int, height: int, present: bool
) -> BurnedInText | None:
    if not present:
        return None
    scale = width / 1021.0
    font_scale = float(rng.uniform(0.55, 0.9) * scale)
    thickness = max(1, int(round(rng.uniform(1.0, 2.0) * scale)))
    margin_x, margin_y = int(12 * scale), int(30 * scale)
    counter = str(rng.choice(["{frame}/{count}", "F {frame}", "IMG {frame}", "{frame}"]))
    counter_corner = rng.integers(0, 2)
    counter_origin = (
        (margin_x, height - int(12 * scale))
        if counter_corner == 0
        else (width - int(130 * scale), margin_y)
    )
    lines = [(counter, counter_origin)]
    if rng.random() < 0.85:
        side = "R" if rng.random() < 0.85 else "L"
        origin = (margin_x, margin_y) if side == "R" else (width - int(40 * scale), 2 * margin_y)
        lines.append((side, origin))
    if rng.random() < 0.4:
        label = str(rng.choice(["DSA", "HEPATIC", "CHA", "SUB"]))
        lines.append((label, (width - int(110 * scale), height - int(12 * scale))))
    return BurnedInText(
        lines=tuple(lines),
        font_scale=font_scale,
        thickness=thickness,
        value=float(rng.uniform(180, 255)),
    )
