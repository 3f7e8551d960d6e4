"""Growing one artery: the vessel and flow types, and the tapering random walk every
artery of the generator (hepatic tree, feeders, SMA tree, catheter) is drawn with.

A vessel is a polyline in world units with a radius and the time the contrast front reaches
each point: path length over a flow speed that falls in small vessels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from training.synth.liver import Liver

MIN_RADIUS = 0.55  # world units (0.45 mm diameter): smaller arteries are not drawn


@dataclass(frozen=True)
class Vessel:
    points: np.ndarray  # (N, 2) world
    radius: np.ndarray  # (N,) world units
    arrival: np.ndarray  # (N,) s after contrast leaves the catheter tip
    kind: str  # "catheter", "hepatic", "gda", "feeder", "tumor"; "sma", "enteric" (SMA tree)


@dataclass(frozen=True)
class FlowModel:
    speed: float  # world units per second in a 5-unit-radius artery
    tortuosity: float  # multiplies the angular random walk

    def speed_at(self, radius: np.ndarray) -> np.ndarray:
        return np.maximum(self.speed * np.sqrt(np.asarray(radius) / 5.0), 0.25 * self.speed)


def sample_flow(rng: np.random.Generator) -> FlowModel:
    return FlowModel(
        speed=float(rng.uniform(700.0, 1100.0)), tortuosity=float(rng.uniform(0.7, 1.7))
    )


def side_branches(
    rng: np.random.Generator, parent: Vessel, flow: FlowModel, count: int, liver: Liver | None
) -> list[Vessel]:
    branches = []
    n = len(parent.points)
    for _ in range(count):
        if n < 4:
            break
        at = int(rng.integers(1, n - 2))
        radius = float(parent.radius[at]) * rng.uniform(0.35, 0.55)
        if radius < MIN_RADIUS:
            continue
        heading = unit(parent.points[at + 1] - parent.points[at - 1])
        angle = rng.choice([-1.0, 1.0]) * rng.uniform(45, 80)
        branches.append(
            walk(
                rng,
                start=parent.points[at],
                direction=rotate(heading, np.radians(angle)),
                radius=radius,
                length=radius * rng.uniform(10, 20) + rng.uniform(10, 30),
                flow=flow,
                start_time=float(parent.arrival[at]),
                target=None,
                liver=liver,
                wiggle=(0.06 + 0.1 / radius) * flow.tortuosity,
                kind=parent.kind,
            )
        )
    return [b for b in branches if len(b.points) >= 3]


def walk(
    rng: np.random.Generator,
    start: np.ndarray,
    direction: np.ndarray,
    radius: float,
    length: float,
    flow: FlowModel,
    start_time: float,
    target: np.ndarray | None,
    liver: Liver | None,
    wiggle: float,
    kind: str,
    repel: np.ndarray | None = None,
    stop_within: float = 0.0,
) -> Vessel:
    """One tapering vessel grown step by step: an angular random walk steered towards
    ``target``, away from ``repel`` and back from the liver edge (when ``liver`` is given;
    the walk ends where it would leave the liver). Plain floats: this loop runs thousands of
    times a case."""
    step = min(max(1.2 * radius, 2.5), 6.0)
    n_steps = max(2, int(length / step))
    noise = rng.normal(0.0, wiggle, n_steps).tolist()
    heading = math.atan2(float(direction[1]), float(direction[0]))
    turn = 0.0
    x, y = float(start[0]), float(start[1])
    xs, ys = [x], [y]
    for i in range(n_steps):
        turn = 0.6 * turn + noise[i]
        heading += turn
        wx, wy = math.cos(heading), math.sin(heading)
        if target is not None:
            dx, dy = float(target[0]) - x, float(target[1]) - y
            distance = math.hypot(dx, dy)
            if distance <= max(stop_within, step):
                break
            wx, wy = wx + 0.35 * dx / distance, wy + 0.35 * dy / distance
        if repel is not None:
            dx, dy = x - float(repel[0]), y - float(repel[1])
            distance = math.hypot(dx, dy) or 1.0
            wx, wy = wx + 0.08 * dx / distance, wy + 0.08 * dy / distance
        if liver is not None:
            depth = liver.raster.depth_xy(x, y)
            if depth <= 0.0 and i > 0:
                break
            if depth < 14.0:
                ix, iy = liver.raster.inward_xy(x, y)
                pull = (14.0 - depth) / 14.0 * 0.9
                wx, wy = wx + pull * ix, wy + pull * iy
        heading = math.atan2(wy, wx)
        x, y = x + step * math.cos(heading), y + step * math.sin(heading)
        xs.append(x)
        ys.append(y)
    if liver is not None and len(xs) > 1 and liver.raster.depth_xy(xs[-1], ys[-1]) <= 0.0:
        xs.pop()
        ys.pop()
    points = np.stack([np.array(xs), np.array(ys)], axis=1)
    n = len(points)
    radii = radius * np.linspace(1.0, rng.uniform(0.75, 0.9), n)
    segment = np.hypot(*np.diff(points, axis=0).T)
    arrival = start_time + np.concatenate([[0.0], np.cumsum(segment / flow.speed_at(radii[:-1]))])
    return Vessel(points=points, radius=radii, arrival=arrival, kind=kind)


def densify(control: np.ndarray, spacing: float) -> np.ndarray:
    pieces = []
    for a, b in zip(control[:-1], control[1:], strict=True):
        n = max(1, int(np.hypot(*(b - a)) / spacing))
        pieces.append(a + (b - a) * np.linspace(0, 1, n, endpoint=False)[:, None])
    pieces.append(control[-1:])
    return np.concatenate(pieces)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.hypot(*vector))
    return vector / norm if norm > 0 else np.array([1.0, 0.0])


def rotate(vector: np.ndarray, angle: float) -> np.ndarray:
    cos, sin = np.cos(angle), np.sin(angle)
    return np.array([cos * vector[0] - sin * vector[1], sin * vector[0] + cos * vector[1]])


def walk_to_hilum(
    rng: np.random.Generator,
    start: np.ndarray,
    liver: Liver,
    radius: float,
    stretch: float,
    flow: FlowModel,
    start_time: float,
    wiggle: float,
) -> Vessel:
    """A hepatic artery from ``start`` to the liver hilum, ``stretch`` times the straight
    distance long: the common hepatic trunk and a replaced right hepatic artery both run so."""
    return walk(
        rng,
        start=start,
        direction=unit(liver.hilum - start),
        radius=radius,
        length=float(np.hypot(*(liver.hilum - start))) * stretch,
        flow=flow,
        start_time=start_time,
        target=liver.hilum,
        liver=None,
        wiggle=wiggle,
        kind="hepatic",
    )
