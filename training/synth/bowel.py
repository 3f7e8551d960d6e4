"""Gastrointestinal blush: the distractor both papers name. From the hepatic artery, contrast
reaches the duodenum and gastric antrum through the gastroduodenal and right gastric
arteries; their mucosa stains late, looks like a tumor (a round bulb or a curved loop of
similar contrast), lies below or medial to the liver, sometimes over its inferior edge, and
moves with peristalsis. Bowel gas moves with it and leaves misregistration of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.curves import blob_polygon, gaussian_smooth
from training.synth.liver import Liver


@dataclass(frozen=True)
class BowelSegment:
    kind: str  # "bulb" (round, tumor-like) or "loop" (curved tube)
    center: np.ndarray  # world
    outline: np.ndarray | None  # (N, 2) world polygon of a bulb
    path: np.ndarray | None  # (N, 2) world centreline of a loop
    width: float  # world units, loop calibre
    strength: float  # log attenuation of the full mucosal stain
    gas: tuple[np.ndarray, ...]  # world polygons of gas pockets
    peristalsis_amplitude: float  # world units
    peristalsis_period: float  # s


def sample_bowel(
    rng: np.random.Generator, liver: Liver, present: bool, on_liver_edge: bool
) -> list[BowelSegment]:
    if not present:
        return []
    segments = []
    for i in range(1 if rng.random() < 0.7 else 2):
        if i == 0 and on_liver_edge:
            center = _inferior_edge_point(rng, liver)
        else:
            offset = np.array([rng.uniform(-60, 260), rng.uniform(110, 280)])
            center = liver.hilum + offset
        kind = "bulb" if rng.random() < 0.5 else "loop"
        outline = path = None
        width = 0.0
        if kind == "bulb":
            outline = blob_polygon(rng, center, rng.uniform(18, 50), rng.uniform(1.0, 1.8), 0.08)
        else:
            width = float(rng.uniform(22, 50))
            path = _loop_path(rng, center, rng.uniform(120, 300))
        gas = tuple(
            blob_polygon(
                rng, center + rng.normal(0, 35, 2), rng.uniform(8, 28), rng.uniform(1, 2), 0.1
            )
            for _ in range(int(rng.integers(0, 4)))
        )
        segments.append(
            BowelSegment(
                kind=kind,
                center=center,
                outline=outline,
                path=path,
                width=width,
                strength=float(rng.uniform(0.15, 0.6)),
                gas=gas,
                peristalsis_amplitude=float(rng.uniform(1.0, 3.5)),
                peristalsis_period=float(rng.uniform(2.0, 6.0)),
            )
        )
    return segments


def _inferior_edge_point(rng: np.random.Generator, liver: Liver) -> np.ndarray:
    """A point on the liver's inferior edge near the hilum, where duodenum and liver overlap."""
    outline = liver.outline
    near = np.abs(outline[:, 0] - (liver.hilum[0] + rng.uniform(-180, 80))) < 20
    candidates = outline[near] if near.any() else outline
    lowest = candidates[np.argmax(candidates[:, 1])]
    return lowest + np.array([0.0, rng.uniform(-10, 25)])


def _loop_path(rng: np.random.Generator, center: np.ndarray, length: float) -> np.ndarray:
    """A smooth curved centreline (part of a C-loop) through ``center``."""
    n = 40
    curvature = rng.uniform(0.5, 1.6) * rng.choice([-1.0, 1.0]) / length * 2 * np.pi * 0.5
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(np.full(n, curvature * length / n))
    heading += gaussian_smooth(rng.normal(0, 0.15, n), 3.0, closed=False)
    steps = np.stack([np.cos(heading), np.sin(heading)], 1) * (length / n)
    path = np.cumsum(steps, axis=0)
    return path - path.mean(axis=0) + center
