"""Preferences > PACS nodes: the nodes the viewer talks to and our own AE title, with a
C-ECHO test per node (run off the UI thread)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.gui.pacs.nodes import (
    NamedNode,
    own_aet,
    read_nodes,
    set_own_aet,
    write_nodes,
)
from dsaviewer.io.pacs import PacsError, PacsNode, echo

COLUMNS = ("Name", "AE title", "Host", "Port")


class PacsPreferencesDialog(QDialog):
    """Edits the node table; OK stores it (rows with a bad port or AE title are refused
    with the reason, nothing is stored then)."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("PACS nodes")
        self.settings = settings
        self.own_aet = QLineEdit(own_aet(settings))
        self.own_aet.setMaxLength(16)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for node in read_nodes(settings):
            self.add_row(node)
        self.status = QLabel()
        self.status.setWordWrap(True)

        add = QPushButton("Add")
        add.clicked.connect(lambda: self.add_row(NamedNode("PACS", "", "", 104)))
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        self.test_button = QPushButton("Test (C-ECHO)")
        self.test_button.clicked.connect(self.test_selected)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Our AE title", self.own_aet)
        row = QHBoxLayout()
        for button in (add, remove, self.test_button):
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.resize(560, 320)

    def add_row(self, node: NamedNode) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, value in enumerate((node.name, node.called_aet, node.host, str(node.port))):
            self.table.setItem(row, column, QTableWidgetItem(value))

    def nodes(self) -> list[NamedNode]:
        """The table's nodes; PacsError naming the row when one is not valid."""
        nodes = []
        for row in range(self.table.rowCount()):
            name, aet, host, port = (
                (self.table.item(row, column) or QTableWidgetItem("")).text().strip()
                for column in range(len(COLUMNS))
            )
            try:
                node = NamedNode(name or aet, aet, host, int(port))
                node.node(self.own_aet.text().strip() or "X")
            except ValueError:
                raise PacsError(f"row {row + 1}: the port {port!r} is not a number") from None
            except PacsError as error:
                raise PacsError(f"row {row + 1}: {error}") from None
            if not host:
                raise PacsError(f"row {row + 1}: the host is empty")
            nodes.append(node)
        return nodes

    def accept(self) -> None:
        try:
            nodes = self.nodes()
            PacsNode("localhost", 104, "X", self.own_aet.text().strip())  # our title is valid
        except PacsError as error:
            self.status.setText(str(error))
            return
        write_nodes(self.settings, nodes)
        set_own_aet(self.settings, self.own_aet.text().strip())
        super().accept()

    def test_selected(self) -> None:
        row = self.table.currentRow()
        try:
            node = self.nodes()[row if row >= 0 else 0].node(self.own_aet.text().strip())
        except (PacsError, IndexError) as error:
            self.status.setText(str(error) or "add a node first")
            return
        self.status.setText(f"Calling {node.describe()}…")
        self.test_button.setEnabled(False)

        def done(_: object) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(f"{node.describe()} answered C-ECHO.")

        def failed(error: Exception, _trace: str) -> None:
            self.test_button.setEnabled(True)
            self.status.setText(str(error))

        run_in_background(lambda: echo(node), done, failed, serial_pool(self))
