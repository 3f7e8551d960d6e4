"""Single widgets and their helpers, outside the main window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QComboBox

from dsaviewer.core.lesions import extract_lesions
from dsaviewer.gui.docks.clinical_form import ClinicalForm
from dsaviewer.gui.docks.lesion_table import lesion_cells
from dsaviewer.gui.docks.response_panel import prediction_lines
from dsaviewer.gui.image.scale_bar import nice_length
from dsaviewer.inference.results import ResponsePrediction
from dsaviewer.io.clinical import CLINICAL_FIELDS, ClinicalVariables


@pytest.mark.parametrize(("target", "length"), [(0.7, 0.5), (1, 1), (3.9, 2), (9.99, 5),
                                                (17, 10), (240, 200), (999, 500)])
def test_scale_bar_lengths_are_round(target, length):
    assert nice_length(target) == pytest.approx(length)


def test_lesion_row_says_what_is_unknown_without_spacing_or_probability():
    mask = np.zeros((20, 20), bool)
    mask[2:6, 3:7] = True
    bare = extract_lesions(mask)[0]
    assert lesion_cells(bare) == ("1", "16", "–", "–", "–", "–")
    probability = np.where(mask, 0.6, 0.0).astype(np.float32)
    flagged = extract_lesions(mask, probability, (0.5, 0.5))[0]
    assert lesion_cells(flagged) == ("1", "16", "4.0", f"{flagged.longest_diameter_mm:.1f}",
                                     "0.60", "yes (0.40)")


def test_prediction_lines_name_the_call_threshold_and_missing_values():
    call, used, missing = prediction_lines(ResponsePrediction(0.31, 0.45, ("image", "mask"),
                                                              ("afp", "bclc")))
    assert call.replace("\u00a0", " ") == "Non-responder: p = 0.31 < threshold 0.45"
    assert call.split(": ", 1)[1].count(" ") == 0  # wraps, if at all, before the comparison
    assert used == "Inputs used: image, mask"
    assert missing == "Clinical values missing: AFP, BCLC stage"


@pytest.mark.parametrize(
    ("probability", "call", "text"),
    [(0.42, "borderline", "Borderline: p = 0.42, within 0.05 of the threshold 0.45"),
     (0.48, "borderline", "Borderline: p = 0.48, within 0.05 of the threshold 0.45"),
     (0.39, "non-responder", "Non-responder: p = 0.39 < threshold 0.45"),
     (0.51, "responder", "Responder: p = 0.51 ≥ threshold 0.45")],
)
def test_a_prediction_near_the_threshold_is_called_borderline(probability, call, text):
    prediction = ResponsePrediction(probability, 0.45, ("image", "mask"), ())
    assert prediction.call == call
    assert prediction_lines(prediction)[0].replace("\u00a0", " ") == text


def test_clinical_form_has_a_field_per_variable_with_units_and_shows_missing(qtbot):
    form = ClinicalForm()
    qtbot.addWidget(form)
    assert list(form.editors) == [spec.name for spec in CLINICAL_FIELDS]
    form.set_values(ClinicalVariables(age=70, ascites=0, bclc="B"), "from clinical.csv")
    assert form.values() == ClinicalVariables(age=70, ascites=0, bclc="B")
    assert form.editors["afp"].text() == ""
    assert form.editors["afp"].placeholderText() == "missing · 0–10,000,000"
    sex = form.editors["sex"]
    assert isinstance(sex, QComboBox) and "missing" in sex.currentText()
    assert "AFP (ng/mL)" in [label.text() for label in form.findChildren(type(form.source_label))]


def test_clinical_form_emits_valid_values_and_keeps_invalid_ones_out(qtbot):
    form = ClinicalForm()
    qtbot.addWidget(form)
    emitted = []
    form.values_changed.connect(emitted.append)
    form.editors["pt"].setText("13.5")
    form.editors["pt"].editingFinished.emit()
    form.editors["child_pugh"].setText("12")
    form.editors["child_pugh"].editingFinished.emit()
    assert emitted == [ClinicalVariables(pt=13.5)]  # the invalid score changed nothing
    assert "out of range" in form.errors()["child_pugh"]
    form.editors["child_pugh"].setText("6")
    form.editors["child_pugh"].editingFinished.emit()
    assert emitted[-1] == ClinicalVariables(pt=13.5, child_pugh=6)
    assert form.errors() == {}


@pytest.mark.parametrize(("language", "typed", "value"), [
    (QLocale.Language.German, "18,6", 18.6),
    (QLocale.Language.German, "18.6", 18.6),
    (QLocale.Language.French, "40,7", 40.7),
    (QLocale.Language.English, "18.6", 18.6),
])
def test_clinical_form_reads_the_locales_decimal_separator(qtbot, language, typed, value):
    previous = QLocale()
    QLocale.setDefault(QLocale(language))
    try:
        form = ClinicalForm()
        qtbot.addWidget(form)
        form.editors["tbil"].setText(typed)
        form.editors["tbil"].editingFinished.emit()
        assert form.errors() == {}
        assert form.values() == ClinicalVariables(tbil=value)
    finally:
        QLocale.setDefault(previous)


def test_a_comma_is_still_refused_where_the_locale_uses_a_point(qtbot):
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English))
    try:
        form = ClinicalForm()
        qtbot.addWidget(form)
        form.editors["tbil"].setText("1,5")
        form.editors["tbil"].editingFinished.emit()
        assert "not a number" in form.errors()["tbil"]
    finally:
        QLocale.setDefault(previous)


def test_clinical_placeholders_are_never_cut(qtbot):
    form = ClinicalForm()
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    for name, editor in form.editors.items():
        if hasattr(editor, "placeholderText"):
            needed = editor.fontMetrics().horizontalAdvance(editor.placeholderText())
            assert editor.width() >= needed, name  # AFP's "missing · 0–100,000" included
