"""Generated runs the models were *not* made for: angiography of other regions (coronary,
cerebral, peripheral, renal; no liver blush) and images that are not angiography at all
(:mod:`training.synth.negatives_other`). They train and test the scope check
(``python -m training fit-scope``), never the segmentation or response models.

The angiographic kinds are drawn like the liver runs (:mod:`training.synth.render`'s idea,
simpler): arteries as random-walk trees that fill after their arrival time by the same bolus
curve, an organ blush where the region has one (kidney nephrogram, cerebral capillary phase),
subtracted (coronary runs are usually not: their native anatomy stays), the same collimator,
burned-in text, detector blur and quantum noise, in 8-bit display grey.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.border import sample_collimator, sample_text
from training.synth.curves import blob_polygon
from training.synth.layers import vessel_layer
from training.synth.timing import Injection, arterial_opacity, sample_heartbeat, sample_injection
from training.synth.vessel_walk import MIN_RADIUS, Vessel
from training.synth.view import WORLD_HEIGHT, WORLD_WIDTH, View

ANGIOGRAPHIC_KINDS = ("coronary", "cerebral", "peripheral", "renal")
UNSUBTRACTED = "unsubtracted"  # a liver run never subtracted (training.synth.negatives_native)
SIZES = ((512, 512), (1021, 788), (1024, 1024))


@dataclass(frozen=True)
class NegativeRun:
    kind: str
    frames: np.ndarray  # (T, H, W) uint8, display polarity (higher is brighter)
    fps: float


@dataclass
class _Scene:
    """What one angiographic run is made of, in world units / log attenuation."""

    view: View
    vessels: list[Vessel]
    blush: np.ndarray | None = None  # (H, W) organ blush at amplitude 1
    blush_curve: Callable[[float], float] | None = None  # its level over time
    native: np.ndarray | None = None  # (H, W) anatomy left in an unsubtracted run
    residual: np.ndarray | None = None  # (H, W) anatomy that shows where the patient moved
    shift: np.ndarray | None = None  # (T, 2) image px motion of the iodine
    pulse: np.ndarray | None = None  # (T,) scale of the iodine about the image centre


def grow_tree(
    rng: np.random.Generator,
    start: np.ndarray,
    angle: float,
    radius: float,
    length: float,
    arrival: float,
    speed: float,
    wiggle: float,
    depth: int,
    curvature: float = 0.0,
    branches: tuple[int, int] = (1, 3),
) -> list[Vessel]:
    """A random-walk artery from ``start`` (world) heading ``angle`` (rad, image y down),
    tapering, with 1-3 daughter branches each, ``depth`` generations deep."""
    count = max(int(length / 3.0), 2)
    angles = angle + np.cumsum(rng.normal(curvature, wiggle, count))
    steps = 3.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = np.asarray(start, dtype=np.float64) + np.cumsum(steps, axis=0)
    radii = np.linspace(radius, radius * 0.7, count)
    times = arrival + np.arange(count) * 3.0 / (speed * np.sqrt(np.maximum(radii, 1.0) / 5.0))
    vessels = [Vessel(points=points, radius=radii, arrival=times, kind="artery")]
    if depth <= 0:
        return vessels
    for _ in range(int(rng.integers(branches[0], branches[1] + 1))):
        at = int(rng.integers(count // 4, count))
        child_radius = float(radii[at] * rng.uniform(0.5, 0.8))
        if child_radius < MIN_RADIUS:
            continue
        side = 1.0 if rng.random() < 0.5 else -1.0
        vessels += grow_tree(
            rng, points[at], float(angles[at] + side * rng.uniform(0.35, 1.1)), child_radius,
            length * float(rng.uniform(0.35, 0.75)), float(times[at]), speed, wiggle,
            depth - 1, curvature, branches,
        )
    return vessels


def generate_negative(
    kind: str, seed: int, index: int, size: tuple[int, int] | None = None
) -> NegativeRun:
    """Run ``index`` of kind ``kind`` drawn with ``seed`` (the same whatever else is drawn);
    ``size`` (width, height) instead of a drawn one, e.g. small runs for tests."""
    from training.synth.negatives_native import unsubtracted_run
    from training.synth.negatives_other import OTHER_KINDS, other_run

    kinds = ANGIOGRAPHIC_KINDS + OTHER_KINDS + (UNSUBTRACTED,)  # new kinds go last: seeds stay
    if kind not in kinds:
        raise ValueError(f"kind must be one of {kinds}, not {kind!r}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, kinds.index(kind), 13]))
    width, height = SIZES[int(rng.choice(len(SIZES), p=(0.3, 0.5, 0.2)))]
    if size is not None:
        width, height = size
    count = int(rng.integers(20, 31))
    if kind in OTHER_KINDS:
        frames, fps = other_run(kind, rng, width, height, count)
        return NegativeRun(kind, frames, fps)
    if kind == UNSUBTRACTED:
        frames, fps = unsubtracted_run(rng, width, height, count)
        return NegativeRun(kind, frames, fps)
    view = View(width, height, width / WORLD_WIDTH, (WORLD_WIDTH / 2, WORLD_HEIGHT / 2), 1.0)
    fps = float(rng.uniform(*_FPS[kind]))
    times = (np.arange(count) - rng.uniform(0.8, 2.5)) / fps
    scene = _SCENES[kind](rng, view, times)
    injection = sample_injection(rng)
    if kind == "peripheral":  # a long injection follows the bolus down the legs
        injection = dataclasses.replace(injection, duration=float(rng.uniform(6.0, 12.0)))
    return NegativeRun(kind, _render(rng, scene, times, injection), fps)


def _coronary(rng: np.random.Generator, view: View, times: np.ndarray) -> _Scene:
    heart = np.array([rng.uniform(420, 620), rng.uniform(300, 460)])
    vessels = []
    if rng.random() < 0.6:  # left coronary: LAD down and to the apex, circumflex round
        root = heart + rng.normal(0, 30, 2)
        vessels += grow_tree(rng, root, rng.uniform(1.6, 2.3), 5.0, 480, 0.0, 900, 0.1, 3)
        vessels += grow_tree(rng, root, rng.uniform(0.0, 0.8), 4.5, 360, 0.0, 900, 0.1, 3, 0.01)
    else:  # right coronary: a C round the right heart border
        root = heart + np.array([-rng.uniform(80, 160), -rng.uniform(60, 140)])
        vessels += grow_tree(rng, root, rng.uniform(2.6, 3.2), 5.0, 620, 0.0, 900, 0.08, 3,
                             -0.025, (2, 4))
    beat = sample_heartbeat(rng)
    phase = 2 * np.pi * times / beat.period + beat.phase
    amplitude = rng.uniform(6, 18) * view.scale
    shift = np.stack([amplitude * np.sin(phase), 0.6 * amplitude * np.cos(phase)], axis=1)
    scene = _Scene(view, vessels, shift=shift, pulse=1.0 + 0.05 * np.sin(phase))
    anatomy = _chest(rng, view, heart)
    if rng.random() < 0.7:  # cine coronary runs are not subtracted
        scene.native = anatomy
    else:
        scene.residual = anatomy
    return scene


def _cerebral(rng: np.random.Generator, view: View, times: np.ndarray) -> _Scene:
    centre = np.array([WORLD_WIDTH / 2, WORLD_HEIGHT / 2]) + rng.normal(0, 30, 2)
    skull = blob_polygon(rng, centre, rng.uniform(330, 420), rng.uniform(1.0, 1.4), 0.02)
    entry = centre + np.array([rng.uniform(-120, 120), rng.uniform(300, 420)])
    vessels = grow_tree(rng, entry, -np.pi / 2 + rng.normal(0, 0.2), 5.0, 260, 0.0, 800, 0.12,
                        0, 0.01)
    top = vessels[0].points[-1]
    side = 1.0 if rng.random() < 0.5 else -1.0
    vessels += grow_tree(rng, top, -np.pi / 2 + side * rng.uniform(0.6, 1.2), 3.5, 420,
                         float(vessels[0].arrival[-1]), 800, 0.1, 4, 0.0, (2, 4))
    vessels += grow_tree(rng, top, -np.pi / 2 - side * rng.uniform(0.0, 0.4), 3.0, 380,
                         float(vessels[0].arrival[-1]), 800, 0.08, 3)
    # Late phase: the veins and the sinus along the skull fill seconds after the arteries.
    venous = float(rng.uniform(2.5, 4.0))
    arc = skull[: len(skull) // 2] if rng.random() < 0.5 else skull[len(skull) // 2 :]
    vessels.append(Vessel(arc * 0.93 + centre * 0.07, np.full(len(arc), 6.0),
                          venous + np.linspace(0, 1.5, len(arc)), "vein"))
    for _ in range(int(rng.integers(3, 7))):
        start = centre + rng.normal(0, 120, 2)
        vessels += grow_tree(rng, start, rng.uniform(-np.pi, 0), 2.0, 200,
                             venous + rng.uniform(0, 1), 600, 0.1, 1)
    brain = _polygon_layer(view, skull * 0.9 + centre * 0.1, blur=25.0)
    onset, peak = float(rng.uniform(1.2, 2.2)), float(rng.uniform(1.0, 2.0))
    amplitude = float(rng.uniform(0.04, 0.12))
    residual = _polygon_layer(view, skull, blur=4.0) - _polygon_layer(
        view, skull * 0.94 + centre * 0.06, blur=4.0
    )
    return _Scene(view, vessels, blush=brain, blush_curve=_gamma(onset, peak, amplitude),
                  residual=0.6 * residual, shift=_drift(rng, times, view))


def _peripheral(rng: np.random.Generator, view: View, times: np.ndarray) -> _Scene:
    (x0, y0), (x1, y1) = view.to_world(np.array([[0.0, 0.0], [view.width, view.height]]))
    legs = 2 if rng.random() < 0.4 else 1
    vessels, bones = [], np.zeros((view.height, view.width), np.float32)
    for leg in range(legs):
        x = float(rng.uniform(0.35, 0.65) if legs == 1 else (0.3 + 0.4 * leg) + rng.normal(0, 0.03))
        start = np.array([x0 + x * (x1 - x0), y0 - 20])
        vessels += grow_tree(rng, start, np.pi / 2 + rng.normal(0, 0.05), rng.uniform(4, 6),
                             (y1 - y0) * 1.2, 0.0, rng.uniform(250, 500), 0.03, 2, 0.0, (3, 6))
        bone_x = view.to_image(start)[0] + rng.uniform(-60, 60) * view.scale
        cv2.line(bones, (int(bone_x), 0), (int(bone_x + rng.normal(0, 20)), view.height), 0.7,
                 max(1, int(rng.uniform(50, 80) * view.scale)))
    bones = cv2.GaussianBlur(bones, (0, 0), 4.0 * view.scale)
    return _Scene(view, vessels, residual=bones, shift=_drift(rng, times, view))


def _renal(rng: np.random.Generator, view: View, times: np.ndarray) -> _Scene:
    aorta_x = float(rng.uniform(400, 620))
    level = float(rng.uniform(300, 480))
    selective = rng.random() < 0.5
    sides = [1.0 if rng.random() < 0.5 else -1.0] if selective else [-1.0, 1.0]
    vessels = []
    if not selective:  # aortogram: the aorta fills first
        vessels += grow_tree(rng, np.array([aorta_x, WORLD_HEIGHT + 20]), -np.pi / 2, 9.0, 900,
                             0.0, 1100, 0.02, 0)
    blush = np.zeros((view.height, view.width), np.float32)
    for side in sides:
        hilum = np.array([aorta_x + side * rng.uniform(150, 210), level + rng.normal(0, 40)])
        centre = hilum + np.array([side * rng.uniform(50, 70), 0])
        length, width = rng.uniform(240, 300), rng.uniform(110, 140)
        kidney = _ellipse(centre, length / 2, width / 2, np.pi / 2 + side * rng.uniform(0, 0.35))
        outer = _polygon_layer(view, kidney, blur=3.0)
        inner = _polygon_layer(view, kidney * 0.55 + centre * 0.45, blur=6.0)
        blush += outer - 0.5 * inner  # the cortex blushes more than the medulla
        origin = np.array([aorta_x, level + rng.normal(0, 30)])
        renal = grow_tree(rng, origin, float(np.arctan2(*(hilum - origin)[::-1])), 3.5,
                          float(np.hypot(*(hilum - origin))), 0.1, 900, 0.03, 0)
        vessels += renal
        for _ in range(int(rng.integers(3, 5))):
            heading = side * rng.uniform(-1.2, 1.2) + (0.0 if side > 0 else np.pi)
            vessels += grow_tree(rng, hilum, heading, 2.2, width * 0.6,
                                 float(renal[0].arrival[-1]), 700, 0.1, 2)
    onset, peak = float(rng.uniform(0.6, 1.4)), float(rng.uniform(1.5, 3.0))
    curve = _gamma(onset, peak, float(rng.uniform(0.08, 0.2)))
    return _Scene(view, vessels, blush=blush, blush_curve=curve, shift=_drift(rng, times, view))


_SCENES = {"coronary": _coronary, "cerebral": _cerebral, "peripheral": _peripheral,
           "renal": _renal}
_FPS = {"coronary": (7.5, 30.0), "cerebral": (2.0, 6.0), "peripheral": (1.0, 4.0),
        "renal": (2.0, 6.0)}


def _render(
    rng: np.random.Generator, scene: _Scene, times: np.ndarray, injection: Injection
) -> np.ndarray:
    view = scene.view
    shape = (view.height, view.width)
    layer = vessel_layer(scene.vessels, view)
    collimator = sample_collimator(rng, view.width, view.height, rng.random() < 0.3)
    text = sample_text(rng, view.width, view.height, rng.random() < 0.6)
    inverted = rng.random() < 0.15
    level, gain = rng.uniform(150, 200), rng.uniform(110, 160)
    # Quantum noise as the liver runs have it (training.synth.render): SD noise_level x scale
    # x exp(attenuation / 2) before the detector blur, so noise tells the kinds nothing apart.
    noise_level, blur = rng.uniform(0.06, 0.16) * view.scale, rng.uniform(0.7, 1.1)
    frames = np.empty((len(times), *shape), np.uint8)
    iodine = np.zeros(shape, np.float32)
    for f, t in enumerate(times):
        iodine.fill(0.0)
        opacity = arterial_opacity(np.float32(t) - layer.arrival, injection)
        iodine.reshape(-1)[layer.index] = layer.value * opacity
        if scene.blush is not None and scene.blush_curve is not None:
            iodine += scene.blush * np.float32(scene.blush_curve(float(t)))
        shift = np.zeros(2) if scene.shift is None else scene.shift[f]
        scale = 1.0 if scene.pulse is None else float(scene.pulse[f])
        attenuation = _moved(iodine, shift, scale)
        if scene.native is not None:
            attenuation = attenuation + scene.native
        if scene.residual is not None:  # what subtraction leaves where the patient moved
            attenuation = attenuation + _moved(scene.residual, shift, 1.0) - scene.residual
        noise = rng.normal(0.0, noise_level, shape).astype(np.float32)
        attenuation = attenuation + noise * cv2.exp(np.float32(0.5) * attenuation)
        attenuation = cv2.GaussianBlur(attenuation, (0, 0), blur)
        grey = (255 - level + gain * attenuation) if inverted else (level - gain * attenuation)
        grey = grey * collimator.vignette * collimator.alpha
        grey = grey + (1 - collimator.alpha) * collimator.border_level
        frames[f] = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
        if text is not None:
            text.draw(frames[f], f, len(times), 255)
    return frames


def _moved(image: np.ndarray, shift: np.ndarray, scale: float) -> np.ndarray:
    if not np.any(np.abs(shift) > 1e-3) and abs(scale - 1.0) < 1e-4:
        return image
    height, width = image.shape
    cx, cy = width / 2, height / 2
    matrix = np.float32([[scale, 0, (1 - scale) * cx + shift[0]],
                         [0, scale, (1 - scale) * cy + shift[1]]])
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def _drift(rng: np.random.Generator, times: np.ndarray, view: View) -> np.ndarray:
    """Slow patient drift (image px), so subtraction leaves some anatomy at edges."""
    velocity = rng.normal(0, 1.5, 2) * view.scale
    return np.outer(times - times[0], velocity)


def _gamma(onset: float, peak: float, amplitude: float) -> Callable[[float], float]:
    def level(t: float) -> float:
        x = max(t - onset, 0.0) / peak
        return amplitude * x**2 * float(np.exp(2 * (1 - x)))

    return level


def _ellipse(centre: np.ndarray, a: float, b: float, angle: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    x, y = a * np.cos(t), b * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([centre[0] + c * x - s * y, centre[1] + s * x + c * y], axis=1)


def _polygon_layer(view: View, polygon: np.ndarray, blur: float) -> np.ndarray:
    layer = np.zeros((view.height, view.width), np.float32)
    points = np.round(view.to_image(polygon) * 4).astype(np.int32)
    cv2.fillPoly(layer, [points], 1.0, cv2.LINE_AA, shift=2)
    return cv2.GaussianBlur(layer, (0, 0), max(0.8, blur * view.scale))


def _chest(rng: np.random.Generator, view: View, heart: np.ndarray) -> np.ndarray:
    """Native chest anatomy: bright lungs, the heart shadow, spine and ribs (attenuation)."""
    anatomy = np.full((view.height, view.width), 0.3, np.float32)
    anatomy -= 0.25 * _polygon_layer(view, blob_polygon(rng, heart + [-300, -120], 260, 0.6, 0.05),
                                     30)
    anatomy += 0.35 * _polygon_layer(view, blob_polygon(rng, heart, 230, 1.3, 0.04), 20)
    spine_x = int(view.to_image(heart)[0] - rng.uniform(80, 160) * view.scale)
    cv2.line(anatomy, (spine_x, 0), (spine_x, view.height), 0.55, int(90 * view.scale))
    for k in range(9):
        y = (k * rng.uniform(80, 95) - 60) * view.scale
        cv2.ellipse(anatomy, (spine_x, int(y)), (int(500 * view.scale), int(140 * view.scale)),
                    0, 0, 180, 0.15, max(1, int(20 * view.scale)))
    return cv2.GaussianBlur(anatomy, (0, 0), 3.0 * view.scale)
