"""The banner above the image when the open result is outside what the models were made for
(hepatic DSA runs): why, in the scope decision's words, and a "Show anyway" switch that lets a
person see the masks, lesions and prediction it hides. A view of the model's ``scope``."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QWidget

from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.inference.results import ScopeDecision

TITLE = "Outside what the models were made for (liver DSA runs)"


class ScopeBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("ScopeBanner { background: #5a1e1e; border: 1px solid #e05050; }"
                           "QLabel, QCheckBox { color: #ffe0e0; }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.show_anyway = QCheckBox("Show anyway")
        self.show_anyway.setToolTip("Show the masks, lesions and response prediction of this "
                                    "run although it is outside the models' scope")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.show_anyway)
        self.setVisible(False)

    def follow(self, model: ViewerModel) -> None:
        """Show the model's scope decision; the switch is ``model.show_out_of_scope``."""
        model.events.scope.connect(self.show_scope)
        model.events.show_out_of_scope.connect(lambda on: self.show_anyway.setChecked(on))
        self.show_anyway.toggled.connect(lambda on: setattr(model, "show_out_of_scope", on))

    def show_scope(self, scope: ScopeDecision | None) -> None:
        out = scope is not None and not scope.in_scope
        self.setVisible(out)
        if not out:
            return
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in scope.reasons)
        self.text.setText(f"<b>{TITLE}.</b> Masks, lesions and the response prediction are "
                          f"hidden.<ul style='margin: 2px 0 0 -20px'>{reasons}</ul>")
