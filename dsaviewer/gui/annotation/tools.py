"""The mask editor's tools and the labels it edits, with their names, keys and help, so the
panel, the editor and the status messages describe them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dsaviewer.app.annotation_document import UNDO_LIMIT as UNDO_LIMIT  # beside the limits

TUMOR = "tumor"
LIVER = "liver"
# Hues of their own, never the model's (tumor cyan, liver green): an annotator must see at a
# glance which pixels a person drew and which the network predicted.
ANNOTATION_TUMOR_RGB = (190, 110, 255)  # violet
ANNOTATION_LIVER_RGB = (70, 140, 255)  # blue
LABEL_RGB = {TUMOR: ANNOTATION_TUMOR_RGB, LIVER: ANNOTATION_LIVER_RGB}
LABEL_TEXT = {TUMOR: "Tumor", LIVER: "Liver"}
LABEL_SHORTCUT = {TUMOR: "T", LIVER: "L"}

DEFAULT_BRUSH_RADIUS = 8.0
MAX_BRUSH_RADIUS = 200.0


class Tool(Enum):
    NAVIGATE = "navigate"
    BRUSH = "brush"
    ERASER = "eraser"
    POLYGON_ADD = "polygon_add"
    POLYGON_SUBTRACT = "polygon_subtract"
    FILL = "fill"
    DELETE_LESION = "delete_lesion"

    @property
    def spec(self) -> ToolSpec:
        return TOOL_SPECS[self]

    @property
    def edits_with_clicks(self) -> bool:
        return self is not Tool.NAVIGATE

    @property
    def uses_radius(self) -> bool:
        return self in (Tool.BRUSH, Tool.ERASER)

    @property
    def is_polygon(self) -> bool:
        return self in (Tool.POLYGON_ADD, Tool.POLYGON_SUBTRACT)


@dataclass(frozen=True)
class ToolSpec:
    text: str
    shortcut: str
    help: str


TOOL_SPECS = {
    Tool.NAVIGATE: ToolSpec("Navigate", "N", "Pan with the left button, zoom with the wheel."),
    Tool.BRUSH: ToolSpec("Brush", "B", "Paint the active label; [ and ] change the size."),
    Tool.ERASER: ToolSpec("Eraser", "E", "Erase the active label; [ and ] change the size."),
    Tool.POLYGON_ADD: ToolSpec(
        "Polygon +",
        "P",
        "Click the corners, double-click or press Enter to add the polygon; Esc cancels.",
    ),
    Tool.POLYGON_SUBTRACT: ToolSpec(
        "Polygon −",
        "Shift+P",
        "Click the corners, double-click or press Enter to cut the polygon out; Esc cancels.",
    ),
    Tool.FILL: ToolSpec(
        "Fill",
        "G",
        "Click inside a closed outline to fill it, or on a lesion to fill its holes.",
    ),
    Tool.DELETE_LESION: ToolSpec(
        "Delete lesion", "D", "Click a lesion (a connected region) to delete all of it."
    ),
}
