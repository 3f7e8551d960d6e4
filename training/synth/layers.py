"""The iodine layers of a case, drawn once at image resolution in the mask's pose.

Each frame is then a weighted sum of these layers (weights from :mod:`.timing`), so a
20-30 frame run costs a few array operations per frame, not a redraw. Values are iodine
log attenuation (the quantity log subtraction recovers): an artery contributes
``IODINE_PER_MM`` times its diameter in mm.

- vessels: sparse (pixel index, full-opacity attenuation, arrival time), evaluated per frame
  against the bolus curve;
- parenchyma: one full-frame layer (the liver's blush);
- stamps: small regions around each tumor (three layers: a blurred core, a diffuse disc and
  the sharp stain, cross-faded over time so the stain spreads, darkens and sharpens) and each
  bowel segment (stain plus its gas, moved by peristalsis).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.bowel import BowelSegment
from training.synth.liver import Liver
from training.synth.tumors import Tumor
from training.synth.vessel_walk import Vessel
from training.synth.view import MM_PER_WORLD_UNIT, View

# Diluted contrast in a hepatic artery: a 4.5 mm artery attenuates ~1.5 (display black).
IODINE_PER_MM = 0.35
_CHUNK = 4  # vessel points per drawn polyline piece


@dataclass(frozen=True)
class SparseLayer:
    index: np.ndarray  # flat pixel indices, unique
    value: np.ndarray  # float32 attenuation at full opacity
    arrival: np.ndarray  # float32 s after contrast leaves the catheter tip


@dataclass(frozen=True)
class Stamp:
    y0: int
    x0: int
    layers: tuple[np.ndarray, ...]  # float32 ROIs of the same shape

    @property
    def slices(self) -> tuple[slice, slice]:
        h, w = self.layers[0].shape
        return slice(self.y0, self.y0 + h), slice(self.x0, self.x0 + w)


def vessel_layer(vessels: list[Vessel], view: View) -> SparseLayer:
    shape = (view.height, view.width)
    value = np.zeros(shape, np.float32)
    arrival = np.zeros(shape, np.float32)
    # Thin vessels first: where a thick one crosses, it wins (its iodine dominates).
    for vessel in sorted(vessels, key=lambda v: float(v.radius.mean())):
        points = np.round(view.to_image(vessel.points) * 4).astype(np.int32)
        starts = np.arange(0, max(len(points) - 1, 1), _CHUNK)
        counts = np.minimum(starts + _CHUNK + 1, len(points)) - starts
        radius = np.add.reduceat(vessel.radius, starts) / np.minimum(counts, len(points) - starts)
        times = np.add.reduceat(vessel.arrival, starts) / np.minimum(counts, len(points) - starts)
        for start, count, r_world, time in zip(starts, counts, radius, times, strict=True):
            r = float(r_world) * view.scale
            # A vessel thinner than a pixel fills only part of it.
            attenuation = (
                IODINE_PER_MM * 2.0 * float(r_world) * MM_PER_WORLD_UNIT * min(1.0, 2.0 * r)
            )
            thickness = max(1, int(round(2.0 * r)))
            piece = [points[start : start + count]]
            cv2.polylines(value, piece, False, attenuation, thickness, cv2.LINE_8, shift=2)
            cv2.polylines(arrival, piece, False, float(time), thickness, cv2.LINE_8, shift=2)
    index = np.flatnonzero(value)
    return SparseLayer(index=index, value=value.ravel()[index], arrival=arrival.ravel()[index])


def parenchyma_layer(rng: np.random.Generator, liver: Liver, view: View) -> np.ndarray:
    """The liver's blush at amplitude 1: thicker (darker) in the middle of the organ,
    mottled, soft at the edge."""
    mask = liver_mask(liver, view, (0.0, 0.0)).astype(np.uint8)
    depth = cv2.distanceTransform(mask, cv2.DIST_L2, 5)
    peak = float(depth.max()) or 1.0
    u = depth / peak
    thickness = np.sqrt(np.clip(u * (2.0 - u), 0.0, 1.0)) * 0.7 + 0.3 * mask
    mottle = _smooth_noise(rng, mask.shape, sigma=max(2.0, 8.0 * view.scale), amount=0.12)
    layer = thickness.astype(np.float32) * mottle
    return cv2.GaussianBlur(layer, (0, 0), max(1.0, 3.0 * view.scale))


def tumor_stamp(rng: np.random.Generator, tumor: Tumor, view: View) -> Stamp:
    """Layers (core, diffuse, sharp), each peaking at the tumor's full stain strength."""
    spec = tumor.spec
    radius_px = spec.diameter / 2.0 * view.scale
    edge_blur = 0.6 if spec.rich else max(0.8, 0.12 * radius_px)
    margin = int(np.ceil(3 * max(0.3 * radius_px, edge_blur) + 3))
    outline = view.to_image(tumor.outline)
    y0, x0, height, width = _roi(outline, margin, view)
    if height <= 0 or width <= 0:
        return Stamp(y0=0, x0=0, layers=(np.zeros((1, 1), np.float32),) * 3)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(
        mask, [np.round((outline - [x0, y0]) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2
    )
    coverage = mask.astype(np.float32) / 255.0
    depth = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    u = depth / (float(depth.max()) or 1.0)
    # A sphere's projected thickness: sqrt(1 - (1-u)^2) from the edge (u=0) to the centre.
    profile = np.sqrt(np.clip(u * (2.0 - u), 0.0, 1.0))
    profile = np.maximum(profile, 0.35 * coverage)  # the edge still shows at the mask line
    texture = _smooth_noise(
        rng, mask.shape, sigma=max(1.0, 0.18 * radius_px), amount=0.22 if spec.rich else 0.35
    )
    stain = coverage * profile * texture
    if spec.necrosis > 0:
        necrotic = (u > 1.0 - spec.necrosis).astype(np.float32)
        necrotic = cv2.GaussianBlur(necrotic, (0, 0), max(0.8, 0.1 * radius_px))
        stain *= 1.0 - 0.8 * necrotic
    sharp = cv2.GaussianBlur(stain, (0, 0), edge_blur)
    diffuse = cv2.GaussianBlur(stain, (0, 0), max(1.0, 0.25 * radius_px))
    core = cv2.GaussianBlur(stain * (u > 0.55), (0, 0), max(1.0, 0.2 * radius_px))
    layers = tuple(
        (layer * np.float32(spec.strength / (float(layer.max()) or 1.0) * gain)).astype(np.float32)
        for layer, gain in ((core, 0.8), (diffuse, 0.85), (sharp, 1.0))
    )
    return Stamp(y0=y0, x0=x0, layers=layers)


def bowel_stamp(rng: np.random.Generator, segment: BowelSegment, view: View) -> Stamp:
    """Layers (stain at full strength, gas as negative attenuation), with room around them
    for the peristaltic shift."""
    s = view.scale
    shapes = []
    if segment.outline is not None:
        shapes.append(view.to_image(segment.outline))
    if segment.path is not None:
        path = view.to_image(segment.path)
        shapes.append(path)
    for gas in segment.gas:
        shapes.append(view.to_image(gas))
    margin = int(np.ceil((segment.width / 2 + 3 * segment.peristalsis_amplitude + 12) * s)) + 4
    y0, x0, height, width = _roi(np.concatenate(shapes), margin, view)
    if height <= 0 or width <= 0:
        return Stamp(y0=0, x0=0, layers=(np.zeros((1, 1), np.float32),) * 2)
    stain = np.zeros((height, width), np.float32)
    if segment.outline is not None:
        points = np.round((view.to_image(segment.outline) - [x0, y0]) * 4).astype(np.int32)
        cv2.fillPoly(stain, [points], 1.0, cv2.LINE_8, shift=2)
    if segment.path is not None:
        points = np.round((view.to_image(segment.path) - [x0, y0]) * 4).astype(np.int32)
        cv2.polylines(
            stain, [points], False, 1.0, max(2, int(segment.width * s)), cv2.LINE_8, shift=2
        )
    # Mucosal folds: a fine mottled pattern, then the blurry edge of a mucosal blush.
    stain *= _smooth_noise(rng, stain.shape, sigma=max(1.0, 3.0 * s), amount=0.35)
    stain = cv2.GaussianBlur(stain, (0, 0), max(1.0, 2.5 * s))
    stain *= np.float32(segment.strength / (float(stain.max()) or 1.0))
    gas = np.zeros_like(stain)
    for pocket in segment.gas:
        points = np.round((view.to_image(pocket) - [x0, y0]) * 4).astype(np.int32)
        cv2.fillPoly(gas, [points], -float(rng.uniform(0.15, 0.4)), cv2.LINE_8, shift=2)
    gas = cv2.GaussianBlur(gas, (0, 0), max(0.8, 1.5 * s))
    return Stamp(y0=y0, x0=x0, layers=(stain, gas))


def liver_mask(liver: Liver, view: View, offset: tuple[float, float]) -> np.ndarray:
    """The liver outline filled in image pixels, shifted by ``offset`` (image px)."""
    return polygon_mask(
        view.to_image(liver.outline) + np.asarray(offset), (view.height, view.width)
    )


def polygon_mask(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 1, cv2.LINE_8, shift=2)
    return mask.astype(bool)


def _roi(points: np.ndarray, margin: int, view: View) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), view.width), min(int(y1), view.height)
    return y0, x0, y1 - y0, x1 - x0


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma: float, amount: float
) -> np.ndarray:
    """1 + ``amount`` x a smooth unit-RMS random field (mottled texture). A wide field is
    drawn coarse and enlarged: it has no fine detail to lose, and it is many times cheaper."""
    height, width = shape
    factor = max(1, int(sigma / 3.0))
    coarse_shape = (max(2, -(-height // factor)), max(2, -(-width // factor)))
    field = rng.standard_normal(coarse_shape, dtype=np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigma / factor)
    if factor > 1:
        field = cv2.resize(field, (width, height), interpolation=cv2.INTER_LINEAR)
    field = field[:height, :width]  # a 1-px wide region was drawn 2 px wide
    rms = float(np.sqrt(np.mean(field**2))) or 1.0
    return (1.0 + np.float32(amount / rms) * field).astype(np.float32)
