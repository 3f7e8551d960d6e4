"""How fast the mask editor follows the mouse on a 1024 x 1024 frame.

Measured: one brush stroke segment (the capsule between two mouse samples, computed and
applied), the overlay's dirty-rectangle update (colour buffer, then Qt's repaint of that
rectangle), the same repaint for the whole overlay and for pyqtgraph's ImageItem (what a
full-image update would cost), one real mouse-move event through the whole editor, switching
to an annotated frame, and saving one frame as an exact Labelme file. Target: a mouse move
handled well within one 100 Hz mouse sample (10 ms), so painting never lags.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_painting.py``
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QPointF, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dsaviewer.core.mask_editing import brush_segment  # noqa: E402
from dsaviewer.gui.annotation.editor import MaskEditor  # noqa: E402
from dsaviewer.gui.annotation.mask_layer import MaskLayerItem  # noqa: E402
from dsaviewer.gui.annotation.tools import Tool  # noqa: E402
from dsaviewer.io.frame_labels import write_frame_labels  # noqa: E402

SIZE = 1024
RADII = (3.0, 10.0, 30.0)
# Mouse samples arrive at about 100 Hz: 8 px apart at a careful pace, 40 px on a quick flick.
STEPS = (8.0, 40.0)
SEGMENTS = 200


def anatomy() -> dict[str, np.ndarray]:
    liver = np.zeros((SIZE, SIZE), np.uint8)
    cv2.ellipse(liver, (560, 480), (330, 250), 12, 0, 360, 1, -1)
    tumor = np.zeros((SIZE, SIZE), np.uint8)
    cv2.circle(tumor, (600, 470), 70, 1, -1)
    cv2.circle(tumor, (420, 560), 25, 1, -1)
    return {"liver": liver.astype(bool), "tumor": tumor.astype(bool)}


def path(step: float, count: int) -> list[tuple[float, float]]:
    """A wandering stroke of ``count`` samples ``step`` pixels apart, inside the frame."""
    points, x, y, angle = [], 300.0, 300.0, 0.0
    rng = np.random.default_rng(0)
    for _ in range(count):
        points.append((x, y))
        angle += rng.normal(0, 0.4)
        x = float(np.clip(x + step * np.cos(angle), 50, SIZE - 50))
        y = float(np.clip(y + step * np.sin(angle), 50, SIZE - 50))
    return points


def timed_ms(run: Callable[[], None], repeats: int) -> tuple[float, float]:
    """Median and 95th percentile in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def settle(app: QApplication) -> None:
    """Let layout and first paints finish, so they are not timed as updates."""
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)


def report(name: str, median: float, p95: float) -> None:
    print(f"  {name:<58} {median:7.3f} ms  (p95 {p95:7.3f})")


def bench_segments() -> None:
    print(f"Brush segment on {SIZE}x{SIZE} (capsule computed + applied), {SEGMENTS} per case:")
    for radius in RADII:
        for step in STEPS:
            mask = anatomy()["tumor"]
            points = path(step, SEGMENTS + 1)
            pairs = iter(zip(points, points[1:], strict=False))

            def one(mask=mask, pairs=pairs, radius=radius) -> None:
                start, end = next(pairs)
                edit = brush_segment(mask, start, end, radius)
                if edit is not None:
                    edit.apply(mask)

            name = f"radius {radius:4.0f} px, {step:3.0f} px between samples"
            report(name, *timed_ms(one, SEGMENTS))


