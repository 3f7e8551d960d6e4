"""A replaced right hepatic artery from the superior mesenteric artery (SMA), the commonest
hepatic arterial variant (about 10-15 % of patients): the right liver is supplied from the
SMA, so to treat it the catheter is placed in the SMA, not in the celiac trunk.

In a frontal view the SMA leaves the aorta 1-2 cm below the celiac trunk and runs down over
the spine, slightly to the patient's right. The replaced artery leaves its first centimetres
and climbs to the hilum from below and medially (behind the pancreatic head and the portal
vein), then branches over the right liver only. The injection also fills the SMA's own
branches: the inferior pancreaticoduodenal artery to the duodenum, jejunal arteries to the
patient's left and the ileocolic and right colic arteries to the right, whose bowel mucosa
blushes.
"""

from __future__ import annotations

import numpy as np

from training.synth.arteries import grow_intrahepatic, territory_points
from training.synth.bowel import BowelSegment
from training.synth.curves import gaussian_smooth
from training.synth.liver import Liver
from training.synth.territory import CantlieLine
from training.synth.vessel_walk import (
    FlowModel,
    Vessel,
    densify,
    rotate,
    side_branches,
    unit,
    walk,
    walk_to_hilum,
)

# World units (0.4 mm): the SMA origin lies 0.8-1.8 cm below the celiac trunk's.
_ORIGIN_BELOW_CELIAC = (20.0, 45.0)


def sma_catheter(rng: np.random.Generator, celiac_catheter: Vessel) -> Vessel:
    """The catheter up the same aorta (its first point kept: the spine is placed from it),
    hooked down into the proximal SMA, tip 2-4 cm in."""
    points = celiac_catheter.points
    start = points[0]
    aorta_x = float(start[0])
    # The celiac catheter's highest point is its turn into the celiac trunk.
    celiac_y = float(points[:, 1].min()) + 15.0
    origin_y = celiac_y + rng.uniform(*_ORIGIN_BELOW_CELIAC)
    tip = np.array([aorta_x - rng.uniform(25.0, 50.0), origin_y + rng.uniform(50.0, 100.0)])
    control = np.array(
        [
            start,
            [aorta_x, origin_y + 160.0],
            [aorta_x, origin_y + 25.0],
            [aorta_x - 8.0, origin_y - 6.0],
            [aorta_x - 20.0, origin_y + 20.0],
            tip,
        ]
    )
    path = gaussian_smooth(densify(control, 6.0), 3.0, closed=False)
    path[0], path[-1] = start, tip
    radius = np.full(len(path), float(celiac_catheter.radius[0]))
    return Vessel(points=path, radius=radius, arrival=np.zeros(len(path)), kind="catheter")


def grow_sma_tree(
    rng: np.random.Generator,
    liver: Liver,
    catheter: Vessel,
    flow: FlowModel,
    bowel: list[BowelSegment],
    line: CantlieLine,
) -> list[Vessel]:
    """The SMA from the catheter tip with its bowel branches, and the replaced right
    hepatic artery to the hilum with branches over the right liver (right of ``line``)
    only. The replaced artery is listed first; the branch to the first bowel segment is the
    first vessel of kind ``enteric``: its filling times the bowel blush."""
    tip = catheter.points[-1]
    trunk_radius = float(rng.uniform(3.5, 5.0))
    direction = unit(np.array([rng.normal(-0.12, 0.08), 1.0]))
    length = float(rng.uniform(350.0, 550.0))
    trunk = walk(
        rng,
        start=tip,
        direction=direction,
        radius=trunk_radius,
        length=length * 1.2,
        flow=flow,
        start_time=0.0,
        target=tip + direction * length,  # steered: the SMA runs down the mesentery
        liver=None,
        wiggle=0.04,
        kind="sma",
    )
    replaced, *branches = _replaced_right_hepatic(rng, liver, trunk, flow, line)
    # The artery to the hilum first, as in the hepatic tree: its filling times the blushes
    # that follow the hepatic arteries (training/synth/distractors.py).
    return [replaced, trunk, *branches, *_enteric_branches(rng, trunk, flow, bowel)]


def _replaced_right_hepatic(
    rng: np.random.Generator, liver: Liver, trunk: Vessel, flow: FlowModel, line: CantlieLine
) -> list[Vessel]:
    at = int(len(trunk.points) * rng.uniform(0.02, 0.1))  # the SMA's first 1-2 cm
    start = trunk.points[at]
    radius = float(rng.uniform(3.0, 4.5))
    artery = walk_to_hilum(rng, start, liver, radius, 1.6, flow,
                           start_time=float(trunk.arrival[at]), wiggle=0.06 * flow.tortuosity)
    supplied = territory_points(rng, liver, int(rng.integers(90, 150)))
    right = supplied[line.right_of(supplied)]
    if len(right) < 2:  # a liver (nearly) all left of the line in view: keep some tree
        right = supplied[np.argsort(supplied[:, 0])[: max(2, len(supplied) // 2)]]
    heading = unit(right.mean(axis=0) - liver.hilum)
    root_radius = radius * float(rng.uniform(0.8, 0.95))
    return [artery] + grow_intrahepatic(
        rng, liver, right, heading, root_radius, float(artery.arrival[-1]), flow
    )


def _enteric_branches(
    rng: np.random.Generator, trunk: Vessel, flow: FlowModel, bowel: list[BowelSegment]
) -> list[Vessel]:
    """A branch to each blushing bowel segment (the inferior pancreaticoduodenal or a
    jejunal artery), then 3-6 jejunal arteries to the image right (the patient's left) and
    1-2 ileocolic or right colic arteries to the image left, each with side branches."""
    n = len(trunk.points)
    vessels: list[Vessel] = []
    for segment in bowel:
        at = int(np.argmin(np.hypot(*(trunk.points[: n // 2] - segment.center).T)))
        vessels.append(
            _branch(rng, trunk, at, unit(segment.center - trunk.points[at]), flow,
                    float(np.hypot(*(segment.center - trunk.points[at]))) * 1.6 + 30.0,
                    target=segment.center)
        )
    sides = [-1.0] * int(rng.integers(3, 7)) + [1.0] * int(rng.integers(1, 3))
    for side in sides:  # -1: rotated towards the image right (y grows downwards)
        at = int(n * rng.uniform(0.1, 0.7))
        heading = unit(trunk.points[min(at + 1, n - 1)] - trunk.points[max(at - 1, 0)])
        direction = rotate(heading, side * np.radians(rng.uniform(45.0, 80.0)))
        vessels.append(_branch(rng, trunk, at, direction, flow, float(rng.uniform(120, 260))))
    branches = list(vessels)
    for branch in branches:
        vessels += side_branches(rng, branch, flow, count=int(rng.integers(1, 4)), liver=None)
    return vessels


def _branch(
    rng: np.random.Generator,
    trunk: Vessel,
    at: int,
    direction: np.ndarray,
    flow: FlowModel,
    length: float,
    target: np.ndarray | None = None,
) -> Vessel:
    return walk(
        rng,
        start=trunk.points[at],
        direction=direction,
        radius=float(trunk.radius[at]) * float(rng.uniform(0.35, 0.5)),
        length=length,
        flow=flow,
        start_time=float(trunk.arrival[at]),
        target=target,
        liver=None,
        wiggle=0.09 * flow.tortuosity,
        kind="enteric",
    )
