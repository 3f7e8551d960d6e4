"""The mask editor on a pyqtgraph view as the annotation tests drive it: a small frame-folder
case, the viewer around the editor, and strokes and clicks made with real mouse events.
(No tests here.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.annotation.tools import Tool
from dsaviewer.io.recovery import find_recovery
from dsaviewer.io.writers import write_frame_folder

FRAMES, HEIGHT, WIDTH = 5, 64, 80
# pyqtgraph passes on at most 100 mouse moves a second; a real hand is no faster.
MOVE_INTERVAL_MS = 12


@dataclass
class Viewer:
    widget: pg.GraphicsLayoutWidget
    view: pg.ViewBox
    editor: MaskEditor
    case: Path
    frames: np.ndarray

    def at(self, x: float, y: float):
        """The widget position showing image point (x, y)."""
        return self.widget.mapFromScene(self.view.mapViewToScene(QPointF(x, y)))

    def masks(self, frame: int | None = None) -> dict[str, np.ndarray]:
        annotation = self.editor.store.get(self.editor.frame if frame is None else frame)
        return {label: mask.copy() for label, mask in annotation.masks.items()}


def make_case(root: Path) -> tuple[Path, np.ndarray]:
    # Flat grey frames, a different grey each, so a rendered overlay is easy to tell apart.
    frames = np.stack([np.full((HEIGHT, WIDTH), 60 + 20 * t, np.uint8) for t in range(FRAMES)])
    write_frame_folder(root / "frames", frames)
    return root, frames


def make_viewer(qtbot, case: Path, frames: np.ndarray, user_folder: Path) -> Viewer:
    widget = pg.GraphicsLayoutWidget()
    view = widget.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
    view.addItem(pg.ImageItem(frames[0], axisOrder="row-major", levels=(0, 255)))
    editor = MaskEditor(view, widget, autosave_delay_ms=50, fallback_recovery_root=user_folder)
    # Closing the case waits for recovery writes still queued; the view must still exist.
    qtbot.addWidget(widget, before_close_func=lambda _widget: editor.close_case())
    widget.resize(500, 420)
    widget.show()
    qtbot.waitExposed(widget)
    view.setRange(xRange=(0, WIDTH), yRange=(0, HEIGHT), padding=0)
    editor.open_case(case, frames, key_frame=2)
    QTest.qWait(20)
    return Viewer(widget, view, editor, case, frames)


def stroke(viewer: Viewer, points: list[tuple[float, float]]) -> None:
    port = viewer.widget.viewport()
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     viewer.at(*points[0]))
    for point in points[1:]:
        QTest.qWait(MOVE_INTERVAL_MS)
        QTest.mouseMove(port, viewer.at(*point))
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       viewer.at(*points[-1]))


def click(viewer: Viewer, x: float, y: float) -> None:
    QTest.mouseClick(viewer.widget.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, viewer.at(x, y))


def recovered_frames(case: Path) -> list[int]:
    recovery = find_recovery(case)
    return [] if recovery is None else [frame.frame_index for frame in recovery.frames]


def pixel(mask: np.ndarray, x: float, y: float) -> bool:
    return bool(mask[int(y), int(x)])


def rendered_rgb(viewer: Viewer, x: float, y: float) -> tuple[int, int, int]:
    colour = viewer.widget.grab().toImage().pixelColor(viewer.at(x, y))
    return colour.red(), colour.green(), colour.blue()


def paint_something(viewer: Viewer, frame: int) -> dict[str, np.ndarray]:
    editor = viewer.editor
    editor.set_frame(frame)
    editor.set_tool(Tool.BRUSH)
    editor.set_label("liver")
    editor.set_radius(9)
    stroke(viewer, [(15.5, 20.5), (60.5, 30.5), (40.5, 50.5)])
    editor.set_label("tumor")
    editor.set_radius(2.5)
    stroke(viewer, [(30.5, 30.5), (34.5, 31.5)])
    stroke(viewer, [(70.5, 5.5), (71.5, 5.5)])
    editor.set_tool(Tool.ERASER)
    editor.set_label("liver")
    editor.set_radius(1.5)
    click(viewer, 45.5, 35.5)  # a hole in the liver
    return viewer.masks()
