"""The viewer's responsiveness: start-up, opening a run, and cine playback with overlays.

- start-up: seconds from launching ``python`` to the main window shown (target < 2 s), and
  whether torch was imported by then or after opening a video (it must not be);
- opening a 30-frame 1024 x 1024 run: the longest the event loop went without running a
  5 ms heartbeat timer (target < 50 ms);
- playback of 1024 x 1024 frames with the tumor and liver overlays on: the rate achieved at
  30 fps chosen, the fastest rate the machine can paint (every frame repainted, no timer),
  and the longest event-loop stall while playing (targets >= 30 fps, < 50 ms).

Offscreen Qt (QT_QPA_PLATFORM=offscreen) paints into memory with the same raster engine as
a desktop, minus the final copy to the screen. The analysis is a stand-in that returns
masks at once: this measures the viewer, not the models (benchmarks/bench_pipeline.py does).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_playback.py``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from dsaviewer.core.difference import frame_difference  # noqa: E402
from dsaviewer.core.keyframe import select_key_frame  # noqa: E402
from dsaviewer.core.lesions import extract_lesions  # noqa: E402
from dsaviewer.gui.background.heartbeat import Heartbeat
from dsaviewer.gui.playback.playback_bar import MAX_FPS  # noqa: E402
from dsaviewer.gui.settings import AUTO_ANALYZE  # noqa: E402
from dsaviewer.inference.results import AnalysisResult  # noqa: E402
from dsaviewer.io.writers import write_avi  # noqa: E402

N_FRAMES, SIDE, FPS = 30, 1024, 30.0


def synthetic_run() -> np.ndarray:
    """A bright field with a blush that fills over time, a black border and noise."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:SIDE, 0:SIDE].astype(np.float32)
    liver = np.exp(-((rows - 500) ** 2 + (cols - 540) ** 2) / (2 * 260.0**2))
    stain = np.exp(-((rows - 420) ** 2 + (cols - 610) ** 2) / (2 * 45.0**2))
    frames = np.empty((N_FRAMES, SIDE, SIDE), dtype=np.uint8)
    for t in range(N_FRAMES):
        image = 90 + 60 * liver + min(t, 20) * 4 * stain + rng.normal(0, 3, (SIDE, SIDE))
        image[:, :60] = 0
        frames[t] = np.clip(image, 0, 255)
    return frames


def instant_analyze(video, clinical=None, key_frame=None, progress=None, cancel=None,
                    key_frame_source="override") -> AnalysisResult:
    """Masks from thresholds of the smoothed key frame, returned at once."""
    index = select_key_frame(video.frames).index if key_frame is None else key_frame
    frame = cv2.GaussianBlur(video.frames[index], (0, 0), 4).astype(np.float32)
    tumor_probability = np.clip((frame - 150) / 60, 0, 1).astype(np.float32)
    liver_probability = np.clip((frame - 110) / 20, 0, 1).astype(np.float32)
    tumor, liver = tumor_probability > 0.5, liver_probability > 0.5
    return AnalysisResult(
        key_frame=index, key_frame_auto=index, key_frame_source="auto",
        tumor_probability=tumor_probability, liver_probability=liver_probability,
        tumor_mask=tumor, liver_mask=liver,
        frame_difference=frame_difference(video.frames, index),
        lesions=extract_lesions(tumor, tumor_probability, video.pixel_spacing_mm),
        prediction=None, device="none", backend="stand-in", timings_ms={"total": 0.0},
    )


def wait_for(signal, timeout_ms: int = 60_000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def run_for(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def measure_start_up(video_path: Path, settings_path: Path) -> tuple[float, bool, bool]:
    child = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QEventLoop, QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from dsaviewer.gui.app import configure_pyqtgraph
        configure_pyqtgraph()
        from dsaviewer.gui.main_window import MainWindow
        window = MainWindow(QSettings({str(settings_path)!r}, QSettings.Format.IniFormat))
        window.show()
        app.processEvents()
        print("shown", "torch" in sys.modules, flush=True)
        loop = QEventLoop()
        window.case_opened.connect(loop.quit)
        QTimer.singleShot(60000, loop.quit)
        window.open_path(Path({str(video_path)!r}))
        loop.exec()
        print("opened", "torch" in sys.modules, flush=True)
    """)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    shown_line = process.stdout.readline()
    shown_s = time.perf_counter() - started
    opened_line = process.stdout.readline()
    process.wait()
    return shown_s, shown_line.split()[-1] == "True", opened_line.split()[-1] == "True"


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from dsaviewer.gui.app import configure_pyqtgraph

    configure_pyqtgraph()
    from dsaviewer.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        case = root / "case"
        write_avi(case / "video.avi", synthetic_run(), FPS)
        settings = root / "settings.ini"

        startup_settings = QSettings(str(root / "startup.ini"), QSettings.Format.IniFormat)
        startup_settings.setValue(AUTO_ANALYZE, False)  # opening alone must not load torch
        startup_settings.sync()
        shown_s, torch_at_start, torch_after_open = measure_start_up(case / "video.avi",
                                                                     root / "startup.ini")
        print(f"start-up: window shown {shown_s:.2f} s after launch (target < 2 s); torch "
              f"imported at start: {torch_at_start}, after opening a video: {torch_after_open}")

        window = MainWindow(QSettings(str(settings), QSettings.Format.IniFormat),
                            analyze=instant_analyze)
        window.resize(1600, 1000)
        window.show()
        run_for(300)
        with Heartbeat() as beat:
            window.open_path(case)
            wait_for(window.analysis_finished)
            run_for(500)  # overlays are coloured in a worker after the result arrives
        print(f"open a {N_FRAMES}-frame {SIDE}x{SIDE} run (+ analysis stand-in): longest "
              f"event-loop stall {beat.max_gap_ms:.1f} ms (target < 50 ms), UI thread busy "
              f"at most {beat.max_busy_ms:.1f} ms of it")

        layers = window.frame_view.overlays
        shown = [name for name in ("tumor", "liver") if layers.is_shown(name)]
        view = window.frame_view.viewport()
        n_paint = 4 * N_FRAMES
        started = time.perf_counter()
        for step in range(n_paint):
            window.cine.seek(step % N_FRAMES)
            view.repaint()  # paint now, as a display refresh would
        paint_fps = n_paint / (time.perf_counter() - started)
        print(f"paint rate, {SIDE}x{SIDE} frames with overlays {'+'.join(shown)}: "
              f"{paint_fps:.0f} frames/s unthrottled")

        for chosen in (FPS, MAX_FPS):
            window.playback.fps_box.setValue(chosen)
            window.cine.seek(0)
            with Heartbeat() as beat:
                window.cine.play()
                run_for(3000)
                achieved = window.cine.state.achieved_fps()
                window.cine.pause()
            print(f"playback at {chosen:g} fps chosen: {achieved:.1f} fps achieved and shown "
                  f"in the bar (target >= 30), longest event-loop stall {beat.max_gap_ms:.1f} "
                  f"ms (UI thread busy {beat.max_busy_ms:.1f} ms)")
        window.close()
    app.quit()


if __name__ == "__main__":
    main()
