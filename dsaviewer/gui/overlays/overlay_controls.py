"""Keeps the overlay panel, the image's overlay layers and its legend in step, and remembers
which layers are on and how opaque in QSettings."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSettings

from dsaviewer.app.case_session import frame_number
from dsaviewer.core.difference import FD_GAP
from dsaviewer.core.lesions import Lesion
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.gui.image.frame_view import FrameView
from dsaviewer.gui.overlays.overlay_layers import DIFFERENCE, LAYER_NAMES, LESIONS, LIVER, TUMOR
from dsaviewer.gui.overlays.overlay_panel import STYLE_BY_NAME, OverlayPanel, legend_entries
from dsaviewer.gui.settings import read_bool, read_float


class OverlayControls:
    def __init__(self, panel: OverlayPanel, frame_view: FrameView, settings: QSettings):
        self._panel = panel
        self._layers = frame_view.overlays
        self._legend = frame_view.legend
        self._settings = settings
        for name in LAYER_NAMES:
            style = STYLE_BY_NAME[name]
            visible = read_bool(settings, _key(name, "visible"), style.visible)
            opacity = read_float(settings, _key(name, "opacity"), style.opacity)
            panel.set_state(name, visible, opacity)
            self._layers.set_visible(name, visible)
            self._layers.set_opacity(name, opacity)
        panel.visibility_changed.connect(self._set_visible)
        panel.opacity_changed.connect(self._set_opacity)

    def show(self, overlays: OverlaySet, lesions: Sequence[Lesion] | None, key_frame: int) -> None:
        """Show a case's overlays; ``lesions`` is None before any analysis."""
        self._layers.set_image(TUMOR, overlays.tumor)
        self._layers.set_image(LIVER, overlays.liver)
        heat = overlays.difference
        self._layers.set_image(DIFFERENCE, None if heat is None else heat.rgba)
        self._layers.set_lesions(lesions or [])
        if heat is not None:
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

    def shown_opacities(self) -> dict[str, float]:
        """Layer name -> opacity of the layers shown now."""
        return {name: self._layers.opacity(name) for name in LAYER_NAMES
                if self._layers.is_shown(name)}

    def _set_visible(self, name: str, visible: bool) -> None:
        self._layers.set_visible(name, visible)
        self._settings.setValue(_key(name, "visible"), visible)
        self._update_legend()

    def _set_opacity(self, name: str, opacity: float) -> None:
        self._layers.set_opacity(name, opacity)
        self._settings.setValue(_key(name, "opacity"), opacity)

    def _update_legend(self) -> None:
        self._legend.show_entries(legend_entries(self.shown_opacities()))


def _key(name: str, what: str) -> str:
    return f"overlays/{name}/{what}"
