"""Two runs of one patient side by side (e.g. before and after embolisation): frames played in
step by time since each run's first contrast arrival, the compared regions outlined (the
post-run's as registered), both tumor curves, and the blush reduction."""

from __future__ import annotations

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from dsaviewer.core.compare_runs import RunComparison, frame_at
from dsaviewer.gui.parametric.curve_plot import REGION_COLOURS, CurvePlot
from dsaviewer.io.video import Video

_STEP_S = 0.1  # slider resolution and playback tick, s
_OUTLINE_ALPHA = 230
_WHITE = (255, 255, 255)
_AFTER_COLOUR = (255, 170, 0)


class CompareView(QWidget):
    """``moment_changed`` carries the time since arrival shown (s)."""

    moment_changed = Signal(float)

    def __init__(self, pre: Video, post: Video, comparison: RunComparison, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare runs: {_run_name(pre)} and {_run_name(post)}")
        self.videos = (pre, post)
        self.comparison = comparison
        self.runs = (comparison.pre, comparison.post)
        self.moment = 0.0

        self.images = pg.GraphicsLayoutWidget()
        self.frames: list[pg.ImageItem] = []
        for column, (video, run, title) in enumerate(
            zip(self.videos, self.runs, ("before", "after"), strict=True)
        ):
            view = self.images.addViewBox(row=0, col=column, lockAspect=True, invertY=True)
            image = pg.ImageItem(axisOrder="row-major")
            view.addItem(image)
            outline = pg.ImageItem(_outlines(run.regions), axisOrder="row-major")
            view.addItem(outline)
            text = pg.TextItem(f"{title}: {_run_name(video)}", color="w", anchor=(0, 0))
            view.addItem(text)
            self.frames.append(image)
        reduction = comparison.blush_reduction_pct
        self.summary = QLabel(
            f"Tumor blush reduction: {reduction:.1f} % (peak), "
            f"{comparison.auc_reduction_pct:.1f} % (area under the curve)"
            if np.isfinite(reduction) else "No tumor blush in the run before: no reduction")
        self.plot = CurvePlot(time_label="time since first arrival (s)")
        self._plot_curves()

        low = min(run.times_since_arrival[0] for run in self.runs)
        high = max(run.times_since_arrival[-1] for run in self.runs)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(int(np.floor(low / _STEP_S)), int(np.ceil(high / _STEP_S)))
        self.play_button = QPushButton("Play")
        self.time_label = QLabel()
        self.timer = QTimer(self)
        self.timer.setInterval(int(_STEP_S * 1000))

        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.images, 3)
        layout.addLayout(controls)
        layout.addWidget(self.plot, 2)

        self.slider.valueChanged.connect(lambda value: self.show_moment(value * _STEP_S))
        self.play_button.clicked.connect(self.toggle_playing)
        self.timer.timeout.connect(self._tick)
        self.slider.setValue(0)
        self.show_moment(0.0)

    def show_moment(self, moment: float) -> None:
        """Show each run's frame at ``moment`` s since its first arrival."""
        self.moment = float(moment)
        for image, video, run in zip(self.frames, self.videos, self.runs, strict=True):
            frame = video.frames[frame_at(run.times_since_arrival, self.moment)]
            image.setImage(frame, autoLevels=False, levels=(0, video.max_value))
        self.plot.set_cursor(self.moment)
        self.time_label.setText(f"{self.moment:+.1f} s")
        self.moment_changed.emit(self.moment)

    def shown_frames(self) -> tuple[int, int]:
        return tuple(frame_at(run.times_since_arrival, self.moment) for run in self.runs)

    def toggle_playing(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
        else:
            if self.slider.value() >= self.slider.maximum():
                self.slider.setValue(self.slider.minimum())
            self.timer.start()
        self.play_button.setText("Pause" if self.timer.isActive() else "Play")

    def _tick(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.toggle_playing()
            return
        self.slider.setValue(self.slider.value() + 1)

    def _plot_curves(self) -> None:
        """Both runs' curves of the compared region, each on its own times since arrival."""
        region = self.comparison.region
        for name, run, style, colour in (
            ("before", self.runs[0], Qt.PenStyle.SolidLine, REGION_COLOURS.get(region, _WHITE)),
            ("after", self.runs[1], Qt.PenStyle.DashLine, _AFTER_COLOUR),
        ):
            self.plot.plot(run.times_since_arrival, run.curves[region], name=f"{region} {name}",
                           connect="finite", pen=pg.mkPen(colour, width=2, style=style),
                           symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)


def _run_name(video: Video) -> str:
    """A case folder's name for its ``video.*`` file, else the file's name."""
    source = video.source
    return source.parent.name if source.stem == "video" else source.name


def _outlines(regions: dict[str, np.ndarray]) -> np.ndarray:
    """RGBA outlines of the tumor and liver regions, transparent elsewhere."""
    shape = next(iter(regions.values())).shape
    rgba = np.zeros((*shape, 4), np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    for name in ("liver", "tumor"):
        if name not in regions:
            continue
        mask = regions[name].astype(np.uint8)
        edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, kernel).astype(bool)
        rgba[edge] = (*REGION_COLOURS[name], _OUTLINE_ALPHA)
    return rgba
