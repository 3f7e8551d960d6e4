"""The clinical form of the viewer: each field validated as typed, saved with the case, loaded
from a dataset's clinical.csv, and the response prediction updated from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
)
from test_gui_fixtures import (
    FakeAnalysis,
    write_avi_case,
)
from viewer_window import (
    WAIT_MS,
    make_window,
    open_case,
    run_analysis,
)

from dsaviewer.errors import InputError
from dsaviewer.io.case_state import read_case_state
from dsaviewer.io.clinical import ClinicalRow, ClinicalVariables, write_clinical_csv

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


# ----- clinical values and the response -----
def _type(qtbot, editor: QLineEdit, text: str) -> None:
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    editor.editingFinished.emit()


def test_clinical_form_validates_each_field_saves_and_updates_the_prediction(
        qtbot, tmp_path, settings_path):
    fake = FakeAnalysis()
    case = write_avi_case(tmp_path / "case")
    window = make_window(qtbot, settings_path, fake)
    open_case(qtbot, window, case)
    run_analysis(qtbot, window)
    assert window.response_panel.call.text().startswith("Non-responder")
    form = window.clinical_form
    assert form.editors["age"].placeholderText() == "missing · 10–110"

    _type(qtbot, form.editors["tbil"], "2,5")
    _type(qtbot, form.editors["alb"], "4.1")  # g/dL typed into a g/L field
    errors = form.errors()
    assert set(errors) == {"tbil", "alb"}
    assert "not a number" in errors["tbil"] and "out of range" in errors["alb"]
    assert form._errors["alb"].isVisible() and "10 to 70 g/L" in form._errors["alb"].text()
    assert form.values().alb is None  # an invalid entry is not used

    with qtbot.waitSignal(window.analysis_finished, timeout=WAIT_MS):
        _type(qtbot, form.editors["age"], "63")
    assert fake.calls[-1]["clinical"].age == 63
    qtbot.waitUntil(lambda: window.response_panel.call.text().startswith("Responder"))
    assert "Age" not in window.response_panel.details.text()  # no longer missing
    assert "Albumin" in window.response_panel.details.text()
    sex = form.editors["sex"]
    assert isinstance(sex, QComboBox)
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        sex.setCurrentIndex(sex.findData("F"))
    qtbot.waitUntil(lambda: _saved_clinical(case) is not None and _saved_clinical(case).sex == "F",
                    timeout=WAIT_MS)
    assert read_case_state(case / "viewer").clinical == ClinicalVariables(age=63, sex="F")

    again = make_window(qtbot, settings_path, fake)
    open_case(qtbot, again, case)
    assert again.clinical_form.editors["age"].text() == "63"
    assert again.clinical_form.editors["sex"].currentData() == "F"
    assert again.clinical_form.editors["alb"].text() == ""
    assert "entered in the viewer" in again.clinical_form.source_label.text()
    assert again.response_panel.call.text().startswith("Responder")
    notes = [label.text() for label in again.response_panel.findChildren(QLabel)]
    assert any("not for diagnosis" in text for text in notes)


def _saved_clinical(case: Path) -> ClinicalVariables | None:
    """The clinical values on disk; None while a background save is replacing the analysis
    folder the state file named a moment ago."""
    try:
        return read_case_state(case / "viewer").clinical
    except InputError:
        return None


def test_clinical_values_load_from_the_datasets_csv(qtbot, tmp_path, settings_path):
    case = write_avi_case(tmp_path / "case9")
    write_clinical_csv(tmp_path / "clinical.csv",
                       {"case9": ClinicalRow(ClinicalVariables(age=58, hbv=1, crp=3.5))})
    window = make_window(qtbot, settings_path)
    open_case(qtbot, window, case)
    form = window.clinical_form
    assert form.editors["age"].text() == "58" and form.editors["crp"].text() == "3.5"
    assert form.editors["hbv"].currentData() == 1
    assert "clinical.csv" in form.source_label.text()

    other = tmp_path / "elsewhere.csv"
    write_clinical_csv(other, {"case9": ClinicalRow(ClinicalVariables(age=61))})
    with qtbot.waitSignal(window.state_saved, timeout=WAIT_MS):
        window.load_clinical_csv(other)
    assert form.editors["age"].text() == "61" and form.editors["crp"].text() == ""
    assert read_case_state(case / "viewer").clinical == ClinicalVariables(age=61)
