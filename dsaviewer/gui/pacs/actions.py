"""The window's PACS and DICOM actions: File > PACS…, PACS nodes…, Export to DICOM… and Send
results to PACS. They read the open case from the window and run every transfer and export
off the UI thread. pynetdicom and highdicom take seconds to import, so they are imported when
an action is first used, not when the window starts."""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.gui.settings import LAST_FOLDER
from dsaviewer.resources import pacs_cache_dir

if TYPE_CHECKING:
    from dsaviewer.gui.main_window import MainWindow
    from dsaviewer.gui.pacs.dialog import PacsDialog
    from dsaviewer.gui.pacs.preferences import PacsPreferencesDialog

EXPORT_TITLE = "Export to DICOM"
SEND_TITLE = "Send results to PACS"


class PacsActions:
    """Adds the actions to ``menu`` and handles them for ``window``."""

    def __init__(self, window: MainWindow, menu: QMenu, cache_dir: Path | None = None) -> None:
        # A weak reference: the window owns these actions, and a cycle back to it would keep
        # its Python side alive after Qt deleted it, for callbacks to run on dead widgets.
        self._window = weakref.ref(window)
        self.cache_dir = cache_dir or pacs_cache_dir()
        self.dialog: PacsDialog | None = None
        # Exports and sends get their own thread: they must not queue behind an analysis.
        self.pool = serial_pool(window)
        self.pacs = menu.addAction("&PACS…", self.open_dialog)
        self.nodes = menu.addAction("PACS &nodes…", self.edit_nodes)
        self.export = menu.addAction("Export to &DICOM…", self.ask_export)
        self.send = menu.addAction("Send results to PAC&S…", self.ask_send)

    @property
    def window(self) -> MainWindow:
        window = self._window()
        if window is None:
            raise RuntimeError("the window is gone")
        return window

    # ----- query / retrieve -----
    def open_dialog(self) -> PacsDialog:
        from dsaviewer.gui.pacs.dialog import PacsDialog

        self.dialog = PacsDialog(self.window.settings, self.cache_dir, self.window)
        self.dialog.open_requested.connect(self.window.open_path)
        self.dialog.show()
        return self.dialog

    def edit_nodes(self) -> PacsPreferencesDialog:
        from dsaviewer.gui.pacs.preferences import PacsPreferencesDialog

        dialog = PacsPreferencesDialog(self.window.settings, self.window)
        dialog.show()
        return dialog

    # ----- export and send -----
    def ask_export(self) -> None:
        if not self._has_result(EXPORT_TITLE):
            return
        start = str(self.window.settings.value(LAST_FOLDER, ""))
        folder = QFileDialog.getExistingDirectory(self.window, EXPORT_TITLE, start)
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> None:
        """Write the SEG, SR and secondary capture of the open case's result into
        ``folder/dicom/`` in the background."""
        from dsaviewer.inference.dicom_results import write_dicom_results

        video, result, scope, weights = self._analysis()
        self.window.statusBar().showMessage("Writing DICOM results…")

        def done(paths: list[Path]) -> None:
            self.window.statusBar().showMessage(
                f"Wrote {len(paths)} DICOM objects to {paths[0].parent}", 8000)

        run_in_background(lambda: write_dicom_results(folder, video, result, weights, scope), done,
                          lambda error, _trace: self._fail(EXPORT_TITLE, error), self.pool)

    def ask_send(self) -> None:
        from dsaviewer.gui.pacs.nodes import read_nodes

        if not self._has_result(SEND_TITLE):
            return
        nodes = read_nodes(self.window.settings)
        if not nodes:
            QMessageBox.warning(self.window, SEND_TITLE,
                                "No PACS node is configured: add one in File > PACS nodes…")
            return
        names = [f"{node.name} ({node.called_aet}@{node.host}:{node.port})" for node in nodes]
        index = 0
        if len(nodes) > 1:
            choice, ok = QInputDialog.getItem(self.window, SEND_TITLE, "Send to", names, 0,
                                              False)
            if not ok:
                return
            index = names.index(choice)
        self.send_to(index)

    def send_to(self, node_index: int) -> None:
        """Write the DICOM results to a temporary folder and C-STORE them, in the
        background."""
        from dsaviewer.gui.pacs.nodes import own_aet, read_nodes
        from dsaviewer.inference.dicom_results import write_dicom_results
        from dsaviewer.io.pacs_send import send_files

        node = read_nodes(self.window.settings)[node_index].node(own_aet(self.window.settings))
        video, result, scope, weights = self._analysis()
        self.window.statusBar().showMessage(f"Sending results to {node.describe()}…")

        def work() -> int:
            with tempfile.TemporaryDirectory(prefix="dsaviewer-send-") as temporary:
                paths = write_dicom_results(temporary, video, result, weights, scope)
                return len(send_files(node, paths))

        def done(count: int) -> None:
            self.window.statusBar().showMessage(
                f"Sent {count} DICOM objects (SEG, SR, secondary capture) to "
                f"{node.describe()}", 8000)

        run_in_background(work, done, lambda error, _trace: self._fail(SEND_TITLE, error),
                          self.pool)

    def _analysis(self) -> tuple:
        """The open run, its result and scope decision, and the weights folder."""
        model = self.window.model
        return model.case.video, model.result, model.scope, self.window.runner.weights_dir

    def _has_result(self, title: str) -> bool:
        model = self.window.model
        if model.case is None or model.result is None:
            QMessageBox.warning(self.window, title, "Open a DICOM run and analyse it first.")
            return False
        return True

    def _fail(self, title: str, error: Exception) -> None:
        self.window.statusBar().showMessage(f"{title} failed", 8000)
        QMessageBox.warning(self.window, title, str(error))
