"""HCC nodules: how many, how big, how vascular (patient level), and where in the liver.

Numbers from DSA-LTDNet's dataset: up to 10 tumors per patient, 760 tumors in 488 samples
(1.56 per sample), 548 hypervascular ("rich blood") and 212 hypovascular ("poor blood"),
diameters 6.5-217 px with mean 69.4 px at 1021 x 788. Counts follow a truncated geometric
law with that mean; diameters a log-normal clipped to that range, whose clipped mean is
~69 px. Large tumors often have a necrotic, unstained centre.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.curves import blob_polygon
from training.synth.liver import Liver
from training.synth.view import MM_PER_WORLD_UNIT

DIAMETER_RANGE = (6.5, 217.0)  # world units (= pixels at 1021 x 788, normal field of view)
_MEDIAN_DIAMETER = 56.0
_LOG_SD = 0.75
# P(n) ~ q^(n-1): mean 1/(1-q) = 1.56 tumors per sample as in DSA-LTDNet.
_COUNT_RATIO = 0.36
# A satellite nodule lies within 2 cm of its main tumor's edge (the usual pathological
# definition, e.g. the Liver Cancer Study Group of Japan's): 50 world units of 0.4 mm.
SATELLITE_GAP = 50.0
_MIN_GAP = 2.0  # world units of liver between a satellite and its mass
# Relaxed step by step when the liver is crowded: (depth in reaches, allowed overlap).
_PLACEMENT_STEPS = ((1.05, 0.95), (1.0, 0.6), (0.8, 0.3), (0.5, 0.0))
_TRIES = 150


@dataclass(frozen=True)
class TumorSpec:
    diameter: float  # world units
    rich: bool  # hypervascular
    necrosis: float  # radius fraction of the unstained centre, 0 when none
    strength: float  # log attenuation of the full stain at its centre
    aspect: float  # ellipse axis ratio
    lobulation: float  # relative RMS of the outline's radius modulation
    satellite: bool = False  # a daughter nodule placed near the first (main) tumor


@dataclass(frozen=True)
class Tumor:
    spec: TumorSpec
    center: np.ndarray  # world
    outline: np.ndarray  # (N, 2) world polygon


def sample_tumor_count(rng: np.random.Generator, max_tumors: int) -> int:
    n = np.arange(1, max_tumors + 1)
    weights = _COUNT_RATIO ** (n - 1)
    return int(rng.choice(n, p=weights / weights.sum()))


def sample_tumor_specs(rng: np.random.Generator, max_tumors: int, p_rich: float) -> list[TumorSpec]:
    """The tumors of one patient, largest first."""
    count = sample_tumor_count(rng, max_tumors)
    specs = []
    for _ in range(count):
        diameter = float(
            np.clip(_MEDIAN_DIAMETER * np.exp(rng.normal(0.0, _LOG_SD)), *DIAMETER_RANGE)
        )
        rich = bool(rng.random() < p_rich)
        necrosis = 0.0
        if diameter > 70 and rng.random() < min(0.6, (diameter - 70) / 120 + 0.15):
            necrosis = float(rng.uniform(0.3, 0.65))
        if rich:
            strength = rng.uniform(0.45, 1.0) * (diameter / 69.0) ** 0.25
        else:
            strength = rng.uniform(0.08, 0.2)
        specs.append(
            TumorSpec(
                diameter=diameter,
                rich=rich,
                necrosis=necrosis,
                strength=float(np.clip(strength, 0.06, 1.2)),
                aspect=float(rng.uniform(1.0, 1.45)),
                lobulation=float(rng.uniform(0.02, 0.07) if rich else rng.uniform(0.05, 0.12)),
            )
        )
    specs.sort(key=lambda spec: -spec.diameter)
    return specs


def place_tumors(
    rng: np.random.Generator,
    specs: list[TumorSpec],
    liver: Liver,
    visible: Callable[[np.ndarray, float], bool],
) -> list[Tumor]:
    """Put each tumor wholly inside the liver, its centre in the visible field
    (``visible(point, margin)``), not overlapping the ones placed before (relaxed step by
    step when the liver is crowded: confluent nodules exist). A satellite goes within
    :data:`SATELLITE_GAP` of its main tumor's edge (the first non-satellite placed); with
    its mass out of view, or no room near it, it is not in the view either."""
    placed: list[Tumor] = []
    room = _Room(placed, liver, visible)
    for spec in specs:
        radius = spec.diameter / 2.0
        reach = radius * np.sqrt(spec.aspect) * (1.0 + 3.0 * spec.lobulation)
        if spec.satellite:
            mass = next((tumor for tumor in placed if not tumor.spec.satellite), None)
            center = (
                _centre_near(rng, mass, radius, reach, room)
                if mass is not None
                else None
            )
        else:
            center = _centre_anywhere(rng, radius, reach, room)
        if center is None:
            continue  # no room at all in the visible liver: the tumor is not in this view
        outline = blob_polygon(rng, center, radius, spec.aspect, spec.lobulation)
        placed.append(Tumor(spec=spec, center=center, outline=outline))
    return placed


@dataclass(frozen=True)
class _Room:
    """What a new tumor's centre must respect: the tumors placed so far (the list grows),
    the liver it lies in, and the visible field (``visible(point, margin)``)."""

    placed: list[Tumor]
    liver: Liver
    visible: Callable[[np.ndarray, float], bool]


def _centre_anywhere(
    rng: np.random.Generator, radius: float, reach: float, room: _Room
) -> np.ndarray | None:
    raster = room.liver.raster
    for depth_factor, overlap in _PLACEMENT_STEPS:
        rows, cols = np.nonzero(raster.distance >= depth_factor * reach + 2.0)
        if rows.size == 0:
            continue
        tries = rng.choice(rows.size, size=min(rows.size, _TRIES), replace=False)
        for index in tries:
            point = np.array(
                [
                    raster.origin[0] + (cols[index] + rng.random()) * raster.cell,
                    raster.origin[1] + (rows[index] + rng.random()) * raster.cell,
                ]
            )
            if room.visible(point, 0.5 * radius) and _clear(point, radius, room.placed, overlap):
                return point
    return None


def _centre_near(
    rng: np.random.Generator, mass: Tumor, radius: float, reach: float, room: _Room
) -> np.ndarray | None:
    """A satellite's centre: on a ray from the mass's centre, beyond its edge by the
    satellite's reach plus a gap of liver, its edge at most SATELLITE_GAP from the mass's."""
    outline = mass.outline.astype(np.float32)
    offsets = mass.outline - mass.center
    edge_angles = np.arctan2(offsets[:, 1], offsets[:, 0])
    edge_radii = np.hypot(offsets[:, 0], offsets[:, 1])
    nearest_allowed, farthest_allowed = reach + _MIN_GAP, radius + SATELLITE_GAP
    others = [tumor for tumor in room.placed if tumor is not mass]
    for depth_factor, overlap in _PLACEMENT_STEPS:
        for _ in range(_TRIES):
            angle = rng.uniform(-np.pi, np.pi)
            gap = rng.uniform(nearest_allowed, farthest_allowed)
            turn = np.abs(np.angle(np.exp(1j * (edge_angles - angle))))
            edge = edge_radii[int(np.argmin(turn))]
            point = mass.center + (edge + gap) * np.array([np.cos(angle), np.sin(angle)])
            from_edge = -cv2.pointPolygonTest(outline, (float(point[0]), float(point[1])), True)
            if not nearest_allowed <= from_edge <= farthest_allowed:
                continue
            if room.liver.raster.depth(point) < depth_factor * reach + 2.0:
                continue
            if room.visible(point, 0.5 * radius) and _clear(point, radius, others, overlap):
                return point
    return None


def _clear(point: np.ndarray, radius: float, placed: list[Tumor], overlap: float) -> bool:
    return all(
        np.hypot(*(point - other.center)) >= overlap * (radius + other.spec.diameter / 2.0)
        for other in placed
    )


@dataclass(frozen=True)
class TumorBurden:
    """The image features the response model reads (what a radiologist sees in the run)."""

    count: int
    total_diameter_cm: float
    largest_diameter_cm: float
    rich_fraction: float


def tumor_burden(specs: list[TumorSpec]) -> TumorBurden:
    if not specs:  # a broad-mix case without tumors
        return TumorBurden(count=0, total_diameter_cm=0.0, largest_diameter_cm=0.0,
                           rich_fraction=0.0)
    diameters_cm = np.array([spec.diameter for spec in specs]) * MM_PER_WORLD_UNIT / 10.0
    return TumorBurden(
        count=len(specs),
        total_diameter_cm=float(diameters_cm.sum()),
        largest_diameter_cm=float(diameters_cm.max()),
        rich_fraction=float(np.mean([spec.rich for spec in specs])),
    )
