"""Overlay switches: one row per layer with its colour, a toggle and an opacity slider."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSlider, QSpinBox, QWidget

from dsaviewer.app.overlays import DEFAULT_LAYERS, DIFFERENCE, LAYER_NAMES, LESIONS, LIVER, TUMOR
from dsaviewer.core.overlay_images import DEFAULT_HEAT_LOWER, LIVER_RGB, TUMOR_RGB
from dsaviewer.gui.overlays.overlay_layers import LESION_COLOR


@dataclass(frozen=True)
class LayerStyle:
    name: str
    label: str
    swatch_css: str  # background of the colour swatch
    legend_color: QColor  # the colour naming the layer in the image legend


def _rgb(rgb: tuple[int, int, int]) -> str:
    return f"rgb{rgb}"


LAYER_STYLES = (
    LayerStyle(TUMOR, "Tumor mask", _rgb(TUMOR_RGB), QColor(*TUMOR_RGB)),
    LayerStyle(LIVER, "Liver mask", _rgb(LIVER_RGB), QColor(*LIVER_RGB)),
    LayerStyle(
        DIFFERENCE,
        "Frame difference k−9→k",
        "qlineargradient(x1:0, y1:0, x2:1, y2:0, stop:0 black, stop:0.4 red, stop:0.8 yellow,"
        " stop:1 white)",
        QColor(255, 140, 0),
    ),
    LayerStyle(LESIONS, "Lesion outlines", LESION_COLOR.name(), LESION_COLOR),
)
STYLE_BY_NAME = {style.name: style for style in LAYER_STYLES}


def legend_entries(
    shown: Iterable[str], notes: Mapping[str, str] | None = None
) -> list[tuple[str, QColor]]:
    """(label, colour) of the shown layers, top layer first, for the image legends;
    ``notes`` adds text to a layer's label by name."""
    names = set(shown)
    notes = notes or {}
    return [(STYLE_BY_NAME[name].label + notes.get(name, ""), STYLE_BY_NAME[name].legend_color)
            for name in reversed(LAYER_NAMES) if name in names]


class OverlayPanel(QWidget):
    visibility_changed = Signal(str, bool)
    opacity_changed = Signal(str, float)
    difference_floor_changed = Signal(float)  # the fraction of full colour painted from

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        self.toggles: dict[str, QCheckBox] = {}
        self.sliders: dict[str, QSlider] = {}
        self._notes: dict[str, QLabel] = {}
        for row, style in enumerate(LAYER_STYLES):
            swatch = QLabel()
            swatch.setFixedSize(14, 14)
            swatch.setStyleSheet(f"background: {style.swatch_css}; border: 1px solid #666;")
            default = DEFAULT_LAYERS[style.name]
            toggle = QCheckBox(style.label, checked=default.visible)
            slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100)
            slider.setValue(round(default.opacity * 100))
            slider.setToolTip("Opacity")
            slider.setMaximumWidth(110)
            note = QLabel()
            note.setStyleSheet("color: gray;")
            layout.addWidget(swatch, 2 * row, 0)
            layout.addWidget(toggle, 2 * row, 1)
            layout.addWidget(slider, 2 * row, 2)
            if style.name == DIFFERENCE:
                layout.addWidget(note, 2 * row + 1, 1)
                layout.addWidget(self._floor_box(), 2 * row + 1, 2)
            else:
                layout.addWidget(note, 2 * row + 1, 1, 1, 2)
            toggle.toggled.connect(
                lambda on, name=style.name: self.visibility_changed.emit(name, on)
            )
            slider.valueChanged.connect(
                lambda value, name=style.name: self.opacity_changed.emit(name, value / 100.0)
            )
            self.toggles[style.name] = toggle
            self.sliders[style.name] = slider
            self._notes[style.name] = note
        layout.setRowStretch(2 * len(LAYER_STYLES), 1)

    def _floor_box(self) -> QSpinBox:
        box = QSpinBox(minimum=0, maximum=90, singleStep=5, suffix=" %")
        box.setPrefix("from ")
        box.setValue(round(DEFAULT_HEAT_LOWER * 100))
        box.setToolTip("Frame difference: change below this share of the full-colour level is "
                       "not painted (noise); 0 paints every change")
        box.setMaximumWidth(110)
        box.valueChanged.connect(lambda value: self.difference_floor_changed.emit(value / 100.0))
        self.difference_floor = box
        return box

    def set_difference_floor(self, lower: float) -> None:
        """Show the frame difference's lower display limit without echoing the signal."""
        self.difference_floor.blockSignals(True)
        self.difference_floor.setValue(round(lower * 100))
        self.difference_floor.blockSignals(False)

    def set_state(self, name: str, visible: bool, opacity: float) -> None:
        """Set a row without echoing signals (restoring preferences)."""
        for widget, apply in (
            (self.toggles[name], lambda: self.toggles[name].setChecked(visible)),
            (self.sliders[name], lambda: self.sliders[name].setValue(round(opacity * 100))),
        ):
            widget.blockSignals(True)
            apply()
            widget.blockSignals(False)

    def set_note(self, name: str, text: str) -> None:
        """A grey line under a layer: what it shows, or why it is empty."""
        self._notes[name].setText(text)
        self._notes[name].setVisible(bool(text))
