"""Broad-mix anatomy: where the liver lies in the field (family ``liver``) and which part of
it the injection perfuses (family ``territory``).

Label semantics (the same in truth, Labelme files and docs): the liver label is the
*perfused* liver, the parenchyma that blushes in this run, clipped to the exposed field.
For a celiac, common or proper hepatic injection that is the whole liver; for a selective
or segmental one only its territory. Tumors outside the territory receive no contrast, are
invisible in the run and are not labelled.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.layers import liver_mask
from training.synth.liver import DIAPHRAGM_X, Liver, rasterize_liver
from training.synth.variety import LOBAR_TERRITORIES, WHOLE_LIVER_TERRITORIES, Variety
from training.synth.view import View

# A perfused territory must cover this share of the exposed field (0.05 %: about 30 pixels
# at 256 x 256) to leave a liver label after the labelled frames' small motion.
MIN_FIELD_SHARE = 0.0005
TERRITORY_REDRAWS = 8


@dataclass(frozen=True)
class CantlieLine:
    """The border between the right and the left liver in a frontal view: a line through
    the hilum, tilted from the vertical by ``tilt`` (x per y). A view only scales and
    shifts, so the same tilt holds in world and in image coordinates."""

    hilum: np.ndarray  # world
    tilt: float

    def right_of(self, points: np.ndarray) -> np.ndarray:
        """Which world ``(N, 2)`` points lie in the right liver (image left)."""
        return points[:, 0] < self.hilum[0] + self.tilt * (points[:, 1] - self.hilum[1])

    def right_in_image(self, view: View, shape: tuple[int, int]) -> np.ndarray:
        height, width = shape
        hx, hy = view.to_image(self.hilum)
        xs = np.arange(width, dtype=np.float32)[None, :]
        ys = np.arange(height, dtype=np.float32)[:, None]
        return xs < np.float32(hx) + np.float32(self.tilt) * (ys - np.float32(hy))


def sample_cantlie_line(rng: np.random.Generator, liver: Liver) -> CantlieLine:
    """Through the hilum, tilted up to 12 degrees either way."""
    return CantlieLine(liver.hilum, float(np.tan(np.radians(rng.uniform(-12.0, 12.0)))))


def transform_liver(rng: np.random.Generator, liver: Liver, kind: str) -> Liver:
    """The liver of family value ``kind``: ``small`` (0.6-0.8x), ``displaced`` (80-180 world
    units in any direction), ``oblique`` (turned 12-30 degrees, narrowed to 0.7-0.85 across:
    an anterior oblique projection). Others keep the liver (the view changes instead)."""
    centre = liver.centroid
    matrix = np.eye(2)
    shift = np.zeros(2)
    if kind == "small":
        matrix = np.eye(2) * rng.uniform(0.6, 0.8)
    elif kind == "displaced":
        angle = rng.uniform(0, 2 * np.pi)
        shift = rng.uniform(80.0, 180.0) * np.array([np.cos(angle), np.sin(angle)])
    elif kind == "oblique":
        turn = np.radians(rng.uniform(12.0, 30.0) * rng.choice([-1.0, 1.0]))
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        matrix = rotation @ np.diag([rng.uniform(0.7, 0.85), 1.0])
    else:
        return liver

    def move(points: np.ndarray) -> np.ndarray:
        return (points - centre) @ matrix.T + centre + shift

    outline = move(liver.outline)
    curve = move(np.stack([DIAPHRAGM_X, liver.diaphragm_y], 1))
    order = np.argsort(curve[:, 0])
    diaphragm_y = np.interp(DIAPHRAGM_X, curve[order, 0], curve[order, 1])
    return Liver(
        outline=outline,
        diaphragm_y=diaphragm_y,
        hilum=move(liver.hilum[None])[0],
        raster=rasterize_liver(outline),
    )


def vary_view(rng: np.random.Generator, view: View, liver: Liver, kind: str) -> View:
    """``partly_outside``: the field is moved so the liver's centroid lies 55-95 % of the way
    to an edge (a quarter to half of the liver out of the field); ``magnified``: 1.8-2.5x
    onto a random part of the liver. Others keep the view."""
    if kind == "partly_outside":
        direction = [(-1, 0), (0, -1), (1, 0), (0, 1)][int(rng.integers(4))]
        half = np.array([view.width, view.height]) / (2.0 * view.scale)
        centre = liver.centroid - np.asarray(direction) * half * rng.uniform(0.55, 0.95)
        return View(view.width, view.height, view.scale, (float(centre[0]), float(centre[1])),
                    view.zoom)
    if kind == "magnified":
        zoom = float(rng.uniform(1.8, 2.5))
        inside = liver.outline[int(rng.integers(len(liver.outline)))]
        centre = liver.centroid + rng.uniform(0.0, 0.6) * (inside - liver.centroid)
        scale = view.scale / view.zoom * zoom
        return View(view.width, view.height, scale, (float(centre[0]), float(centre[1])), zoom)
    return view


def territory_mask(
    rng: np.random.Generator,
    territory: str,
    liver_image: np.ndarray,
    liver: Liver,
    view: View,
    line: CantlieLine | None = None,
) -> np.ndarray | None:
    """The perfused part of the liver in image pixels (mask pose), or None for the whole
    liver. Right and left hepatic arteries split the liver along Cantlie's ``line`` (given
    for those territories); a replaced right hepatic artery from the SMA perfuses the right
    liver; a segmental injection a 7-14 cm wide region around one point deep in the
    liver."""
    if territory in WHOLE_LIVER_TERRITORIES:
        return None
    height, width = liver_image.shape
    if territory in LOBAR_TERRITORIES:
        if line is None:
            raise ValueError(f"territory {territory!r} needs Cantlie's line")
        right = line.right_in_image(view, (height, width))
        region = right if territory != "left_hepatic" else ~right
    elif territory == "segmental":
        rows, cols = np.nonzero(liver.raster.distance >= 40.0)
        if rows.size == 0:
            rows, cols = np.nonzero(liver.raster.inside)
        pick = int(rng.integers(rows.size))
        point = np.array(liver.raster.origin) + (np.array([cols[pick], rows[pick]]) + 0.5) * (
            liver.raster.cell
        )
        cx, cy = view.to_image(point)
        region = np.zeros((height, width), np.uint8)
        radius = rng.uniform(85.0, 175.0) * view.scale
        axes = (int(radius * rng.uniform(0.7, 1.0)), int(radius))
        cv2.ellipse(region, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        region = region.astype(bool)
    else:
        raise ValueError(f"unknown territory {territory!r}")
    return liver_image & region


def territory_in_field(
    rng: np.random.Generator,
    variety: Variety,
    liver: Liver,
    drawn_view: View,
    view: View,
    liver_image: np.ndarray,
    field: np.ndarray,
) -> tuple[View, np.ndarray, np.ndarray | None, CantlieLine | None]:
    """The view, the liver in image pixels, the perfused territory (None: the whole liver)
    and Cantlie's line of a broad-mix case whose ``view`` was varied from ``drawn_view``.

    A selective territory that misses the exposed ``field`` (a lobe or segment of a liver
    partly outside the field or magnified onto its other side) would leave a case without
    a liver label, which training's reader skips: the liver family's view and the territory
    are drawn again, up to :data:`TERRITORY_REDRAWS` times, until it shows. A case that
    shows it at once draws nothing more, so it is what it was before this rule."""
    for attempt in range(TERRITORY_REDRAWS + 1):
        if attempt:
            view = vary_view(rng, drawn_view, liver, variety.liver)
            liver_image = liver_mask(liver, view, (0.0, 0.0))
        lobar = variety.territory in LOBAR_TERRITORIES
        line = sample_cantlie_line(rng, liver) if lobar else None
        perfused = territory_mask(rng, variety.territory, liver_image, liver, view, line)
        if perfused is None or (perfused & field).sum() >= MIN_FIELD_SHARE * field.sum():
            break
    return view, liver_image, perfused, line


def restrict_vessels(index: np.ndarray, liver_image: np.ndarray, perfused: np.ndarray,
                     margin_px: int) -> np.ndarray:
    """Keep the vessel pixels outside the liver (the trunks leading in) and those within
    ``margin_px`` of the perfused territory: branches to other territories stay empty."""
    near = cv2.dilate(perfused.astype(np.uint8), np.ones((2 * margin_px + 1,) * 2, np.uint8))
    blocked = (liver_image & ~near.astype(bool)).ravel()
    return ~blocked[index]
