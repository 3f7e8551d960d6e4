"""Starts the Qt application and the main window."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QThreadPool
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from dsaviewer.gui.settings import APPLICATION, ORGANIZATION
from dsaviewer.io.app_log import start_log
from dsaviewer.resources import resources_dir

_SHUTDOWN_WAIT_MS = 5000


def run_viewer(
    path: Path | None = None, weights: Path | None = None, device: str | None = None
) -> int:
    """Show the viewer, opening ``path`` when given; returns the exit status. The analysis
    uses the weights in ``weights`` (default: the bundled ones) on ``device`` (default: the
    best available); neither is loaded before the first analysis."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANIZATION)
    icon = resources_dir() / "icons" / "dsaviewer.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    configure_pyqtgraph()
    with contextlib.suppress(OSError):  # a read-only profile: run without a log file
        start_log()
    # After the options above are set: pyqtgraph reads some of them when items are made.
    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
    from dsaviewer.gui.main_window import MainWindow

    window = MainWindow(analyze=PipelineAnalyzer(weights, device=device))
    window.show()
    if path is not None:
        window.open_path(path)
    status = app.exec()
    # A worker may still be finishing (an analysis stops only between stages); let it end
    # before Python shuts down under it.
    QThreadPool.globalInstance().waitForDone(_SHUTDOWN_WAIT_MS)
    return status


def configure_pyqtgraph() -> None:
    """Row-major images (numpy's (row, column), the frames' own order) on a dark background,
    as DICOM viewers show angiograms; and a short GIL switch interval.

    Loading, analysis and export run in Python worker threads. With the default 5 ms
    interval every hand-over of the GIL back to the UI thread can wait up to 5 ms, and a
    repaint makes dozens of them; 1 ms keeps the event loop's stalls short.
    """
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="k")
    sys.setswitchinterval(0.001)
