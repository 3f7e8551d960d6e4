"""Robustness augmentation of a training clip: what differs between hospitals' runs
(contrast curve, dose, sharpness, resolution, field of view, anatomy) drawn per item, applied
alike to every frame of the clip so the temporal inputs stay consistent, and geometrically to
the masks. Frames are the model-size clip in [0, 1], (T, S, S); masks (S, S) bool.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class RobustAugmentation:
    """Strengths; 0 switches a kind off. ``ROBUST`` holds the values the broad runs use."""

    gamma: float = 0.0  # gamma = exp(U(-x, x)) on the [0, 1] grey values
    noise: float = 0.0  # Gaussian noise, SD drawn from U(0, x)
    blur: float = 0.0  # Gaussian blur SD drawn from U(0, x) px, half of the items
    resolution: float = 0.0  # down by U(1, 1 + x) and back up, half of the items
    scale: float = 0.0  # zoom exp(U(-x, x)) about a random point, shift up to x/2 of the side
    elastic: float = 0.0  # smooth displacement, amplitude up to x px
    cutout: float = 0.0  # probability of 1-3 boxes (1/16-1/6 of the side) set to the median

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        if self.cutout > 1:
            raise ValueError(f"cutout is a probability, got {self.cutout}")

    @property
    def enabled(self) -> bool:
        return any(value > 0 for value in vars(self).values())


ROBUST = RobustAugmentation(
    gamma=0.35, noise=0.04, blur=1.2, resolution=1.0, scale=0.25, elastic=4.0, cutout=0.3
)


def robust_augment(
    augmentation: RobustAugmentation,
    rng: np.random.Generator,
    frames01: np.ndarray,
    tumor: np.ndarray,
    liver: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = augmentation
    count, height, width = frames01.shape
    frames = np.array(frames01, dtype=np.float32)  # a copy: cutout writes in place
    # Geometry first (one map for frames and masks): zoom, shift, elastic.
    map_x, map_y = np.meshgrid(np.arange(width, dtype=np.float32),
                               np.arange(height, dtype=np.float32))
    moved = False
    if a.scale > 0:
        zoom = float(np.exp(rng.uniform(-a.scale, a.scale)))
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        shift = rng.uniform(-a.scale / 2, a.scale / 2, 2) * (width, height)
        map_x = (map_x - cx) / zoom + cx - shift[0]
        map_y = (map_y - cy) / zoom + cy - shift[1]
        moved = True
    if a.elastic > 0:
        for grid in (map_x, map_y):
            field = rng.standard_normal((height // 32 + 2, width // 32 + 2)).astype(np.float32)
            field = cv2.resize(field, (width, height), interpolation=cv2.INTER_CUBIC)
            grid += field * np.float32(rng.uniform(0, a.elastic))
        moved = True
    if moved:
        map_x, map_y = map_x.astype(np.float32), map_y.astype(np.float32)
        frames = np.stack([cv2.remap(f, map_x, map_y, cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REFLECT) for f in frames])
        tumor, liver = (
            cv2.remap(m.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST,
                      borderMode=cv2.BORDER_REFLECT).astype(bool)
            for m in (tumor, liver)
        )
    # Photometry and sharpness.
    if a.resolution > 0 and rng.random() < 0.5:
        factor = float(rng.uniform(1.0, 1.0 + a.resolution))
        small = (max(8, int(width / factor)), max(8, int(height / factor)))
        frames = np.stack([cv2.resize(cv2.resize(f, small, interpolation=cv2.INTER_AREA),
                                      (width, height), interpolation=cv2.INTER_LINEAR)
                           for f in frames])
    if a.blur > 0 and rng.random() < 0.5:
        sigma = float(rng.uniform(0.3, a.blur))
        frames = np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])
    if a.gamma > 0:
        frames = np.power(np.clip(frames, 0.0, 1.0), np.float32(np.exp(rng.uniform(-a.gamma,
                                                                                  a.gamma))))
    if a.noise > 0:
        sd = np.float32(rng.uniform(0.0, a.noise))
        frames = frames + sd * rng.standard_normal(frames.shape, dtype=np.float32)
    if a.cutout > 0 and rng.random() < a.cutout:
        fill = np.float32(np.median(frames[-1]))
        for _ in range(int(rng.integers(1, 4))):
            h = int(rng.uniform(1 / 16, 1 / 6) * height)
            w = int(rng.uniform(1 / 16, 1 / 6) * width)
            y, x = int(rng.integers(0, height - h)), int(rng.integers(0, width - w))
            frames[:, y : y + h, x : x + w] = fill
    return (
        np.ascontiguousarray(np.clip(frames, 0.0, 1.0), dtype=np.float32),
        np.ascontiguousarray(tumor),
        np.ascontiguousarray(liver),
    )
