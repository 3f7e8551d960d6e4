"""Where the camera looks: world coordinates (anatomy) to image pixels.

Anatomy is built once in *world units*: the pixels of the papers' 1021 x 788 frame at normal
field of view, so every size the papers quote in pixels (tumor diameters 6.5-217 px) is a
size in world units. A :class:`View` maps world to image by a scale and a centre, which covers
the three frame sizes (a square detector simply shows more above and below) and the enlarged
field of view some operators use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORLD_WIDTH, WORLD_HEIGHT = 1021.0, 788.0
# Physical size of one world unit at the patient: a 1021-pixel frame then spans ~41 cm, the
# usual abdominal field, and the papers' mean tumor (69 px) is 2.8 cm, the largest 8.7 cm.
MM_PER_WORLD_UNIT = 0.4
# Source-to-image over source-to-object distance of a C-arm; detector spacing = patient
# spacing x magnification (DICOM ImagerPixelSpacing is at the detector).
GEOMETRIC_MAGNIFICATION = 1.3


@dataclass(frozen=True)
class View:
    width: int
    height: int
    scale: float  # image pixels per world unit
    center: tuple[float, float]  # the world point at the image centre
    zoom: float  # 1 for the normal field of view, > 1 for an enlarged one

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """World ``(..., 2)`` (x, y) points to image pixel coordinates (float)."""
        centre = np.asarray(self.center)
        return (np.asarray(points, dtype=np.float64) - centre) * self.scale + self.image_center

    def to_world(self, points: np.ndarray) -> np.ndarray:
        centre = np.asarray(self.center)
        return (np.asarray(points, dtype=np.float64) - self.image_center) / self.scale + centre

    @property
    def image_center(self) -> np.ndarray:
        return np.array([self.width / 2.0, self.height / 2.0])

    @property
    def imager_pixel_spacing_mm(self) -> tuple[float, float]:
        spacing = MM_PER_WORLD_UNIT * GEOMETRIC_MAGNIFICATION / self.scale
        return spacing, spacing


def sample_view(
    rng: np.random.Generator, size: tuple[int, int], zoomed: bool, focus: np.ndarray
) -> View:
    """A view of ``size`` (width, height); a zoomed one enlarges by 1.25-1.7x towards
    ``focus`` (world), the way an operator magnifies onto the liver."""
    width, height = size
    zoom = float(rng.uniform(1.25, 1.7)) if zoomed else 1.0
    centre = np.array([WORLD_WIDTH / 2, WORLD_HEIGHT / 2]) + rng.normal(0.0, 18.0, 2)
    if zoomed:
        pull = 1.0 - 1.0 / zoom
        centre = centre + (np.asarray(focus) - centre) * min(1.0, 1.3 * pull)
    return View(
        width=int(width),
        height=int(height),
        scale=width / WORLD_WIDTH * zoom,
        center=(float(centre[0]), float(centre[1])),
        zoom=zoom,
    )