def bench_overlay(app: QApplication) -> None:
    widget = pg.GraphicsLayoutWidget()
    widget.resize(900, 900)
    view = widget.addViewBox(lockAspect=True, invertY=True)
    frame = np.full((SIZE, SIZE), 90, np.uint8)
    view.addItem(pg.ImageItem(frame, axisOrder="row-major", levels=(0, 255)))
    layer = MaskLayerItem((0, 255, 255))
    view.addItem(layer, ignoreBounds=True)
    widget.show()
    view.autoRange(padding=0)
    masks = anatomy()
    mask = masks["tumor"]
    layer.set_mask(mask)
    app.processEvents()

    print(f"Overlay update on {SIZE}x{SIZE}, shown in a 900x900 view (repaint included):")
    settle(app)
    points = path(8.0, SEGMENTS + 1)
    boxes = []
    for start, end in zip(points, points[1:], strict=False):
        edit = brush_segment(mask, start, end, 10.0)
        if edit is not None:
            edit.apply(mask)
            boxes.append(edit.bbox)
    box_iter = iter(boxes * 2)
    report(
        "dirty rectangle, colour buffer only (radius 10 segment)",
        *timed_ms(lambda: layer.update_region(mask, next(box_iter)), len(boxes)),
    )

    def dirty_and_repaint() -> None:
        layer.update_region(mask, next(box_iter))
        app.processEvents()

    box_iter = iter(boxes * 2)
    report("dirty rectangle + Qt repaint of it", *timed_ms(dirty_and_repaint, len(boxes)))

    def whole_layer() -> None:
        layer.set_mask(mask)
        app.processEvents()

    report("whole overlay rebuilt + repainted (frame switch)", *timed_ms(whole_layer, 30))

    rgba = np.zeros((SIZE, SIZE, 4), np.uint8)
    rgba[mask] = (0, 255, 255, 255)
    image_item = pg.ImageItem(axisOrder="row-major")
    view.addItem(image_item, ignoreBounds=True)

    def image_item_update() -> None:
        image_item.setImage(rgba, levels=(0, 255), autoLevels=False)
        app.processEvents()

    report("for comparison: pyqtgraph ImageItem.setImage + repaint",
           *timed_ms(image_item_update, 30))
    widget.close()


def bench_editor(app: QApplication) -> None:
    # pyqtgraph drops mouse moves closer than 10 ms; measure every event we send.
    pg.setConfigOption("mouseRateLimit", -1)
    widget = pg.GraphicsLayoutWidget()
    widget.resize(900, 900)
    view = widget.addViewBox(lockAspect=True, invertY=True)
    frames = np.full((3, SIZE, SIZE), 90, np.uint8)
    view.addItem(pg.ImageItem(frames[0], axisOrder="row-major", levels=(0, 255)))
    widget.show()
    view.autoRange(padding=0)
    with tempfile.TemporaryDirectory() as folder:
        case = Path(folder) / "case"
        editor = MaskEditor(view, widget, fallback_recovery_root=Path(folder) / "user")
        editor.open_case(case, frames, labels_dir=case / "labels")
        editor.set_tool(Tool.BRUSH)
        editor.set_radius(10)
        settle(app)
        port = widget.viewport()

        def at(point: tuple[float, float]):
            return widget.mapFromScene(view.mapViewToScene(QPointF(*point)))

        print("Through the whole editor (mouse event -> capsule -> overlay -> repaint):")
        points = iter(path(8.0, 1000))
        QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         at(next(points)))

        def move() -> None:
            QTest.mouseMove(port, at(next(points)))
            app.processEvents()

        report("one mouse move while painting, radius 10", *timed_ms(move, 300))
        start = time.perf_counter()
        QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                           at(next(points)))
        report("releasing: the 300-segment stroke made one undo step",
               (time.perf_counter() - start) * 1000, float("nan"))

        editor.set_prediction(*(anatomy()[label] for label in ("tumor", "liver")))
        editor.set_frame(1)
        editor.accept_prediction()
        frame = iter([0, 1] * 20)
        report("switching to an annotated frame", *timed_ms(
            lambda: (editor.set_frame(next(frame)), app.processEvents()), 20))
        masks = editor.store.get(1).masks
        report("saving one frame as an exact Labelme file", *timed_ms(
            lambda: write_frame_labels(case / "labels", 1, frames[1], masks), 5))
        editor.close_case()
    widget.close()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    bench_segments()
    bench_overlay(app)
    bench_editor(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
