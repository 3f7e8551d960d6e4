"""The catheter and the hepatic arterial tree it opacifies, in world coordinates.

Femoral access: the catheter climbs the aorta beside the spine, turns into the celiac trunk
and ends in the common hepatic artery below the hilum. From its tip the tree grows: the
common/proper hepatic trunk to the hilum (the gastroduodenal artery leaving it downwards,
towards the bowel), then right and left hepatic arteries that branch recursively inside the
liver. Branching follows Murray's law (r^3 = r1^3 + r2^3, asymmetric), branches are
tortuous (more so in some livers, as in cirrhosis), spread away from the hilum and turn back
from the liver edge. Each point carries the time the contrast front reaches it: path length
from the tip divided by a flow speed that falls in small vessels, so the tree fills from the
tip outwards and the periphery lags.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from training.synth.curves import gaussian_smooth
from training.synth.liver import Liver
from training.synth.vessel_walk import (
    MIN_RADIUS,
    FlowModel,
    Vessel,
    densify,
    rotate,
    side_branches,
    unit,
    walk,
    walk_to_hilum,
)


def catheter_path(rng: np.random.Generator, liver: Liver) -> Vessel:
    """From below the frame up the aorta, through the celiac trunk, to a tip in the common
    hepatic artery medial to and below the hilum."""
    tip = liver.hilum + np.array([rng.uniform(90, 170), rng.uniform(40, 100)])
    aorta_x = tip[0] + rng.uniform(130, 230)
    celiac_y = tip[1] + rng.uniform(30, 80)
    control = np.array(
        [
            [aorta_x + rng.normal(0, 10), 1300.0],
            [aorta_x, celiac_y + 160],
            [aorta_x - 10, celiac_y + 40],
            [aorta_x - 60, celiac_y - 5],
            [0.5 * (aorta_x + tip[0]), celiac_y - 15],
            tip,
        ]
    )
    points = densify(control, 6.0)
    points = gaussian_smooth(points, 4.0, closed=False)
    points[-1] = tip
    radius = np.full(len(points), rng.uniform(1.8, 2.4))  # 4-5 F
    return Vessel(points=points, radius=radius, arrival=np.zeros(len(points)), kind="catheter")


def grow_hepatic_tree(
    rng: np.random.Generator,
    liver: Liver,
    catheter: Vessel,
    flow: FlowModel,
    gda_target: np.ndarray | None,
) -> list[Vessel]:
    """The arterial tree from the catheter tip: trunk, gastroduodenal artery (towards
    ``gda_target`` when a bowel blush is to be fed), and the intrahepatic branches."""
    tip = catheter.points[-1]
    trunk_radius = rng.uniform(4.0, 6.0)
    trunk = walk_to_hilum(rng, tip, liver, trunk_radius, 1.15, flow, start_time=0.0,
                          wiggle=0.05)
    vessels = [trunk]

    split = int(len(trunk.points) * rng.uniform(0.15, 0.35))
    gda_direction = unit(np.array([rng.normal(0.15, 0.2), 1.0]))
    gda = walk(
        rng,
        start=trunk.points[split],
        direction=gda_direction,
        radius=trunk_radius * rng.uniform(0.45, 0.6),
        length=rng.uniform(200, 320),
        flow=flow,
        start_time=float(trunk.arrival[split]),
        target=gda_target,
        liver=None,
        wiggle=0.09 * flow.tortuosity,
        kind="gda",
    )
    vessels.append(gda)
    vessels += side_branches(rng, gda, flow, count=int(rng.integers(1, 4)), liver=None)

    territory = territory_points(rng, liver, int(rng.integers(90, 150)))
    root_radius = trunk_radius * rng.uniform(0.8, 0.95)
    heading = unit(liver.centroid - liver.hilum)
    vessels += grow_intrahepatic(
        rng, liver, territory, heading, root_radius, float(trunk.arrival[-1]), flow
    )
    return vessels


def grow_intrahepatic(
    rng: np.random.Generator,
    liver: Liver,
    territory: np.ndarray,
    heading: np.ndarray,
    root_radius: float,
    start_time: float,
    flow: FlowModel,
) -> list[Vessel]:
    """The branches from the hilum over ``territory`` (world points it supplies), the
    contrast arriving at the hilum at ``start_time``.

    Each artery supplies a territory of points; at a branching the territory is split in
    two across its long axis and each child heads for the centre of its half. Radii follow
    Murray's law with flow proportional to territory size, r ~ n^(1/3)."""
    vessels: list[Vessel] = []
    queue: deque[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = deque()
    queue.append((liver.hilum, heading, territory, start_time))
    n_total = len(territory)
    wiggle = 0.05 * flow.tortuosity
    while queue:
        start, heading, points, time = queue.popleft()
        for half in _split(rng, points, heading):
            radius = max(MIN_RADIUS, root_radius * (len(half) / n_total) ** (1.0 / 3.0))
            centre = half.mean(axis=0)
            leaf = len(half) == 1
            reach = 1.0 if leaf else rng.uniform(0.35, 0.6)
            goal = start + (centre - start) * reach
            vessel = walk(
                rng,
                start=start,
                direction=unit(goal - start),
                radius=radius,
                length=float(np.hypot(*(goal - start))) * 1.3 + 4.0,
                flow=flow,
                start_time=time,
                target=goal,
                liver=None,
                wiggle=wiggle / max(radius, 1.0) ** 0.5,
                kind="hepatic",
            )
            if len(vessel.points) < 2:
                vessel = _straight(start, goal, radius, time, flow)
            vessels.append(vessel)
            end_heading = unit(vessel.points[-1] - vessel.points[max(0, len(vessel.points) - 3)])
            if leaf:
                vessels.append(
                    walk(
                        rng,
                        start=vessel.points[-1],
                        direction=end_heading,
                        radius=radius,
                        length=rng.uniform(15, 45),
                        flow=flow,
                        start_time=float(vessel.arrival[-1]),
                        target=None,
                        liver=liver,
                        wiggle=wiggle,
                        kind="hepatic",
                    )
                )
            else:
                queue.append((vessel.points[-1], end_heading, half, float(vessel.arrival[-1])))
            n_side = rng.poisson(len(vessel.points) / 40.0) if radius > 1.2 else 0
            vessels += side_branches(rng, vessel, flow, count=n_side, liver=liver)
    return vessels


def territory_points(rng: np.random.Generator, liver: Liver, count: int) -> np.ndarray:
    """``count`` points spread over the liver, at least 10 world units deep: what a tree
    supplies."""
    raster = liver.raster
    rows, cols = np.nonzero(raster.distance > 10.0)
    chosen = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    jitter = rng.uniform(0, 1, (len(chosen), 2))
    x = raster.origin[0] + (cols[chosen] + jitter[:, 0]) * raster.cell
    y = raster.origin[1] + (rows[chosen] + jitter[:, 1]) * raster.cell
    return np.stack([x, y], axis=1)


def _split(rng: np.random.Generator, points: np.ndarray, heading: np.ndarray) -> list[np.ndarray]:
    """Two halves of a territory, cut across its long axis (or across the heading when the
    territory is compact) at a random quantile, so branchings are asymmetric."""
    if len(points) <= 1:
        return [points]
    centred = points - points.mean(axis=0)
    if len(points) >= 3:
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        axis = axes[0]
    else:
        axis = np.array([-heading[1], heading[0]])
    projection = centred @ axis
    order = np.argsort(projection)
    cut = int(np.clip(round(len(points) * rng.uniform(0.3, 0.7)), 1, len(points) - 1))
    return [points[order[:cut]], points[order[cut:]]]


def _straight(
    start: np.ndarray, end: np.ndarray, radius: float, time: float, flow: FlowModel
) -> Vessel:
    points = np.array([start, end], dtype=np.float64)
    duration = float(np.hypot(*(end - start))) / float(flow.speed_at(radius))
    return Vessel(
        points=points,
        radius=np.full(2, radius),
        arrival=np.array([time, time + duration]),
        kind="hepatic",
    )


def grow_feeder(
    rng: np.random.Generator,
    tree: list[Vessel],
    flow: FlowModel,
    center: np.ndarray,
    tumor_radius: float,
    rich: bool,
    liver: Liver,
) -> list[Vessel]:
    """A branch from the nearest sizeable intrahepatic artery to the tumor, hypertrophied for a
    hypervascular tumor, ending in a tuft of tortuous tumor vessels inside it."""
    candidates = [v for v in tree if v.kind == "hepatic"]
    points = np.concatenate([v.points for v in candidates])
    radii = np.concatenate([v.radius for v in candidates])
    times = np.concatenate([v.arrival for v in candidates])
    distance = np.hypot(*(points - center).T)
    usable = (radii >= 0.9) & (distance > 1.1 * tumor_radius)
    if not usable.any():
        usable = distance > 1.1 * tumor_radius
    if not usable.any():
        usable = np.ones(len(points), bool)
    index = int(np.flatnonzero(usable)[np.argmin(distance[usable])])
    parent_radius = float(radii[index])
    size_factor = 0.6 + 1.4 * tumor_radius / 50.0
    radius = float(np.clip(min(0.75 * parent_radius, size_factor), 0.6, 3.0))
    if not rich:
        radius = max(MIN_RADIUS, 0.55 * radius)
    start = points[index]
    feeder = walk(
        rng,
        start=start,
        direction=unit(center - start),
        radius=radius,
        length=float(distance[index]) * 1.6,
        flow=flow,
        start_time=float(times[index]),
        target=center,
        liver=None,
        wiggle=0.12 * flow.tortuosity,
        kind="feeder",
        stop_within=0.35 * tumor_radius,
    )
    vessels = [feeder]
    if rich:
        end, end_time = feeder.points[-1], float(feeder.arrival[-1])
        for _ in range(int(rng.integers(3, 9))):
            vessels.append(
                walk(
                    rng,
                    start=end,
                    direction=rotate(np.array([1.0, 0.0]), rng.uniform(0, 2 * np.pi)),
                    radius=max(MIN_RADIUS, radius * rng.uniform(0.35, 0.6)),
                    length=tumor_radius * rng.uniform(0.4, 0.9),
                    flow=flow,
                    start_time=end_time,
                    target=None,
                    liver=None,
                    wiggle=0.35,
                    kind="tumor",
                )
            )
    return vessels
