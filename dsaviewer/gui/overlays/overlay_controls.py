"""The one writer of the image's overlay layers and legend. It shows the model's overlay
images and lesions, switches the layers as the model says (the model's masks hidden while a
mask tool edits the annotator's), keeps the overlay panel in step with the model, and
remembers the switches in QSettings."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor

from dsaviewer.app.case_session import frame_number
from dsaviewer.app.overlays import DEFAULT_LAYERS, LAYER_NAMES, MODEL_RESULT, LayerState
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.difference import FD_GAP
from dsaviewer.core.overlay_images import DEFAULT_HEAT_LOWER, HeatMap, OverlaySet
from dsaviewer.gui.annotation.tools import LABEL_RGB, LABEL_TEXT
from dsaviewer.gui.image.frame_view import FrameView
from dsaviewer.gui.overlays.overlay_layers import DIFFERENCE, LESIONS, LIVER, TUMOR
from dsaviewer.gui.overlays.overlay_panel import OverlayPanel, legend_entries
from dsaviewer.gui.settings import read_bool, read_float


class OverlayControls:
    def __init__(
        self, model: ViewerModel, panel: OverlayPanel, frame_view: FrameView, settings: QSettings
    ) -> None:
        self._model = model
        self._panel = panel
        self._layers = frame_view.overlays
        self._legend = frame_view.legend
        self._settings = settings
        model.layers = {
            name: LayerState(read_bool(settings, _key(name, "visible"), default.visible),
                             read_float(settings, _key(name, "opacity"), default.opacity))
            for name, default in DEFAULT_LAYERS.items()
        }
        self._layers_changed(model.layers)
        panel.visibility_changed.connect(lambda name, on: model.set_layer(name, visible=on))
        panel.opacity_changed.connect(lambda name, value: model.set_layer(name, opacity=value))
        model.events.layers.connect(self._layers_changed)
        model.events.editing_masks.connect(self._apply_layers)
        model.events.edited_labels.connect(self._update_legend)
        model.events.overlays.connect(self._show)
        self._heat: HeatMap | None = None
        self.difference_floor = min(0.9, max(0.0, read_float(
            settings, _key(DIFFERENCE, "lower"), DEFAULT_HEAT_LOWER)))
        panel.set_difference_floor(self.difference_floor)
        panel.difference_floor_changed.connect(self._set_difference_floor)
        # An out-of-scope result hides its layers until a person asks to see them anyway.
        model.events.scope.connect(self._apply_layers)
        model.events.show_out_of_scope.connect(self._apply_layers)
        # The masks belong to the key frame: while another frame plays, the legend says so.
        model.events.frame.connect(self._update_legend)
        model.events.key_frame.connect(self._update_legend)

    def shown_opacities(self) -> dict[str, float]:
        """Layer name -> opacity of the layers on screen now (switched on, with content, not
        faded out completely)."""
        return {name: self._layers.opacity(name) for name in LAYER_NAMES
                if self._layers.is_shown(name) and self._layers.opacity(name) > 0}

    def as_shown(self, overlays: OverlaySet) -> OverlaySet:
        """``overlays`` with the frame difference cut at the lower limit shown on screen."""
        if overlays.difference is None:
            return overlays
        return replace(overlays, difference=overlays.difference.with_lower(self.difference_floor))

    def _set_difference_floor(self, lower: float) -> None:
        self.difference_floor = lower
        self._settings.setValue(_key(DIFFERENCE, "lower"), lower)
        if self._heat is not None:
            self._heat = self._heat.with_lower(lower)
            self._layers.set_image(DIFFERENCE, self._heat.rgba)

    def _show(self, overlays: OverlaySet) -> None:
        """A case's overlays, with the lesions of the result they were coloured for."""
        model = self._model
        result = model.result
        lesions = None if result is None else result.lesions
        self._layers.set_image(TUMOR, overlays.tumor)
        self._layers.set_image(LIVER, overlays.liver)
        heat = overlays.difference
        if heat is not None:
            heat = heat.with_lower(self.difference_floor)
        self._heat = heat
        self._layers.set_image(DIFFERENCE, None if heat is None else heat.rgba)
        self._layers.set_lesions(lesions or [])
        if heat is not None:
            key_frame = model.key_frame
            self._panel.set_note(
                DIFFERENCE,
                f"key frame {frame_number(key_frame)} − frame "
                f"{frame_number(max(0, key_frame - FD_GAP))}; full colour at "
                f"{heat.scale_max:.0f} grey levels",
            )
        missing = "run the analysis" if lesions is None else ""
        self._panel.set_note(TUMOR, missing or ("" if overlays.tumor is not None else
                                                "no tumor found"))
        self._panel.set_note(LIVER, missing or ("" if overlays.liver is not None else
                                                "no liver found"))
        self._panel.set_note(LESIONS, missing)
        self._update_legend()

    def _layers_changed(self, layers: dict[str, LayerState]) -> None:
        for name, state in layers.items():
            self._panel.set_state(name, state.visible, state.opacity)
            self._settings.setValue(_key(name, "visible"), state.visible)
            self._settings.setValue(_key(name, "opacity"), state.opacity)
        self._apply_layers()

    def _apply_layers(self, *_: object) -> None:
        shown = self._model.shown_opacities()
        for name, state in self._model.layers.items():
            self._layers.set_visible(name, name in shown)
            self._layers.set_opacity(name, state.opacity)
        self._update_legend()

    def _update_legend(self, *_: object) -> None:
        """The edited masks on the frame shown (top layers, the active label first), then the
        model's layers shown; the model's masks name their key frame while another frame is
        on screen."""
        model = self._model
        edited = [(f"{LABEL_TEXT[label]} annotation", QColor(*LABEL_RGB[label]))
                  for label in model.edited_labels]
        notes = {}
        if model.case is not None and model.frame != model.key_frame:
            of_key_frame = f" · key frame {frame_number(model.key_frame)}"
            notes = dict.fromkeys(MODEL_RESULT, of_key_frame)
        self._legend.show_entries(edited + legend_entries(self.shown_opacities(), notes))


def _key(name: str, what: str) -> str:
    return f"overlays/{name}/{what}"
