"""File > PACS…: search a PACS node for XA/RF series, retrieve one into the per-user cache
with a progress bar and Cancel, and open it. Every transfer runs off the UI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QDate, QSettings, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.gui.background.workers import TaskHandle, run_in_background, serial_pool
from dsaviewer.gui.pacs.nodes import own_aet, read_nodes
from dsaviewer.io.pacs import MODALITIES, PacsNode, SeriesInfo, SeriesQuery, find_series
from dsaviewer.io.pacs_get import PacsCancelled, RetrievedSeries, get_series

COLUMNS = ("Study date", "Patient ID", "Patient name", "Modality", "Frames", "Series")
ANY = "Any"


class PacsDialog(QDialog):
    """``open_requested(folder)`` asks the window to open a retrieved series."""

    open_requested = Signal(object)  # Path
    retrieved = Signal(object)  # RetrievedSeries

    def __init__(self, settings: QSettings, cache_dir: str | Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS")
        self.settings = settings
        self.cache_dir = Path(cache_dir)
        self.series: list[SeriesInfo] = []
        self.last_retrieved: RetrievedSeries | None = None
        self._handle: TaskHandle | None = None
        # Transfers get their own threads: they must not queue behind an analysis.
        self.pool = serial_pool(self)

        self.node_box = QComboBox()
        self.nodes = read_nodes(settings)
        for node in self.nodes:
            self.node_box.addItem(f"{node.name} ({node.called_aet}@{node.host}:{node.port})")
        self.patient_id = QLineEdit()
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("e.g. DOE^*")
        self.use_dates = QCheckBox("Study dates")
        self.date_from = QDateEdit(QDate.currentDate().addMonths(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.modality = QComboBox()
        self.modality.addItems([*MODALITIES, ANY])
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.search)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(self.retrieve)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.retrieve_button = QPushButton("Retrieve")
        self.retrieve_button.clicked.connect(self.retrieve)
        self.cancel_button = QPushButton("Cancel transfer")
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self._open)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("PACS", self.node_box)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Patient name", self.patient_name)
        dates = QHBoxLayout()
        for widget in (self.use_dates, self.date_from, QLabel("to"), self.date_to):
            dates.addWidget(widget)
        form.addRow(dates)
        form.addRow("Modality", self.modality)
        actions = QHBoxLayout()
        for button in (self.retrieve_button, self.cancel_button, self.open_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.search_button)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(actions)
        self.resize(820, 520)
        if not self.nodes:
            self.status.setText("No PACS node is configured: add one in File > PACS nodes…")
        self._update_buttons()

    # ----- search -----
    def current_node(self) -> PacsNode | None:
        index = self.node_box.currentIndex()
        if not 0 <= index < len(self.nodes):
            return None
        return self.nodes[index].node(own_aet(self.settings))

    def query(self) -> SeriesQuery:
        modality = self.modality.currentText()
        dates = self.use_dates.isChecked()
        return SeriesQuery(
            patient_id=self.patient_id.text().strip(),
            patient_name=self.patient_name.text().strip(),
            date_from=self.date_from.date().toPython() if dates else None,
            date_to=self.date_to.date().toPython() if dates else None,
            modality="" if modality == ANY else modality,
        )

    def search(self) -> None:
        node = self.current_node()
        if node is None or self._handle is not None:
            return
        query = self.query()
        self._busy(f"Searching {node.describe()}…")
        run_in_background(lambda: find_series(node, query), self._found, self._failed,
                          self.pool)

    def _found(self, series: list[SeriesInfo]) -> None:
        self._idle(f"{len(series)} series found.")
        self.series = series
        self.table.setRowCount(len(series))
        for row, info in enumerate(series):
            values = (info.study_date, info.patient_id, info.patient_name, info.modality,
                      str(info.number_of_frames), info.series_description or info.series_number)
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self._update_buttons()

    # ----- retrieve -----
    def selected(self) -> SeriesInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.series[rows[0].row()] if rows else None

    def retrieve(self) -> None:
        node, info = self.current_node(), self.selected()
        if node is None or info is None or self._handle is not None:
            return
        handle = self._handle = TaskHandle(self)
        handle.progressed.connect(self._progressed)
        self.progress.setRange(0, 0)  # busy until the first instance says how many
        self.progress.setVisible(True)
        self._busy(f"Retrieving {info.number_of_frames} frame(s) from {node.describe()}…")

        def report(done: int, total: int | None) -> None:
            handle.report(done / total if total else -1.0,
                          f"{done} of {total} instance(s)" if total else f"{done} instance(s)")

        cache = self.cache_dir
        run_in_background(
            lambda: get_series(node, info.study_uid, info.series_uid, cache, progress=report,
                               cancel=handle.cancel_event),
            self._retrieved, self._failed, self.pool,
        )

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self.status.setText("Cancelling…")

    def _progressed(self, fraction: float, message: str) -> None:
        if fraction >= 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(fraction * 1000))
        self.status.setText(f"Retrieving… {message}")

    def _retrieved(self, retrieved: RetrievedSeries) -> None:
        self.last_retrieved = retrieved
        self._idle(f"Retrieved {len(retrieved.files)} instance(s). Open shows the series.")
        self.retrieved.emit(retrieved)

    def _open(self) -> None:
        if self.last_retrieved is not None:
            self.open_requested.emit(self.last_retrieved.folder)
            self.accept()

    # ----- state -----
    def _failed(self, error: Exception, _trace: str) -> None:
        cancelled = isinstance(error, PacsCancelled)
        self._idle("Transfer cancelled; nothing was kept." if cancelled else str(error))

    def _busy(self, message: str) -> None:
        self.status.setText(message)
        if self._handle is None:
            self._handle = TaskHandle(self)  # a search: no progress, blocks a second start
        self._update_buttons()

    def _idle(self, message: str) -> None:
        self._handle = None
        self.progress.setVisible(False)
        self.status.setText(message)
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self._handle is not None
        self.search_button.setEnabled(not running and bool(self.nodes))
        self.retrieve_button.setEnabled(not running and self.selected() is not None)
        self.cancel_button.setEnabled(running)
        self.open_button.setEnabled(not running and self.last_retrieved is not None)

    def reject(self) -> None:
        self.cancel()  # a transfer must not go on behind a closed dialog
        super().reject()
