"""The parametric panel: the colour-coded map of the open run with a choice of parameter,
regions (the analysis's tumor, liver and lesions, and drawn rectangles, ellipses and
polygons), their time-density curves with a cursor at the frame shown, and export.

It is a view of the case: :meth:`ParametricPanel.follow` subscribes ``show_case``,
``show_result`` and ``show_frame`` to the application model's case, result and frame; the
maps, their colouring and the curves are computed off the UI thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.binary_masks import label_components
from dsaviewer.core.parametric import ParametricMaps
from dsaviewer.core.time_density import region_curves
from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.gui.parametric.curve_plot import CurvePlot
from dsaviewer.gui.parametric.map_view import PARAMETERS, MapView, Rendered, render
from dsaviewer.inference.parametric_files import run_times, video_maps
from dsaviewer.io.video import Video


class ParametricPanel(QWidget):
    """``maps_ready`` fires when the open run's maps are shown; ``curves_changed`` when the
    plotted curves change (regions chosen, drawn or moved); ``parameter_shown`` when the map
    shows a newly chosen parameter."""

    maps_ready = Signal(object)  # ParametricMaps
    curves_changed = Signal()
    parameter_shown = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.video: Video | None = None
        self.maps: ParametricMaps | None = None
        self.times = np.zeros(0)
        self.times_stated = True
        self.frame = 0
        self.ready_regions: dict[str, np.ndarray] = {}
        self._request = 0  # the case shown; results for an older one are dropped
        self._curves_request = 0
        # A thread of its own: the maps never hold up the viewer's opening, analysis or saves
        # in the shared pool (two threads on a two-core machine).
        self._pool = serial_pool(self)

        self.parameter = QComboBox()
        self.parameter.addItems(list(PARAMETERS))
        self.status = QLabel("Open a run to see its parametric maps.")
        self.map_view = MapView()
        self.plot = CurvePlot()
        self.regions = QListWidget()
        self.regions.setMaximumHeight(90)
        buttons = QHBoxLayout()
        self.roi_buttons = {}
        for kind, text in (("rectangle", "Rectangle"), ("ellipse", "Ellipse"),
                           ("polygon", "Polygon")):
            button = QPushButton(text)
            button.setToolTip(f"Draw a {kind} region on the map")
            button.clicked.connect(lambda _=False, kind=kind: self.map_view.add_roi(kind))
            buttons.addWidget(button)
            self.roi_buttons[kind] = button
        clear = QPushButton("Clear drawn")
        clear.clicked.connect(self.map_view.remove_rois)
        buttons.addWidget(clear)
        exports = QHBoxLayout()
        self.csv_button = QPushButton("Export CSV…")
        self.png_button = QPushButton("Export PNG…")
        self.csv_button.clicked.connect(lambda: self._ask_export("csv"))
        self.png_button.clicked.connect(lambda: self._ask_export("png"))
        exports.addWidget(self.csv_button)
        exports.addWidget(self.png_button)

        top = QHBoxLayout()
        top.addWidget(QLabel("Colour:"))
        top.addWidget(self.parameter, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.map_view)
        splitter.addWidget(self.plot)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.regions)
        layout.addLayout(exports)

        self.parameter.currentTextChanged.connect(self._parameter_chosen)
        self.map_view.rois_changed.connect(self._rois_changed)
        self.regions.itemChanged.connect(lambda _: self.refresh_curves())

    # ----- what the panel subscribes to -----
    def follow(self, model: ViewerModel) -> None:
        model.events.case.connect(self.show_case)
        model.events.result.connect(self.show_result)
        model.events.frame.connect(self.show_frame)

    def show_case(self, case: object) -> None:
        """A newly opened case (anything with a ``video``, or a Video); maps in background."""
        if case is None:
            return
        video = getattr(case, "video", case)
        self.video, self.maps, self.ready_regions = video, None, {}
        self.times, self.times_stated = run_times(video)
        self.map_view.remove_rois()
        self.map_view.clear_maps()
        self._fill_region_list()
        self.status.setText("Computing parametric maps…")
        self._request += 1
        request, parameter = self._request, self.parameter.currentText()

        def work() -> tuple[ParametricMaps, Rendered]:
            maps = video_maps(video)
            return maps, render(maps, parameter)

        run_in_background(
            work,
            lambda done: self._alive() and self._maps_done(*done, parameter, request),
            lambda error, _trace: self._alive() and self._maps_failed(error, request),
            self._pool,
        )

    def show_result(self, result: object) -> None:
        """The analysis's masks become ready-made regions: tumor, liver, each lesion (made
        off the UI thread: labelling a megapixel mask holds it for about 20 ms)."""
        if result is None or self.video is None:
            return
        request = self._request

        def done(regions: dict[str, np.ndarray]) -> None:
            if self._alive() and request == self._request:
                self.ready_regions = regions
                self._fill_region_list()
                self.refresh_curves()

        run_in_background(
            lambda: result_regions(result),
            done,
            lambda error, _trace: self._alive() and self.status.setText(f"No regions: {error}"),
            self._pool,
        )

    def show_frame(self, index: int) -> None:
        self.frame = int(index)
        if 0 <= self.frame < len(self.times):
            self.plot.set_cursor(self.times[self.frame])

    # ----- regions and curves -----
    def chosen_regions(self) -> dict[str, np.ndarray]:
        masks = {**self.ready_regions, **self.map_view.roi_masks()}
        chosen = {}
        for row in range(self.regions.count()):
            item = self.regions.item(row)
            name = item.data(Qt.ItemDataRole.UserRole)
            if item.checkState() == Qt.CheckState.Checked and name in masks:
                chosen[name] = masks[name]
        return chosen

    def refresh_curves(self) -> None:
        """Measure the chosen regions' curves off the UI thread (30 frames of a megapixel
        run take longer than a UI frame), then plot them."""
        if self.video is None or self.maps is None:
            return
        regions = self.chosen_regions()
        video, dark, request = self.video, self.maps.contrast_dark, self._request
        self._curves_request += 1
        curves_request = self._curves_request

        def done(curves: dict[str, np.ndarray]) -> None:
            if not self._alive():
                return
            if request == self._request and curves_request == self._curves_request:
                self.plot.set_curves(self.times, curves)
                self.show_frame(self.frame)
                self.curves_changed.emit()

        run_in_background(
            lambda: region_curves(video.frames, regions, dark, video.max_value)
            if regions else {},
            done,
            lambda error, _trace: self._alive() and self.status.setText(f"No curves: {error}"),
            self._pool,
        )

    def export_csv(self, path: str | Path) -> Path:
        return self.plot.export_csv(path)

    def export_png(self, path: str | Path) -> Path:
        return self.plot.export_png(path)

    # ----- internals -----
    def _alive(self) -> bool:
        """False once Qt has deleted the panel (its window closed while a task ran)."""
        return shiboken6.isValid(self) and shiboken6.isValid(self.status)

    def _maps_done(
        self, maps: ParametricMaps, rendered: Rendered, parameter: str, request: int
    ) -> None:
        if request != self._request:
            return  # a newer case is open
        self.maps = maps
        self.map_view.show_rendered(maps, parameter, rendered)
        unit = "" if self.times_stated else " (no frame times in the file: 1 s per frame)"
        self.status.setText(f"{int(np.isfinite(maps.ttp).sum())} pixels with contrast{unit}")
        self.refresh_curves()
        self.maps_ready.emit(maps)

    def _maps_failed(self, error: Exception, request: int) -> None:
        if request == self._request:
            self.status.setText(f"No parametric maps: {error}")

    def _parameter_chosen(self, text: str) -> None:
        if self.maps is None:
            return
        maps, request = self.maps, self._request

        def done(rendered: Rendered) -> None:
            if not self._alive():
                return
            if request == self._request and text == self.parameter.currentText():
                self.map_view.show_rendered(maps, text, rendered)
                self.parameter_shown.emit(text)

        run_in_background(lambda: render(maps, text), done,
                          lambda error, _trace: self._alive() and self.status.setText(f"{error}"),
                          self._pool)

    def _rois_changed(self) -> None:
        self._fill_region_list()
        self.refresh_curves()

    def _fill_region_list(self) -> None:
        checked = {self.regions.item(row).data(Qt.ItemDataRole.UserRole):
                   self.regions.item(row).checkState() for row in range(self.regions.count())}
        self.regions.blockSignals(True)
        self.regions.clear()
        for name in [*self.ready_regions, *self.map_view.rois]:
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            default = Qt.CheckState.Checked if name in ("tumor", "liver") or name.startswith(
                "ROI") else Qt.CheckState.Unchecked
            item.setCheckState(checked.get(name, default))
            self.regions.addItem(item)
        self.regions.blockSignals(False)

    def _ask_export(self, kind: str) -> None:
        name = "tdc.csv" if kind == "csv" else "tdc.png"
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", name,
                                              "CSV (*.csv)" if kind == "csv" else "PNG (*.png)")
        if path:
            (self.export_csv if kind == "csv" else self.export_png)(path)


def result_regions(result: object) -> dict[str, np.ndarray]:
    """The regions an analysis result offers: its tumor, its liver without the tumor, and
    each lesion by number."""
    regions = {"tumor": result.tumor_mask, "liver": result.liver_mask & ~result.tumor_mask}
    _, components = label_components(result.tumor_mask)
    for lesion in getattr(result, "lesions", []):
        row, column = lesion.contour[0]  # a pixel of the lesion names its component
        regions[f"lesion {lesion.number}"] = components == components[row, column]
    return regions
