"""The TACE response prediction (DSA-Net Model 2): probability, the call at the model's
threshold, which inputs it read and which clinical values were missing, and the research-only
note that must stay in view."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from dsaviewer.app.case_session import frame_number
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.inference.results import BORDERLINE_MARGIN, ResponsePrediction
from dsaviewer.io.clinical import CLINICAL_FIELDS

RESEARCH_NOTE = (
    "Research tool: not for diagnosis or treatment decisions. The prediction has not been "
    "validated for clinical use."
)
_LABELS = {spec.name: spec.label for spec in CLINICAL_FIELDS}


def prediction_lines(prediction: ResponsePrediction) -> tuple[str, str, str]:
    """(call, inputs used, missing values) as plain text, shared with the case summary."""
    if prediction.borderline:
        verdict = "Borderline"
        comparison = (f"p = {prediction.probability:.2f}, within {BORDERLINE_MARGIN:.2f} of "
                      f"the threshold {prediction.threshold:.2f}")
    else:
        verdict = "Responder" if prediction.responder else "Non-responder"
        relation = "≥" if prediction.responder else "<"
        comparison = (f"p = {prediction.probability:.2f} {relation} threshold "
                      f"{prediction.threshold:.2f}")
    # No-break spaces: where the line wraps, the comparison moves as one piece and never
    # leaves its threshold alone on the next line.
    call = f"{verdict}: " + comparison.replace(" ", "\u00a0")
    used = f"Inputs used: {', '.join(prediction.inputs_used)}"
    missing = prediction.missing_clinical
    absent = ("Clinical values missing: " + ", ".join(_LABELS.get(n, n) for n in missing)
              if missing else "All clinical values given")
    return call, used, absent


class ResponsePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.call = QLabel("No prediction yet")
        font = self.call.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.call.setFont(font)
        self.call.setWordWrap(True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setStyleSheet("color: #e0a030;")
        note = QLabel(RESEARCH_NOTE)
        note.setWordWrap(True)
        note.setStyleSheet("color: #e0a030; border: 1px solid #e0a030; padding: 4px;")
        layout = QVBoxLayout(self)
        for widget in (self.call, self.details, self.state, note):
            layout.addWidget(widget)
        layout.addStretch(1)

    def follow(self, model: ViewerModel) -> None:
        """Show the model's prediction, and say when it no longer fits the key frame or the
        clinical values."""

        def show(*_: object) -> None:
            result = model.result
            if model.case is None:
                return
            state = ""
            if result is not None and not model.result_matches_key_frame:
                state = (f"Made on key frame {frame_number(result.key_frame)}; the key frame "
                         f"is now {frame_number(model.key_frame)}.")
            elif result is not None and not model.prediction_matches_clinical:
                state = ("The clinical values changed since this prediction; it is being "
                         "updated." if model.analysis.running else
                         "The clinical values changed: run the analysis.")
            # The analysis' caveats (untrained weights, too few frames) hold for the call too.
            caveats = [] if result is None else [f"Note: {note}" for note in result.notes]
            if model.result_hidden:  # outside the models' scope: no call to read
                self.show_out_of_scope("\n".join(caveats))
                return
            if model.scope is not None and not model.scope.in_scope:
                caveats.insert(0, "Outside what the models were made for: shown anyway.")
            self.show_prediction(None if result is None else result.prediction,
                                 "\n".join(filter(None, [state, *caveats])))

        for event in (model.events.result, model.events.key_frame, model.events.clinical,
                      model.events.analysis, model.events.scope,
                      model.events.show_out_of_scope):
            event.connect(show)

    def show_out_of_scope(self, caveats: str = "") -> None:
        """No call: the run is outside the models' scope; ``caveats`` still apply."""
        self.call.setText("No prediction")
        self.call.setStyleSheet("")
        self.details.setText("The run is outside what the models were made for (see the "
                             "banner above the image).")
        self.state.setText(caveats)
        self.state.setVisible(bool(caveats))

    def show_prediction(self, prediction: ResponsePrediction | None, state: str = "") -> None:
        """``state`` says when the prediction is out of date or being updated."""
        if prediction is None:
            self.call.setText("No prediction")
            self.call.setStyleSheet("")
            self.details.setText("Run the analysis to predict the response to the first TACE."
                                 if not state else "")
        else:
            call, used, missing = prediction_lines(prediction)
            self.call.setText(call)
            colour = ("#e0a030" if prediction.borderline else
                      "#40c060" if prediction.responder else "#e08040")
            self.call.setStyleSheet(f"color: {colour};")
            self.details.setText(f"{escape(used)}<br>{escape(missing)}")
        self.state.setText(state)
        self.state.setVisible(bool(state))
