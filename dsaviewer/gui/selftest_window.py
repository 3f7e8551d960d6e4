"""The viewer's main window driven by ``dsaviewer --selftest``: started the way the program
starts it, a case opened and analysed through the same signals a user's clicks go through, and
the key frame painted with its overlays the way the exports paint it.

The Qt platform must be chosen before this module is imported (the self-test picks
``offscreen``, so it runs on a locked workstation, a service account or a CI runner alike).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QThreadPool, QTimer, qInstallMessageHandler, qVersion
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QDialog

from dsaviewer.app.case_session import overlays_for
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.gui.app import configure_pyqtgraph
from dsaviewer.gui.background.analysis_runner import AnalyzeFunction
from dsaviewer.gui.export.frame_render import render_frame
from dsaviewer.gui.settings import APPLICATION, AUTO_ANALYZE, ORGANIZATION, open_settings

_SHUTDOWN_WAIT_MS = 10_000
# Said by the offscreen platform for every window it cannot size like a screen would: noise
# in a report meant for support staff.
_OFFSCREEN_NOISE = "does not support propagateSizeHints"


class SelftestWindow:
    """The main window on screen (offscreen), painted once; ``analyze_case`` opens a case in
    it and waits for the analysis. ``settings_path``: a throw-away INI file, so the user's
    own settings are neither read nor changed."""

    def __init__(self, settings_path: Path, analyze: AnalyzeFunction) -> None:
        self._previous_handler = qInstallMessageHandler(_without_offscreen_noise)
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self.app.setApplicationName(APPLICATION)
        self.app.setOrganizationName(ORGANIZATION)
        configure_pyqtgraph()
        from dsaviewer.gui.main_window import MainWindow  # after pyqtgraph's options, as app.py

        settings = open_settings(settings_path)
        settings.setValue(AUTO_ANALYZE, False)  # analyze_case starts the run itself
        self.window = MainWindow(settings, analyze=analyze)
        self.window.show()
        self.window.grab()  # paints every widget once: the first screen the user would see
        self.app.processEvents()

    @property
    def qt_version(self) -> str:
        return qVersion()

    @property
    def platform(self) -> str:
        return self.app.platformName()

    def analyze_case(self, path: Path, timeout_s: float) -> ViewerModel:
        """Open ``path``, run the analysis as the Analysis panel's button does and return the
        viewer model holding the result. RuntimeError with the window's own message when the case
        does not open, the analysis fails, or nothing comes back within ``timeout_s``."""
        window = self.window
        loop = QEventLoop()
        errors: list[str] = []

        def fail(message: str) -> None:
            errors.append(message)
            # The window may answer with a modal message box; nobody is there to close it.
            QTimer.singleShot(0, self._dismiss_dialogs)
            loop.quit()

        connections = [
            (window.case_opened, lambda _session: window.run_analysis()),
            (window.analysis_finished, lambda _result: loop.quit()),
            (window.open_failed, lambda message: fail(f"the case did not open: {message}")),
            (window.runner.failed, lambda message, _request: fail(f"analysis failed: {message}")),
            (window.runner.cancelled, lambda _request: fail("the analysis was cancelled")),
        ]
        for signal, slot in connections:
            signal.connect(slot)
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: fail(f"no analysis result after {timeout_s:.0f} s"))
        timer.start(round(timeout_s * 1000))
        try:
            window.open_path(path)
            loop.exec()
        finally:
            timer.stop()
            for signal, slot in connections:
                signal.disconnect(slot)
        if errors:
            raise RuntimeError(errors[0])
        model = window.model
        if model.case is None or model.result is None:
            raise RuntimeError("the window reported an analysis but holds no result")
        self.window.grab()  # and paints the result, as the screen would show it
        return model

    def render_key_frame(
        self, model: ViewerModel, opacities: Mapping[str, float], with_legend: bool = False
    ) -> np.ndarray:
        """The result's key frame with the layers in ``opacities`` (layer name -> opacity),
        painted by the exports' renderer at the original resolution: ``(H, W, 3)`` uint8 RGB."""
        result, case = model.result, model.case
        image = render_frame(
            case.video.frames[result.key_frame],
            case.window,
            False,
            overlays_for(case.video, result.key_frame, result),
            opacities,
            result.lesions,
            with_legend=with_legend,
        )
        return qimage_to_rgb(image)

    def close(self) -> None:
        """Close the window as the user would (its state is saved) and let the workers end."""
        self.window.close()
        QThreadPool.globalInstance().waitForDone(_SHUTDOWN_WAIT_MS)
        self.app.processEvents()
        qInstallMessageHandler(self._previous_handler)

    def _dismiss_dialogs(self) -> None:
        for widget in self.app.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()


def _without_offscreen_noise(_mode: object, _context: object, message: str) -> None:
    if _OFFSCREEN_NOISE not in message and sys.stderr is not None:
        sys.stderr.write(message + "\n")


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A copy of ``image`` as ``(H, W, 3)`` uint8 RGB."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    height, width = rgba.height(), rgba.width()
    rows = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.bytesPerLine() * height)
    return rows.reshape(height, rgba.bytesPerLine())[:, : width * 4].reshape(
        height, width, 4)[..., :3].copy()
