"""Takes docs/screenshot-viewer.png: the real viewer window on a case after its analysis.

With ``--annotation`` it takes docs/screenshot-annotation.png instead: the mask editor's dock
in front, the Brush chosen, and the key frame's labels (the demo case has some) being edited.

The case is ``--case`` or the bundled demo case (copied first: opening a case saves the
viewer's state into it); without a demo case a synthetic DICOM case is generated with the
training package's phantom. The analysis is the real pipeline on ``--weights`` (default:
the bundled weights).

Run under a virtual X server so the window is drawn by the real platform plugin:

    xvfb-run -s "-screen 0 1920x1200x24" .venv/bin/python benchmarks/screenshot.py [--annotation]

``--screen`` photographs the whole screen instead (with a window manager running, its title
bar too), the window placed as the viewer places it on a screen of that size: this is how a
1366x768 laptop shows whether every panel fits:

    xvfb-run -s "-screen 0 1366x768x24" sh -c 'openbox & sleep 1; \
        .venv/bin/python benchmarks/screenshot.py --screen --out /tmp/1366.png'
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPointF, QSettings, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from dsaviewer.gui.annotation.tools import Tool
from dsaviewer.gui.app import configure_pyqtgraph
from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
from dsaviewer.gui.settings import AUTO_ANALYZE
from dsaviewer.resources import demo_working_copy, weights_dir

PROJECT = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1600, 1000)


def synthetic_case(folder: Path) -> Path:
    from training.synth.dataset_writer import write_dataset
    from training.synth.options import PAPER_SIZE, SynthOptions

    options = SynthOptions(sizes=((PAPER_SIZE, 1.0),), formats=(("dcm", 1.0),), p_inverted=0.0)
    summary = write_dataset(folder / "dataset", n=1, seed=7, options=options)
    return folder / "dataset" / summary.cases[0].case_id


def demo_case(folder: Path) -> Path | None:
    """A scratch copy of the bundled demo case, so resources/ is never written to."""
    try:
        return demo_working_copy(folder)
    except OSError:
        return None


def wait_for(signal, timeout_ms: int) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def show_brush(window) -> None:
    """The annotation dock in front, the Brush on the tumor label (drawn above the liver), its
    outline under a mouse resting on the image."""
    window.annotation.raise_()
    settle(200)
    editor = window.annotation.editor
    editor.set_tool(Tool.BRUSH)
    editor.set_label("tumor")
    editor.set_radius(16)
    height, width = window.model.case.video.frame_shape
    view = window.frame_view.view
    point = view.mapViewToScene(QPointF(width * 0.3, height * 0.6))
    QTest.mouseMove(window.frame_view.viewport(), window.frame_view.mapFromScene(point))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", type=Path, help="case folder or video (default: demo case)")
    parser.add_argument("--weights", type=Path, default=weights_dir())
    parser.add_argument("--annotation", action="store_true",
                        help="show the mask editor (default --out docs/screenshot-annotation.png)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--screen", action="store_true",
                        help="grab the whole screen; the window keeps the size the viewer "
                             "gives it on this screen")
    args = parser.parse_args()
    name = "screenshot-annotation.png" if args.annotation else "screenshot-viewer.png"
    out = args.out or PROJECT / "docs" / name
    if not (args.weights / "manifest.json").is_file():
        print(f"no weights in {args.weights}: train them or pass --weights", file=sys.stderr)
        return 2

    app = QApplication(sys.argv[:1])
    configure_pyqtgraph()
    from dsaviewer.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as scratch:
        # The cached analysis goes to a per-user folder: a scratch one, not the user's.
        os.environ.setdefault("DSAVIEWER_DATA_DIR", str(Path(scratch) / "user-data"))
        case = args.case or demo_case(Path(scratch)) or synthetic_case(Path(scratch))
        settings = QSettings(str(Path(scratch) / "viewer.ini"), QSettings.Format.IniFormat)
        settings.setValue(AUTO_ANALYZE, True)
        window = MainWindow(settings, analyze=PipelineAnalyzer(args.weights))
        if not args.screen:
            window.resize(*WINDOW_SIZE)
        window.show()
        window.open_path(case)
        wait_for(window.analysis_finished, 300_000)
        settle(1500)  # overlays are coloured in a worker; let the last repaint land
        if window.model.case is None or window.model.result is None:
            print("the case did not open or the analysis failed", file=sys.stderr)
            return 1
        window.frame_view.fit()
        if args.annotation:
            show_brush(window)
        else:
            window.analysis_panel.lesions.selectRow(0)
        settle(300)
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.screen:
            window.screen().grabWindow(0).save(str(out))
        else:
            window.grab().save(str(out))
        print(f"wrote {out} ({window.width()}x{window.height()}) of {case}")
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
