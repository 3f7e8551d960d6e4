"""The image: one frame with its overlays, pan, zoom, window/level (right-drag or histogram),
invert, a scale bar and the pixel under the cursor."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from dsaviewer.app.case_session import CaseSession
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.window_level import dragged_window
from dsaviewer.gui.image.image_legend import ImageLegend
from dsaviewer.gui.image.scale_bar import MillimetreScaleBar
from dsaviewer.gui.image.windowing_view_box import WindowingViewBox
from dsaviewer.gui.overlays.overlay_layers import OverlayLayers
from dsaviewer.io.calibration import Calibration

_INVERTED_GREY = {"mode": "rgb", "ticks": [(0.0, (255, 255, 255, 255)), (1.0, (0, 0, 0, 255))]}
# Centring on a lesion leaves this many lesion sizes of context around it at least.
_FOCUS_CONTEXT = 3.0


class FrameView(pg.GraphicsLayoutWidget):
    """Shows the frames of one video at a shared window/level, with overlays on top.

    ``cursor_moved`` carries (row, column, value) of the pixel under the mouse, or
    (-1, -1, nan) when the mouse leaves the image. ``window_changed`` carries (low, high)
    whenever the window changes, by drag, histogram or code.
    """

    cursor_moved = Signal(int, int, float)
    window_changed = Signal(float, float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.view = WindowingViewBox()
        self.addItem(self.view)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.histogram = pg.HistogramLUTItem(image=self.image)
        # The histogram is the clip's, set once per video: recomputing it from every frame
        # shown would cost playback time and make the curve jump while playing.
        self.image.sigImageChanged.disconnect(self.histogram.imageChanged)
        self.histogram.fillHistogram(True, color=(110, 110, 110, 160))
        self.histogram.region.setBrush((200, 200, 200, 40))
        self.histogram.vb.setMaximumWidth(70)
        self.addItem(self.histogram)
        self.overlays = OverlayLayers(self.view)
        self.legend = ImageLegend(self.view)
        self._scale_bar: MillimetreScaleBar | None = None
        self._frame: np.ndarray | None = None
        self._value_range = 255.0
        self._inverted = False
        self.view.window_dragged.connect(self._drag_window)
        self.histogram.sigLevelsChanged.connect(self._emit_window)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def follow(self, model: ViewerModel) -> None:
        """Show the model's case at its frame, with a scale bar in its calibration."""

        def column_mm(calibration: Calibration | None) -> float | None:
            return None if calibration is None else calibration.mm_per_px[1]

        def opened(case: CaseSession) -> None:
            video = case.video
            self.prepare(video.max_value, case.histogram, column_mm(model.calibration))
            self.set_inverted(False)
            self.set_window(*case.window)
            self.show_frame(video.frames[model.frame])

        def frame(index: int) -> None:
            if model.case is not None:
                self.show_frame(model.case.video.frames[index])

        model.events.case.connect(opened)
        model.events.frame.connect(frame)
        model.events.calibration.connect(lambda calibration: self.set_scale(
            column_mm(calibration)))

    # ----- per video -----
    def prepare(
        self,
        value_range: float,
        histogram: tuple[np.ndarray, np.ndarray],
        mm_per_pixel: float | None,
    ) -> None:
        """Set up for a new video: its value range (drag sensitivity), its grey histogram
        (bin centres, counts) and its column pixel spacing (None: no scale bar)."""
        self._value_range = float(value_range)
        centres, counts = histogram
        # Log counts: the black border would otherwise flatten the tissue's part of the curve.
        self.histogram.plot.setData(centres, np.log1p(counts.astype(float)))
        self.histogram.autoHistogramRange()
        self.set_scale(mm_per_pixel)
        self._frame = None

    def set_scale(self, mm_per_pixel: float | None) -> None:
        """The scale bar for ``mm_per_pixel`` (column spacing); None takes it away."""
        if self._scale_bar is not None:
            self.view.sigRangeChanged.disconnect(self._scale_bar.updateBar)
            self.view.scene().removeItem(self._scale_bar)
            self._scale_bar = None
        if mm_per_pixel is not None:
            self._scale_bar = MillimetreScaleBar(mm_per_pixel)
            self._scale_bar.setParentItem(self.view)

    def show_frame(self, frame: np.ndarray) -> None:
        first = self._frame is None or self._frame.shape != frame.shape
        self._frame = frame
        self.image.setImage(frame, autoLevels=False)
        if first:
            self.fit()

    @property
    def frame(self) -> np.ndarray | None:
        return self._frame

    # ----- window/level -----
    def set_window(self, low: float, high: float) -> None:
        self.histogram.setLevels(low, high)

    def window(self) -> tuple[float, float]:
        low, high = self.histogram.getLevels()
        return float(low), float(high)

    def set_inverted(self, inverted: bool) -> None:
        self._inverted = inverted
        if inverted:
            self.histogram.gradient.restoreState(_INVERTED_GREY)
        else:
            self.histogram.gradient.loadPreset("grey")

    @property
    def inverted(self) -> bool:
        return self._inverted

    # ----- geometry -----
    def fit(self) -> None:
        self.view.autoRange(padding=0.0)

    def centre_on(self, bbox: tuple[int, int, int, int]) -> None:
        """Centre the view on a (row0, col0, row1, col1) box, zooming out only if it would
        not fit with some context around it."""
        row0, col0, row1, col1 = bbox
        (x0, x1), (y0, y1) = self.view.viewRange()
        half_w = max((x1 - x0), _FOCUS_CONTEXT * (col1 - col0)) / 2.0
        half_h = max((y1 - y0), _FOCUS_CONTEXT * (row1 - row0)) / 2.0
        cx, cy = (col0 + col1) / 2.0, (row0 + row1) / 2.0
        self.view.setRange(
            xRange=(cx - half_w, cx + half_w), yRange=(cy - half_h, cy + half_h), padding=0.0
        )

    # ----- events -----
    def _drag_window(self, dx: float, dy: float) -> None:
        self.set_window(*dragged_window(self.window(), dx, dy, self._value_range))

    def _emit_window(self) -> None:
        self.window_changed.emit(*self.window())

    def _on_mouse_moved(self, scene_pos) -> None:
        if self._frame is None:
            return
        point = self.view.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        height, width = self._frame.shape
        inside = self.view.sceneBoundingRect().contains(scene_pos)
        if inside and 0 <= row < height and 0 <= col < width:
            self.cursor_moved.emit(row, col, float(self._frame[row, col]))
        else:
            self.cursor_moved.emit(-1, -1, float("nan"))
