"""The overlays drawn on the frame, by name, with the visibility and opacity a person chose,
and the one rule for which of them are shown.

The model's tumor and liver masks are hidden while a mask tool edits the annotator's own
masks (they would cover what is being drawn); the masks and lesions of a result outside the
models' scope are hidden until a person asks to see them anyway; every other layer shows as
its switch says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TUMOR = "tumor"
LIVER = "liver"
DIFFERENCE = "difference"
LESIONS = "lesions"
LAYER_NAMES = (LIVER, DIFFERENCE, TUMOR, LESIONS)  # bottom to top
MODEL_MASKS = (TUMOR, LIVER)  # hidden while a mask tool is active
MODEL_RESULT = (TUMOR, LIVER, LESIONS)  # hidden while the result is out of scope


@dataclass(frozen=True)
class LayerState:
    """A layer's switch and opacity slider."""

    visible: bool
    opacity: float


DEFAULT_LAYERS: Mapping[str, LayerState] = {
    TUMOR: LayerState(True, 0.45),
    LIVER: LayerState(True, 0.25),
    DIFFERENCE: LayerState(False, 0.7),
    LESIONS: LayerState(True, 1.0),
}


def shown_opacities(
    layers: Mapping[str, LayerState], editing_masks: bool, result_hidden: bool = False
) -> dict[str, float]:
    """Layer name -> opacity of the layers on screen, bottom to top."""
    return {
        name: layers[name].opacity
        for name in LAYER_NAMES
        if layers[name].visible
        and not (editing_masks and name in MODEL_MASKS)
        and not (result_hidden and name in MODEL_RESULT)
    }
