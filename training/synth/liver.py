"""The liver outline and the diaphragm, in world coordinates (see :mod:`.view`).

In a frontal hepatic arteriogram the liver fills the upper left of the frame (the patient's
right): its dome is the right hemidiaphragm, its lateral edge follows the body wall, and its
inferior edge rises from the tip of the right lobe past the gallbladder fossa to the tip of
the left lobe, which reaches across the midline under the heart. The shape is built from
those landmarks, each jittered, so every case gets a different but plausible liver.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.curves import periodic_noise, resample_closed, smooth_function

DIAPHRAGM_X = np.arange(-500.0, 1700.0, 4.0)  # where the diaphragm curve is sampled


@dataclass(frozen=True)
class LiverRaster:
    """The liver drawn on a coarse world grid, for the tree and tumor placement to query."""

    inside: np.ndarray  # uint8 (rows, cols), 1 inside the liver
    distance: np.ndarray  # float32 world units to the liver edge, 0 outside
    origin: tuple[float, float]  # world (x, y) of cell (0, 0)
    cell: float  # world units per cell

    def depth_xy(self, x: float, y: float) -> float:
        """Distance inside the liver edge (world units) at world (x, y); 0 outside."""
        rows, cols = self.distance.shape
        col = min(max(int((x - self.origin[0]) / self.cell), 0), cols - 1)
        row = min(max(int((y - self.origin[1]) / self.cell), 0), rows - 1)
        return float(self.distance[row, col])

    def depth(self, point: np.ndarray) -> float:
        return self.depth_xy(float(point[0]), float(point[1]))

    def inward_xy(self, x: float, y: float) -> tuple[float, float]:
        """Unit vector pointing deeper into the liver (the distance map's gradient)."""
        c = self.cell
        gx = self.depth_xy(x + c, y) - self.depth_xy(x - c, y)
        gy = self.depth_xy(x, y + c) - self.depth_xy(x, y - c)
        norm = (gx * gx + gy * gy) ** 0.5
        return (gx / norm, gy / norm) if norm > 0 else (0.0, 0.0)

    def inward(self, point: np.ndarray) -> np.ndarray:
        return np.array(self.inward_xy(float(point[0]), float(point[1])))


@dataclass(frozen=True)
class Liver:
    outline: np.ndarray  # (N, 2) closed polygon, world units
    diaphragm_y: np.ndarray  # y of the diaphragm at DIAPHRAGM_X (lung above, abdomen below)
    hilum: np.ndarray  # where the proper hepatic artery enters
    raster: LiverRaster

    @property
    def centroid(self) -> np.ndarray:
        return self.outline.mean(axis=0)


def sample_liver(rng: np.random.Generator) -> Liver:
    size = rng.uniform(0.85, 1.15)
    shift = rng.normal(0.0, [35.0, 30.0])
    # Right hemidiaphragm dome, the dip at the heart, the lower left hemidiaphragm.
    dome_x = 300 + rng.normal(0, 40)
    dome_y = 150 + rng.normal(0, 30)
    control_x = np.array([-420, -60, dome_x - 170, dome_x, dome_x + 230, 700, 950, 1400])
    control_y = np.array(
        [900, 390, dome_y + 45, dome_y, dome_y + 70, 260 + rng.normal(0, 25), 215, 300]
    ) + rng.normal(0, 8, 8)
    diaphragm_y = smooth_function(control_x, control_y, DIAPHRAGM_X, smoothing=60.0)

    lateral_x = 15 + rng.normal(0, 30)
    tip_x = 780 + rng.normal(0, 50)
    xs = np.linspace(lateral_x, tip_x, 160)
    top = np.interp(xs, DIAPHRAGM_X, diaphragm_y) + 2.0
    # Inferior edge: tip of the right lobe low and lateral, gallbladder fossa, left lobe tip.
    bottom_control_x = np.array([lateral_x, lateral_x + 120, 450, 620, tip_x])
    right_lobe_tip = 660 + rng.normal(0, 45)
    fossa = 490 + rng.normal(0, 35)
    bottom_control_y = np.array(
        [right_lobe_tip - 60, right_lobe_tip, fossa, fossa - 80 + rng.normal(0, 25), 0.0]
    )
    bottom_control_y[-1] = np.interp(tip_x, DIAPHRAGM_X, diaphragm_y) + 25
    bottom = smooth_function(bottom_control_x, bottom_control_y, xs, smoothing=35.0)
    bottom = bottom + periodic_noise(rng, xs.size, 7.0, (3, 9))
    bottom = np.maximum(bottom, top + 12.0)

    # The lateral edge bulges outwards along the body wall.
    side_t = np.linspace(0.0, 1.0, 30)[1:-1]
    side_y = bottom[0] + (top[0] - bottom[0]) * side_t
    side_x = lateral_x - 30.0 * np.sin(np.pi * side_t)
    outline = np.concatenate(
        [
            np.stack([xs, top], 1),
            np.stack([xs[::-1], bottom[::-1]], 1),
            np.stack([side_x, side_y], 1),
        ]
    )
    outline = resample_closed(outline, 360)
    # Scale about the dome so the liver keeps touching the diaphragm.
    anchor = np.array([dome_x, dome_y])
    outline = anchor + (outline - anchor) * size + shift
    diaphragm_y = (diaphragm_y - dome_y) * size + dome_y + shift[1]
    diaphragm_y = np.interp(
        DIAPHRAGM_X, (DIAPHRAGM_X - dome_x) * size + dome_x + shift[0], diaphragm_y
    )

    raster = rasterize_liver(outline)
    hilum_x = lateral_x + 0.58 * (tip_x - lateral_x)
    hilum_x = (hilum_x - dome_x) * size + dome_x + shift[0]
    column = outline[np.abs(outline[:, 0] - hilum_x) < 6.0]
    lowest = float(column[:, 1].max()) if column.size else float(outline[:, 1].max())
    hilum = _deepen(raster, np.array([hilum_x, lowest - 25.0]), min_depth=18.0)
    return Liver(outline=outline, diaphragm_y=diaphragm_y, hilum=hilum, raster=raster)


def rasterize_liver(outline: np.ndarray, cell: float = 2.0) -> LiverRaster:
    margin = 8.0
    origin = outline.min(axis=0) - margin
    shape = np.ceil((outline.max(axis=0) + margin - origin) / cell).astype(int) + 1
    inside = np.zeros((shape[1], shape[0]), np.uint8)
    points = np.round((outline - origin) / cell * 4).astype(np.int32)  # 2 fractional bits
    cv2.fillPoly(inside, [points], 1, lineType=cv2.LINE_8, shift=2)
    distance = cv2.distanceTransform(inside, cv2.DIST_L2, 5) * np.float32(cell)
    return LiverRaster(
        inside=inside, distance=distance, origin=(float(origin[0]), float(origin[1])), cell=cell
    )


def _deepen(raster: LiverRaster, point: np.ndarray, min_depth: float) -> np.ndarray:
    """Walk ``point`` inwards until it lies at least ``min_depth`` inside the liver."""
    for _ in range(200):
        if raster.depth(point) >= min_depth:
            break
        direction = raster.inward(point)
        if not direction.any():
            direction = np.array([0.0, -1.0])
        point = point + 3.0 * direction
    return point
