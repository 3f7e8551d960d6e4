"""The mask editor's mouse and key bindings: brush and eraser strokes, polygons, fill and
delete-lesion clicks, turned into steps of the annotation document. Kept apart from the
editor's state (napari keeps its Labels layer's mouse bindings in their own module too);
:class:`~dsaviewer.gui.annotation.editor.MaskEditor` mixes this in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import Qt

from dsaviewer.core.mask_editing import (
    MIN_BRUSH_RADIUS,
    MaskEdit,
    brush_segment,
    combine_edits,
    delete_component,
    fill_enclosed,
    polygon_edit,
)
from dsaviewer.gui.annotation.tools import MAX_BRUSH_RADIUS, Tool
from dsaviewer.io.labelme import LABELS

# A click this close (in screen pixels) to a polygon's first corner closes it, as in Labelme.
_CLOSE_POLYGON_PX = 8.0


@dataclass
class Stroke:
    frame: int
    label: str
    value: bool
    last: tuple[float, float]
    edits: list[MaskEdit] = field(default_factory=list)


class PointerInput:
    """Input handling of :class:`MaskEditor`: the tool, label and brush size, and what the
    mouse and keys do with them; it uses the editor's document, frame, layers, surface and
    view."""

    # ----- tool settings -----
    @property
    def tool(self) -> Tool:
        return self._tool

    def set_tool(self, tool: Tool) -> None:
        if tool is self._tool:
            return
        self._finish_stroke()
        self._set_polygon([])
        self._tool = tool
        self._surface.set_tool(tool)
        self.tool_changed.emit(tool)
        self.message.emit(f"{tool.spec.text}: {tool.spec.help}")

    @property
    def label(self) -> str:
        return self._label

    def set_label(self, label: str) -> None:
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {label!r}")
        if label == self._label:
            return
        self._finish_stroke()
        self._label = label
        self._restack_layers()
        self.label_changed.emit(label)

    @property
    def radius(self) -> float:
        return self._radius

    def set_radius(self, radius: float) -> None:
        radius = min(max(float(radius), MIN_BRUSH_RADIUS), MAX_BRUSH_RADIUS)
        if radius == self._radius:
            return
        self._radius = radius
        self._surface.set_radius(radius)
        self.radius_changed.emit(radius)

    # ----- polygon -----
    def finish_polygon(self) -> bool:
        """Apply the polygon being drawn (at least 3 corners)."""
        if not self._tool.is_polygon or self._document is None:
            return False
        vertices, self._polygon = self._polygon, []
        self._surface.set_polygon([])
        if len(vertices) < 3:
            if vertices:
                self.message.emit("A polygon needs at least 3 corners.")
            return False
        add = self._tool is Tool.POLYGON_ADD
        return self._edit_once(
            lambda mask: polygon_edit(mask, vertices, value=add), self._tool.spec.text
        )

    def cancel_polygon(self) -> None:
        self._set_polygon([])

    @property
    def polygon(self) -> list[tuple[float, float]]:
        return list(self._polygon)

    # ----- mouse input -----
    def _press(self, x: float, y: float) -> None:
        if self._document is None:
            return
        tool = self._tool
        if tool in (Tool.BRUSH, Tool.ERASER):
            self._current_annotation()
            self._stroke = Stroke(self._frame, self._label, tool is Tool.BRUSH, (x, y))
            self._paint_segment((x, y))
        elif tool.is_polygon:
            if len(self._polygon) >= 3 and self._near_first_corner(x, y):
                self.finish_polygon()
            else:
                self._set_polygon([*self._polygon, (x, y)])
        elif tool is Tool.FILL:
            if not self._edit_once(lambda mask: fill_enclosed(mask, (x, y)), "Fill"):
                self.message.emit(
                    "Nothing to fill: click inside a closed outline, or on a lesion with holes."
                )
        elif tool is Tool.DELETE_LESION and not self._edit_once(
            lambda mask: delete_component(mask, (x, y)), "Delete lesion"
        ):
            self.message.emit(f"No {self._label} region under the cursor.")

    def _drag(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._paint_segment((x, y))

    def _release(self, x: float, y: float) -> None:
        if self._stroke is not None:
            self._paint_segment((x, y))
            self._finish_stroke()

    def _polygon_key(self, key: int) -> None:
        if key in (Qt.Key.Key_Return.value, Qt.Key.Key_Enter.value):
            self.finish_polygon()
        elif key == Qt.Key.Key_Escape.value:
            self.cancel_polygon()
        elif key == Qt.Key.Key_Backspace.value:
            self._set_polygon(self._polygon[:-1])

    def _paint_segment(self, point: tuple[float, float]) -> None:
        stroke = self._stroke
        mask = self.store.get(stroke.frame).masks[stroke.label]
        edit = brush_segment(mask, stroke.last, point, self._radius, stroke.value)
        stroke.last = point
        if edit is not None:
            edit.apply(mask)
            stroke.edits.append(edit)
            self._layers[stroke.label].update_region(mask, edit.bbox)

    def _finish_stroke(self) -> None:
        """Make the stroke in progress one undo step (its segments are already drawn)."""
        stroke, self._stroke = self._stroke, None
        if stroke is None:
            return
        masks = self.store.get(stroke.frame).masks
        edit = combine_edits(stroke.edits, masks[stroke.label])
        if edit is not None:
            text = f"{'Brush' if stroke.value else 'Erase'} ({stroke.label})"
            self._document.push(stroke.frame, text, [(stroke.label, edit)], applied=True)

    def _edit_once(self, operation, text: str) -> bool:
        """Run a one-click ``operation(mask) -> MaskEdit | None`` on the active label of the
        current frame; True when it changed something."""
        self._finish_stroke()
        edit = operation(self._current_annotation().masks[self._label])
        if edit is None:
            return False
        self._document.push(self._frame, f"{text} ({self._label})", [(self._label, edit)])
        return True

    def _set_polygon(self, vertices: list[tuple[float, float]]) -> None:
        self._polygon = list(vertices)
        self._surface.set_polygon(self._polygon)

    def _near_first_corner(self, x: float, y: float) -> bool:
        pixel_x, pixel_y = self._view.viewPixelSize()
        first_x, first_y = self._polygon[0]
        return math.hypot((x - first_x) / pixel_x, (y - first_y) / pixel_y) <= _CLOSE_POLYGON_PX
