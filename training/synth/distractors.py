"""Broad-mix distractors (family ``distractor``) and the early portal filling of an
arterioportal shunt (phenotype ``ap_shunt``): what a hepatic or celiac run shows besides
the liver, none of it tumor or liver in the ground truth.

- *Blushes* (iodine that arrives during the run) are single-layer stamps with a stain
  timing: spleen, pancreas and the gastroduodenal territory, the right kidney's cortex, the
  gallbladder wall, the right inferior phrenic artery, portal branches of a shunt.
- *Dense objects* present in the mask too (lipiodol from an earlier TACE, embolisation
  coils, catheters and guidewires) subtract away unless the patient moves; they are added
  to the abdomen's background, so every breath leaves their misregistration.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.curves import blob_polygon
from training.synth.layers import Stamp, _smooth_noise
from training.synth.liver import DIAPHRAGM_X, Liver
from training.synth.timing import StainTiming, sample_stain_timing
from training.synth.view import View

BLUSH_DISTRACTORS = ("splenic", "pancreatic_gda", "renal", "gallbladder", "phrenic")
DENSE_DISTRACTORS = ("lipiodol_coils", "wires")


def blush_stamps(
    rng: np.random.Generator,
    kinds: list[str],
    liver: Liver,
    view: View,
    fill_time: float,
) -> list[tuple[Stamp, StainTiming]]:
    """One stamp per kind in ``kinds`` (BLUSH_DISTRACTORS or ``portal``); ``fill_time``:
    when the common hepatic artery fills (s)."""
    stamps = []
    xs, ys = liver.outline[:, 0], liver.outline[:, 1]
    left, right, top, bottom = xs.min(), xs.max(), ys.min(), ys.max()
    for kind in kinds:
        shapes: list[tuple[np.ndarray, float]] = []  # (polygon or polyline, width; 0 = fill)
        rim = False
        strength = float(rng.uniform(0.25, 0.6))
        late = True
        if kind == "splenic":  # the patient's left upper quadrant: image right, high
            centre = np.array([right + rng.uniform(150, 320), top + rng.uniform(60, 220)])
            shapes.append((blob_polygon(rng, centre, rng.uniform(90, 150), 1.6, 0.06), 0))
        elif kind == "pancreatic_gda":  # a band across the midline below the liver, GDA arcade
            y = bottom + rng.uniform(-40, 60)
            band = np.stack([np.linspace(right - 250, right + 250, 24), y + 25 * np.sin(
                np.linspace(0, np.pi, 24)) * rng.uniform(-1, 1)], 1)
            shapes.append((band, float(rng.uniform(35, 60))))
            strength = float(rng.uniform(0.15, 0.35))
        elif kind == "renal":  # the right kidney below the liver: cortical blush, bean shaped
            centre = np.array([left + rng.uniform(80, 260), bottom + rng.uniform(-30, 120)])
            shapes.append((blob_polygon(rng, centre, rng.uniform(70, 100), 2.2, 0.04), 0))
            rim = True
        elif kind == "gallbladder":  # wall blush (cystic artery), in the gallbladder fossa
            centre = liver.hilum + np.array([rng.uniform(-120, -30), rng.uniform(30, 90)])
            shapes.append((blob_polygon(rng, centre, rng.uniform(35, 60), 2.0, 0.03), 0))
            rim = True
        elif kind == "phrenic":  # right inferior phrenic artery along the dome, early
            px = np.linspace(left + 30, left + rng.uniform(250, 450), 30)
            py = np.interp(px, DIAPHRAGM_X, liver.diaphragm_y) - rng.uniform(5, 25)
            shapes.append((np.stack([px, py + 6 * np.sin(px / 40.0)], 1), 5.0))
            late = False
            strength = float(rng.uniform(0.4, 0.8))
        elif kind == "portal":  # early portal branches from the hilum (arterioportal shunt)
            for _ in range(int(rng.integers(3, 6))):
                angle = rng.uniform(np.pi * 0.9, np.pi * 2.1)
                length = rng.uniform(120, 260)
                t = np.linspace(0, 1, 20)[:, None]
                bend = rng.normal(0, 25) * np.sin(np.pi * t)
                path = liver.hilum + t * length * np.array([np.cos(angle), np.sin(angle)])
                shapes.append((path + bend * np.array([-np.sin(angle), np.cos(angle)]), 12.0))
            late = False
            strength = float(rng.uniform(0.3, 0.5))
        else:
            raise ValueError(f"unknown blush {kind!r}")
        stamp = _draw(rng, shapes, view, rim)
        if stamp is None:
            continue
        layer = stamp.layers[0] * np.float32(strength)
        timing = sample_stain_timing(rng, fill_time + (0.0 if late else -0.3), rich=True, late=late)
        stamps.append((Stamp(y0=stamp.y0, x0=stamp.x0, layers=(layer,)), timing))
    return stamps


def dense_objects(rng: np.random.Generator, kind: str, liver: Liver, view: View) -> np.ndarray:
    """Log attenuation (image, mask pose) of lipiodol deposits and coils, or of catheters
    and guidewires, to add to the abdomen background."""
    image = np.zeros((view.height, view.width), np.float32)
    s = view.scale
    rows, cols = np.nonzero(liver.raster.distance >= 20.0)
    if kind == "lipiodol_coils":
        for _ in range(int(rng.integers(1, 6))) if rows.size else ():
            pick = int(rng.integers(rows.size))
            centre = np.array(liver.raster.origin) + np.array([cols[pick], rows[pick]]) * (
                liver.raster.cell
            )
            blob = view.to_image(blob_polygon(rng, centre, rng.uniform(10, 45), 1.3, 0.15))
            cv2.fillPoly(image, [np.round(blob * 4).astype(np.int32)], float(rng.uniform(0.8, 2.0)),
                         cv2.LINE_AA, shift=2)
        for _ in range(int(rng.integers(1, 4))):  # coils: tight tangles of dense wire
            centre = liver.hilum + rng.normal(0, 60, 2)
            t = np.linspace(0, rng.uniform(4, 9) * np.pi, 80)
            radius = rng.uniform(5, 10) * (1 + 0.3 * np.sin(3.1 * t))
            coil = centre + np.stack([radius * np.cos(t), radius * np.sin(1.3 * t)], 1)
            cv2.polylines(image, [np.round(view.to_image(coil) * 4).astype(np.int32)], False,
                          float(rng.uniform(1.5, 3.0)), max(1, int(2.5 * s)), cv2.LINE_AA, shift=2)
    elif kind == "wires":  # a guide catheter up the aorta and a guidewire into the liver
        bottom = float(view.to_world(np.array([0.0, view.height]))[1])  # the field's lower edge
        start = np.array([liver.hilum[0] + rng.uniform(150, 300), bottom + 50])
        end = liver.hilum + rng.normal(0, 50, 2) - np.array([rng.uniform(50, 250), 0])
        t = np.linspace(0, 1, 40)[:, None]
        path = start + t * (end - start) + rng.normal(0, 20) * np.sin(np.pi * t) * [1, 0]
        for width, value in ((max(1, int(4 * s)), 0.5), (max(1, int(1.5 * s)), 0.9)):
            cv2.polylines(image, [np.round(view.to_image(path) * 4).astype(np.int32)], False,
                          value, width, cv2.LINE_AA, shift=2)
    else:
        raise ValueError(f"unknown dense distractor {kind!r}")
    return cv2.GaussianBlur(image, (0, 0), max(0.6, 1.0 * s))


def _draw(rng: np.random.Generator, shapes: list[tuple[np.ndarray, float]], view: View,
          rim: bool) -> Stamp | None:
    s = view.scale
    points = np.concatenate([view.to_image(shape) for shape, _ in shapes])
    margin = int(np.ceil(max(width for _, width in shapes) * s + 6 * max(1.0, 2 * s)))
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, view.width), min(y1, view.height)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None  # entirely outside the field
    layer = np.zeros((y1 - y0, x1 - x0), np.float32)
    for shape, width in shapes:
        pts = [np.round((view.to_image(shape) - [x0, y0]) * 4).astype(np.int32)]
        if width > 0:
            cv2.polylines(layer, pts, False, 1.0, max(1, int(width * s)), cv2.LINE_8, shift=2)
        else:
            cv2.fillPoly(layer, pts, 1.0, cv2.LINE_8, shift=2)
    if rim:  # cortex or wall: strongest at the edge
        inside = cv2.erode(layer, np.ones((3, 3), np.uint8), iterations=max(2, int(6 * s)))
        layer = layer - 0.6 * inside
    layer *= _smooth_noise(rng, layer.shape, sigma=max(1.0, 3.0 * s), amount=0.3)
    layer = cv2.GaussianBlur(layer, (0, 0), max(0.8, 2.0 * s))
    return Stamp(y0=int(y0), x0=int(x0), layers=(layer / np.float32(float(layer.max()) or 1.0),))
