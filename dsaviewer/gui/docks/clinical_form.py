"""The clinical variables form, generated from :data:`CLINICAL_FIELDS`: a field per variable
with its unit and allowed range, a message under each invalid entry, missing values allowed
and shown as missing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.errors import InputError
from dsaviewer.io.clinical import (
    CLINICAL_FIELDS,
    ClinicalField,
    ClinicalVariables,
    format_value,
    parse_value,
    read_clinical_csv,
)

MISSING_TEXT = "missing"
_ERROR_STYLE = "color: #e05050;"


def choose_clinical_row(
    parent: QWidget, path: Path, case_id: str | None
) -> tuple[str, ClinicalVariables] | None:
    """The row of ``case_id`` in the clinical.csv at ``path``, or the row the user picks when
    the file has none for it; None (after saying why) when there is nothing to take."""
    try:
        table = read_clinical_csv(path)
    except InputError as error:
        QMessageBox.warning(parent, "Cannot read clinical values", str(error))
        return None
    if not table:
        QMessageBox.warning(parent, "Cannot read clinical values", f"{path}: the file has no rows")
        return None
    if case_id not in table:
        case_id, ok = QInputDialog.getItem(parent, "Clinical values",
                                           f"Row of {path.name} for this case:", list(table), 0,
                                           False)
        if not ok:
            return None
    return case_id, table[case_id].variables


def ask_clinical_csv(parent: QWidget, model: ViewerModel, folder: Path) -> Path | None:
    """Ask for a clinical.csv, starting at the dataset's (else ``folder``)."""
    if model.case is None:
        return None
    start = model.case.location.clinical_csv or folder
    path, _ = QFileDialog.getOpenFileName(parent, "Clinical values", str(start),
                                          "CSV files (*.csv);;All files (*)")
    return Path(path) if path else None


def load_clinical_row(parent: QWidget, model: ViewerModel, path: Path) -> str:
    """Give the model the open case's row of the clinical.csv at ``path`` (or the row the
    user picks); what was loaded, for the status bar, or "" when nothing was."""
    if model.case is None:
        return ""
    chosen = choose_clinical_row(parent, path, model.case.location.case_id)
    if chosen is None:
        return ""
    case_id, values = chosen
    model.edit_clinical(values)
    return f"Clinical values of {case_id} loaded from {path}"


def _decimal_point() -> str:
    """The decimal separator people type here: the locale's (a comma in much of Europe)."""
    return QLocale().decimalPoint()


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


class ClinicalForm(QWidget):
    """``values_changed`` carries the :class:`ClinicalVariables` after an edit; an invalid
    entry counts as missing there and keeps its message on screen until corrected."""

    values_changed = Signal(object)
    load_csv_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source_label = QLabel()
        self.source_label.setStyleSheet("color: gray;")
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        self._errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for spec in CLINICAL_FIELDS:
            editor = self._editor(spec)
            error = QLabel()
            error.setStyleSheet(_ERROR_STYLE)
            error.setWordWrap(True)
            error.setVisible(False)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(editor)
            cell.addWidget(error)
            label = QLabel(f"{spec.label} ({spec.unit})" if spec.unit else spec.label)
            label.setToolTip(spec.help)
            form.addRow(label, cell)
            self.editors[spec.name] = editor
            self._errors[spec.name] = error
        load = QPushButton("Load from clinical.csv…")
        clear = QPushButton("Clear")
        buttons = QHBoxLayout()
        buttons.addWidget(load)
        buttons.addWidget(clear)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.source_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        load.clicked.connect(self.load_csv_requested)
        clear.clicked.connect(self._clear)
        self._last_emitted = ClinicalVariables()

    def _editor(self, spec: ClinicalField) -> QLineEdit | QComboBox:
        tip = f"{spec.help} Allowed: {spec.allowed()}. Leave empty if unknown.".strip()
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItem(f"— {MISSING_TEXT} —", None)
            for choice, label in zip(spec.choices, spec.choice_labels, strict=True):
                combo.addItem(label if str(choice) == label else f"{label} ({choice})", choice)
            combo.setToolTip(tip)
            combo.currentIndexChanged.connect(self._edited)
            return combo
        edit = QLineEdit()
        placeholder = f"{MISSING_TEXT} · {_number(spec.minimum)}–{_number(spec.maximum)}"
        edit.setPlaceholderText(placeholder)
        # Wide enough for the whole placeholder (AFP's range is long): cut, it misleads.
        edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance(placeholder) + 16)
        edit.setToolTip(tip)
        edit.editingFinished.connect(self._edited)
        return edit

    def follow(self, model: ViewerModel) -> None:
        """Show the model's clinical values; what a person enters goes to the model."""

        def show(*_: object) -> None:
            if self.values() != model.clinical:  # not the echo of an edit made here
                self.set_values(model.clinical, model.clinical_source)
            else:
                self.set_source(model.clinical_source)

        model.events.case.connect(lambda _case: self.set_values(model.clinical,
                                                                model.clinical_source))
        model.events.clinical.connect(show)
        model.events.clinical_source.connect(show)
        self.values_changed.connect(model.edit_clinical)

    def set_values(self, values: ClinicalVariables, source: str) -> None:
        """Show ``values`` without emitting ``values_changed``."""
        for spec in CLINICAL_FIELDS:
            editor = self.editors[spec.name]
            value = getattr(values, spec.name)
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)) if value is not None else 0)
            else:
                editor.setText(format_value(spec, value))
            editor.blockSignals(False)
            self._show_error(spec.name, None)
        self._last_emitted = values
        self.set_source(source)

    def set_source(self, source: str) -> None:
        self.source_label.setText(f"Values: {source}")

    def values(self) -> ClinicalVariables:
        return ClinicalVariables(**{name: value for name, (value, _) in self._parsed().items()})

    def errors(self) -> dict[str, str]:
        """Field name -> message for each invalid entry."""
        return {name: error for name, (_, error) in self._parsed().items() if error}

    def _parsed(self) -> dict[str, tuple[object, str | None]]:
        parsed = {}
        for spec in CLINICAL_FIELDS:
            editor = self.editors[spec.name]
            if isinstance(editor, QComboBox):
                parsed[spec.name] = (editor.currentData(), None)
                continue
            try:
                parsed[spec.name] = (parse_value(spec, editor.text(), _decimal_point()), None)
            except InputError as error:
                parsed[spec.name] = (None, error.reason)
        return parsed

    def _edited(self) -> None:
        for name, (_, error) in self._parsed().items():
            self._show_error(name, error)
        values = self.values()
        if values != self._last_emitted:
            self._last_emitted = values
            self.values_changed.emit(values)

    def _show_error(self, name: str, message: str | None) -> None:
        label = self._errors[name]
        label.setText(f"{message} — not used" if message else "")
        label.setVisible(bool(message))
        self.editors[name].setStyleSheet("border: 1px solid #e05050;" if message else "")

    def _clear(self) -> None:
        for editor in self.editors.values():
            editor.blockSignals(True)
            if isinstance(editor, QComboBox):
                editor.setCurrentIndex(0)
            else:
                editor.clear()
            editor.blockSignals(False)
        self._edited()
