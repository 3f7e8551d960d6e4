"""Takes docs/screenshot-parametric.png (the viewer's Parametric dock on a run after its
analysis: time to peak colour-coded, a drawn region, the time-density curves) and
docs/screenshot-compare.png (that run and its post-embolisation control run side by side).

The runs are a generated pre/post-embolisation pair (training.synth.embolisation) at the
papers' frame size; the analysis is the real pipeline on ``--weights`` (default: bundled).
Run under a virtual X server:

    xvfb-run -s "-screen 0 1920x1200x24" .venv/bin/python benchmarks/screenshot_parametric.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from dsaviewer.gui.app import configure_pyqtgraph
from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
from dsaviewer.gui.settings import AUTO_ANALYZE
from dsaviewer.resources import weights_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot import settle, wait_for  # noqa: E402  (the viewer screenshot's helpers)

PROJECT = Path(__file__).resolve().parent.parent
WINDOW_SIZE = (1600, 1000)


def generated_pair(folder: Path) -> tuple[Path, Path]:
    from training.synth import SynthOptions
    from training.synth.case_writer import write_case
    from training.synth.embolisation import Embolisation, generate_pair
    from training.synth.options import PAPER_SIZE

    options = SynthOptions(sizes=((PAPER_SIZE, 1.0),), formats=(("avi", 1.0),),
                           p_inverted=0.0, p_rich_blood=1.0, max_tumors=2, frames=(24, 24))
    embolisation = Embolisation(stain_remaining=0.25, flow="slowed", slowing=1.5,
                                shift_px=(14.0, -9.0), rotation_deg=2.0)
    pair = generate_pair(7, 3, options, embolisation)
    print(f"truth: blush reduction {100 * pair.blush_reduction:.1f} %")
    return write_case(pair.pre, folder), write_case(pair.post, folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=weights_dir())
    parser.add_argument("--out", type=Path, default=PROJECT / "docs")
    args = parser.parse_args()

    app = QApplication(sys.argv[:1])
    configure_pyqtgraph()
    from dsaviewer.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory() as scratch:
        pre, post = generated_pair(Path(scratch))
        settings = QSettings(str(Path(scratch) / "viewer.ini"), QSettings.Format.IniFormat)
        settings.setValue(AUTO_ANALYZE, True)
        window = MainWindow(settings, analyze=PipelineAnalyzer(args.weights))
        window.resize(*WINDOW_SIZE)
        window.show()
        feature = window.parametric
        window.open_path(pre)
        wait_for(window.analysis_finished, 300_000)
        if feature.panel.maps is None:
            wait_for(feature.panel.maps_ready, 60_000)
        feature.dock.raise_()
        settle(300)
        # Room for the map: the dock wide, and tall beside the overlay and response docks.
        window.resizeDocks([feature.dock], [820], Qt.Orientation.Horizontal)
        overlays, analysis, response = (window.findChild(QDockWidget, name)
                                        for name in ("Overlays", "Analysis", "TACE_response"))
        window.resizeDocks([overlays, analysis, response], [60, 1000, 60],
                           Qt.Orientation.Vertical)
        settle(500)
        feature.panel.map_view.add_roi("ellipse")
        window.cine.seek(window.model.key_frame)
        window.frame_view.fit()
        settle(800)
        args.out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out / "screenshot-parametric.png"))

        feature.compare_with(str(post))
        while not feature.compare_views:
            settle(200)
        view = feature.compare_views[0]
        view.resize(*WINDOW_SIZE)
        view.show_moment(3.0)
        settle(800)
        view.grab().save(str(args.out / "screenshot-compare.png"))
        print(view.summary.text())
        view.close()
        window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
