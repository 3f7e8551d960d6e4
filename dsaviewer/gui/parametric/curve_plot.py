"""Time-density curves of regions (pyqtgraph), with a cursor at the frame shown, and their
export to CSV and PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter

from dsaviewer.inference.parametric_files import write_curves_csv

# Fixed colours for the ready-made regions (as the overlays draw them), a cycle for the rest.
REGION_COLOURS = {"tumor": (0, 255, 255), "liver": (0, 255, 0), "background": (160, 160, 160)}
_CYCLE = [(255, 170, 0), (255, 80, 160), (120, 160, 255), (255, 255, 90), (190, 120, 255)]


def region_colour(name: str, index: int) -> tuple[int, int, int]:
    return REGION_COLOURS.get(name, _CYCLE[index % len(_CYCLE)])


class CurvePlot(pg.PlotWidget):
    """Curves of opacity over time in seconds; ``set_cursor(t)`` moves the frame line."""

    def __init__(self, parent=None, time_label: str = "time (s)") -> None:
        super().__init__(parent)
        self.setLabel("bottom", time_label)
        self.setLabel("left", "opacity (fraction of white)")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.showGrid(x=True, y=True, alpha=0.25)
        self.addLegend(offset=(-10, 10))
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("w", width=1))
        self.addItem(self.cursor)
        self._times = np.zeros(0)
        self._curves: dict[str, np.ndarray] = {}

    def set_curves(
        self,
        times: np.ndarray,
        curves: Mapping[str, np.ndarray],
        colours: Mapping[str, tuple[int, int, int]] | None = None,
        styles: Mapping[str, object] | None = None,
    ) -> None:
        """Replace the curves: ``curves`` maps a name to values at ``times`` (NaN: none)."""
        plot = self.getPlotItem()
        for item in list(plot.listDataItems()):
            plot.removeItem(item)
        self._times = np.asarray(times, dtype=np.float64)
        self._curves = {name: np.asarray(values, np.float64) for name, values in curves.items()}
        for index, (name, values) in enumerate(self._curves.items()):
            colour = (colours or {}).get(name) or region_colour(name, index)
            style = (styles or {}).get(name, pg.QtCore.Qt.PenStyle.SolidLine)
            self.plot(self._times, values, name=name, connect="finite",
                      pen=pg.mkPen(colour, width=2, style=style), symbol="o", symbolSize=4,
                      symbolBrush=colour, symbolPen=None)

    def set_cursor(self, time: float) -> None:
        self.cursor.setValue(float(time))

    @property
    def curves(self) -> dict[str, np.ndarray]:
        return dict(self._curves)

    @property
    def times(self) -> np.ndarray:
        return self._times.copy()

    def export_csv(self, path: str | Path) -> Path:
        """``time_s`` and one column per curve, as ``tdc.csv`` is written."""
        return write_curves_csv(Path(path), self._times, self._curves)

    def export_png(self, path: str | Path) -> Path:
        exporter = ImageExporter(self.getPlotItem())
        exporter.parameters()["width"] = max(800, int(self.width()))
        exporter.export(str(path))
        return Path(path)
