"""Static anatomy that DSA subtracts away: it only shows where it moves between the mask and a
frame. Rendered once per case in image pixels, as log attenuation relative to soft tissue:
the lung above the diaphragm (less attenuating), ribs and spine (more), the heart shadow.
The same layers set the quantum noise: more attenuation, fewer photons, more noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.curves import blob_polygon
from training.synth.liver import DIAPHRAGM_X, Liver
from training.synth.view import View


@dataclass(frozen=True)
class HeartShadow:
    y0: int
    x0: int
    layer: np.ndarray  # float32 ROI, log attenuation
    centre: tuple[float, float]  # image px, relative to the ROI origin


@dataclass(frozen=True)
class Background:
    abdomen: np.ndarray  # float32 (H, W): lung / diaphragm, moves with the abdomen
    bones: np.ndarray  # float32 (H, W): ribs and spine
    heart: HeartShadow | None
    noise_sd: np.ndarray  # float32 (H, W): quantum noise SD (log units) of an empty frame


def render_background(
    rng: np.random.Generator,
    view: View,
    liver: Liver,
    spine_x: float,
    heart: bool,
    noise_level: float,
) -> Background:
    """``spine_x``: world x of the spine's midline; ``noise_level``: quantum noise SD (log
    units, before detector blur) through soft tissue at the normal field of view."""
    height, width = view.height, view.width
    s = view.scale

    # Lung above the diaphragm: the diaphragm's world curve sampled at every image column.
    column_world_x = view.to_world(np.stack([np.arange(width) + 0.5, np.zeros(width)], 1))[:, 0]
    diaphragm_world_y = np.interp(column_world_x, DIAPHRAGM_X, liver.diaphragm_y)
    diaphragm_row = (diaphragm_world_y - view.center[1]) * s + height / 2
    rows = np.arange(height, dtype=np.float32)[:, None]
    lung_contrast = rng.uniform(0.15, 0.35)
    abdomen = np.where(rows < diaphragm_row[None, :].astype(np.float32), -lung_contrast, 0.0)
    abdomen = cv2.GaussianBlur(abdomen.astype(np.float32), (0, 0), max(0.8, 2.5 * s))

    bones = np.zeros((height, width), np.float32)
    rib_value = float(rng.uniform(0.06, 0.14))
    rib_width = rng.uniform(18, 26)
    first_rib = rng.uniform(-140, -60)
    for k in range(14):
        y_at_spine = first_rib + k * rng.uniform(68, 80)
        for side in (-1.0, 1.0):
            lateral = np.linspace(25, 560, 40)
            xs = spine_x + side * lateral
            ys = y_at_spine + 0.2 * lateral + 0.00045 * lateral**2
            _polyline(bones, view, np.stack([xs, ys], 1), rib_width * s, rib_value)
    vertebra_value = float(rng.uniform(0.12, 0.22))
    body_width, body_height, disc = rng.uniform(80, 95), rng.uniform(58, 70), rng.uniform(11, 16)
    y = rng.uniform(-80, -20)
    while y < 1100:
        corners = np.array(
            [
                [spine_x - body_width / 2, y],
                [spine_x + body_width / 2, y],
                [spine_x + body_width / 2, y + body_height],
                [spine_x - body_width / 2, y + body_height],
            ]
        )
        _fill(bones, view, corners, vertebra_value)
        for side in (-1.0, 1.0):
            pedicle = blob_polygon(rng, np.array([spine_x + side * 30, y + 20]), 10, 1.4, 0.02, 24)
            _fill(bones, view, pedicle, vertebra_value * 1.5)
        y += body_height + disc
    bones = cv2.GaussianBlur(bones, (0, 0), max(0.8, 3.0 * s))

    heart_shadow = _heart(rng, view, liver) if heart else None

    # Soft-tissue path: thickest over the spine, thinner laterally.
    thickness = 0.5 * np.exp(-0.5 * ((column_world_x - spine_x) / 320.0) ** 2)
    attenuation = abdomen + bones + thickness[None, :].astype(np.float32)
    # Noise SD per pixel scales as 1/sqrt(photons) ~ exp(attenuation / 2), and with the
    # image scale (a smaller pixel catches fewer photons).
    noise_sd = cv2.exp(0.5 * attenuation) * np.float32(noise_level * s)
    return Background(abdomen=abdomen, bones=bones, heart=heart_shadow, noise_sd=noise_sd)


def _heart(rng: np.random.Generator, view: View, liver: Liver) -> HeartShadow | None:
    x = rng.uniform(820, 980)
    y = float(np.interp(x, DIAPHRAGM_X, liver.diaphragm_y)) - rng.uniform(40, 110)
    outline = view.to_image(blob_polygon(rng, np.array([x, y]), rng.uniform(170, 230), 1.3, 0.03))
    x0, y0 = np.floor(outline.min(axis=0)).astype(int) - 8
    x1, y1 = np.ceil(outline.max(axis=0)).astype(int) + 8
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, view.width), min(y1, view.height)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    layer = np.zeros((y1 - y0, x1 - x0), np.float32)
    points = np.round((outline - [x0, y0]) * 4).astype(np.int32)
    cv2.fillPoly(layer, [points], float(rng.uniform(0.2, 0.4)), cv2.LINE_8, shift=2)
    layer = cv2.GaussianBlur(layer, (0, 0), max(1.0, 6.0 * view.scale))
    centre = view.to_image(np.array([x, y])) - [x0, y0]
    return HeartShadow(
        y0=int(y0), x0=int(x0), layer=layer, centre=(float(centre[0]), float(centre[1]))
    )


def _polyline(
    image: np.ndarray, view: View, points: np.ndarray, thickness: float, value: float
) -> None:
    pixels = np.round(view.to_image(points) * 4).astype(np.int32)
    cv2.polylines(image, [pixels], False, value, max(1, int(round(thickness))), cv2.LINE_8, shift=2)


def _fill(image: np.ndarray, view: View, polygon: np.ndarray, value: float) -> None:
    pixels = np.round(view.to_image(polygon) * 4).astype(np.int32)
    cv2.fillPoly(image, [pixels], value, cv2.LINE_8, shift=2)
