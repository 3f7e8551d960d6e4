"""The colour-coded parametric image: colour = the chosen parameter (time to peak by default),
brightness = peak opacity, a colour bar in the parameter's unit, and regions of interest
drawn on it (rectangle, ellipse, polygon)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from dsaviewer.core.parametric import ParametricMaps
from dsaviewer.core.parametric_image import colour_coded, colour_lut, time_range
from dsaviewer.core.roi_masks import roi_mask

# name shown -> (map, colour bar label, colour also modulated by peak brightness)
PARAMETERS = {
    "Time to peak": ("ttp", "TTP (s)", True),
    "Arrival time": ("arrival", "arrival (s)", True),
    "Mean transit time": ("mtt", "MTT (s)", True),
    "Peak opacity": ("peak", "peak opacity", False),
    "Area under the curve": ("auc", "AUC (opacity x s)", False),
}


Rendered = tuple[np.ndarray, tuple[float, float], str]  # RGB image, value range, bar label


def render(maps: ParametricMaps, parameter: str) -> Rendered:
    """The RGB image of ``parameter`` (see :data:`PARAMETERS`), its range and its label;
    Qt-free work, safe off the UI thread."""
    name, label, bright = PARAMETERS[parameter]
    values = getattr(maps, name)
    value_range = time_range(values)
    bgr = colour_coded(values, maps.peak if bright else None, value_range)
    return np.ascontiguousarray(bgr[..., ::-1]), value_range, label


class MapView(pg.GraphicsLayoutWidget):
    """``rois_changed`` fires when a drawn region is added, moved, reshaped or removed."""

    rois_changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = self.addViewBox(lockAspect=True, invertY=True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        lut = colour_lut()[:, ::-1]  # BGR -> RGB
        self.colour_map = pg.ColorMap(np.linspace(0.0, 1.0, 256), lut)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.colour_map,
                                          interactive=False, width=18)
        self.addItem(self.colour_bar)
        self.maps: ParametricMaps | None = None
        self.parameter = "Time to peak"
        self.value_range = (0.0, 1.0)
        self.rois: dict[str, tuple[str, pg.ROI]] = {}
        self._roi_count = 0

    # Not ``clear``: GraphicsLayoutWidget binds its layout's clear() to the instance under that
    # name, which would win over a method and take the view and colour bar out of the scene.
    def clear_maps(self) -> None:
        self.maps = None
        self.image.clear()

    def show_rendered(self, maps: ParametricMaps, parameter: str, rendered: Rendered) -> None:
        """Show ``maps`` as :func:`render` drew ``parameter`` (off the UI thread)."""
        rgb, value_range, label = rendered
        first = self.maps is None or self.image.image is None or (
            self.image.image.shape[:2] != rgb.shape[:2])
        self.maps, self.parameter, self.value_range = maps, parameter, value_range
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        self.colour_bar.setLevels(value_range)
        self.colour_bar.axis.setLabel(label)
        if first:
            self.fit_contrast()

    def fit_contrast(self) -> None:
        """Zoom to where contrast arrives (the whole image when nowhere)."""
        if self.maps is None or not np.isfinite(self.maps.peak).any():
            self.view.autoRange(padding=0.0)
            return
        rows, columns = np.nonzero(np.isfinite(self.maps.peak))
        y0, y1 = np.percentile(rows, (0.5, 99.5))
        x0, x1 = np.percentile(columns, (0.5, 99.5))
        self.view.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.05)

    # ----- regions of interest -----
    def add_roi(self, kind: str) -> str:
        """Draw a new region of ``kind`` in the middle of the image; return its name."""
        height, width = self.image.image.shape[:2] if self.image.image is not None else (100, 100)
        size = np.array([width, height], float) / 6
        corner = np.array([width, height], float) / 2 - size / 2
        pen = pg.mkPen((255, 200, 0), width=2)
        if kind == "rectangle":
            roi: pg.ROI = pg.RectROI(corner, size, pen=pen)
        elif kind == "ellipse":
            roi = pg.EllipseROI(corner, size, pen=pen)
        else:
            points = [corner, corner + (size[0], 0), corner + size, corner + (0, size[1])]
            roi = pg.PolyLineROI([tuple(p) for p in points], closed=True, pen=pen)
        self._roi_count += 1
        name = f"ROI {self._roi_count}"
        self.view.addItem(roi)
        roi.sigRegionChangeFinished.connect(lambda *_: self.rois_changed.emit())
        self.rois[name] = (kind, roi)
        self.rois_changed.emit()
        return name

    def remove_rois(self) -> None:
        for _, roi in self.rois.values():
            self.view.removeItem(roi)
        self.rois.clear()
        self.rois_changed.emit()

    def roi_masks(self) -> dict[str, np.ndarray]:
        """Each drawn region as a mask of the image's size."""
        if self.image.image is None:
            return {}
        shape = self.image.image.shape[:2]
        return {name: roi_mask(kind, roi_points(kind, roi), shape)
                for name, (kind, roi) in self.rois.items()}


def roi_points(kind: str, roi: pg.ROI) -> np.ndarray:
    """Image (x, y) points of a region: two box corners, or a polygon's vertices."""
    if kind == "polygon":
        return np.array([roi.mapToParent(handle["pos"]).toTuple() for handle in roi.handles])
    position, size = np.array(roi.pos().toTuple()), np.array(roi.size().toTuple())
    if abs(roi.angle()) > 1e-6:  # turned: its bounding box in the image
        corners = [roi.mapToParent(pg.Point(x, y)) for x in (0, size[0]) for y in (0, size[1])]
        xy = np.array([c.toTuple() for c in corners])
        return np.array([xy.min(axis=0), xy.max(axis=0)])
    return np.array([position, position + size])
