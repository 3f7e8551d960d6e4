"""The mask editor: turns mouse input on the frame's view box into mask edits, keeps their undo
history per frame, shows the edited masks, copies unsaved work for crash recovery, and saves
corrected frames as Labelme files.

It is self-contained: give it the view box that shows the frames, call :meth:`open_case` when
a case is loaded and :meth:`set_frame` when the frame on screen changes; the panel
(:mod:`.panel`) drives the rest. Nothing here blocks on disk except :meth:`save`, which writes
the few changed frames when the user asks (or when closing, where waiting is expected).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoGroup, QUndoStack

from dsaviewer.core.annotation import AnnotationStore, FrameAnnotation, load_annotations
from dsaviewer.core.mask_editing import (
    MIN_BRUSH_RADIUS,
    MaskEdit,
    brush_segment,
    combine_edits,
    delete_component,
    fill_enclosed,
    polygon_edit,
    replace_mask,
)
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.autosave import RecoveryAutosave, user_recovery_folder
from dsaviewer.gui.annotation.mask_layer import MaskLayerItem
from dsaviewer.gui.annotation.surface import EditingSurface
from dsaviewer.gui.annotation.tools import (
    DEFAULT_BRUSH_RADIUS,
    LABEL_RGB,
    LABEL_TEXT,
    LIVER,
    MAX_BRUSH_RADIUS,
    TUMOR,
    UNDO_LIMIT,
    Tool,
)
from dsaviewer.gui.annotation.undo import MaskEditCommand
from dsaviewer.gui.export.frame_render import EditedMask
from dsaviewer.io.frame_labels import labels_folder_for, update_label_flags, write_frame_labels
from dsaviewer.io.labelme import KEY_FRAME_FLAG, LABELS, read_labelme
from dsaviewer.io.recovery import RecoveredFrame, read_recovery, recovery_folder_for

# Edited masks lie above the model's overlays (z 10-14 in the frame view), the active label
# on top and more opaque, the other one still visible beneath it.
_Z_ACTIVE, _Z_OTHER = 31, 30
_OPACITY_ACTIVE, _OPACITY_OTHER = 0.6, 0.35
# A click this close (in screen pixels) to a polygon's first corner closes it, as in Labelme.
_CLOSE_POLYGON_PX = 8.0


@dataclass(frozen=True)
class OpenReport:
    """What opening a case's annotations found: problems with label files (unreadable, other
    labels or shapes kept but not editable), frames holding unchecked model output, and
    unsaved edits of an earlier session that ended without saving them."""

    labels_dir: Path
    problems: tuple[str, ...]
    unchecked_predictions: tuple[int, ...]
    recovered: tuple[RecoveredFrame, ...]


@dataclass(frozen=True)
class SaveReport:
    labels_dir: Path
    saved: tuple[int, ...]
    failed: dict[int, str] = field(default_factory=dict)  # frame -> why; its edits are kept

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class ImportReport:
    """A Labelme file imported onto a frame; the labels and shapes that could not become
    tumor/liver pixels are listed, for the user to be told."""

    frame: int
    path: Path
    unknown_labels: tuple[str, ...]
    unsupported_shapes: tuple[str, ...]


@dataclass
class _Stroke:
    frame: int
    label: str
    value: bool
    last: tuple[float, float]
    edits: list[MaskEdit] = field(default_factory=list)


class MaskEditor(QObject):
    """Edits the tumour and liver masks of the frames of one video."""

    masks_changed = Signal(int)  # a frame whose masks changed (edit, undo, redo)
    message = Signal(str)  # one line for the status bar
    unsaved_changed = Signal(bool)
    tool_changed = Signal(object)  # Tool
    label_changed = Signal(str)
    radius_changed = Signal(float)
    case_opened = Signal(object)  # OpenReport
    case_closed = Signal()

    def __init__(
        self,
        view: pg.ViewBox,
        parent: QObject | None = None,
        autosave_delay_ms: int = 2000,
        fallback_recovery_root: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._view = view
        self._fallback_root = fallback_recovery_root
        self._store: AnnotationStore | None = None
        self._frames: np.ndarray | None = None
        self._labels_dir: Path | None = None
        self._recovery_dirs: tuple[Path, ...] = ()
        self._frame = 0
        self._key_frame: int | None = None
        self._prediction: dict[str, np.ndarray] | None = None
        self._tool = Tool.NAVIGATE
        self._label = TUMOR
        self._radius = DEFAULT_BRUSH_RADIUS
        self._stroke: _Stroke | None = None
        self._polygon: list[tuple[float, float]] = []
        self._group = QUndoGroup(self)
        self._stacks: dict[int, QUndoStack] = {}
        self._autosave = RecoveryAutosave(self._unsaved_copy, self, autosave_delay_ms)
        self._autosave.failed.connect(self.message)

        self._layers = {label: MaskLayerItem(LABEL_RGB[label]) for label in LABELS}
        for layer in self._layers.values():
            view.addItem(layer, ignoreBounds=True)
        self._surface = EditingSurface()
        view.addItem(self._surface, ignoreBounds=True)
        self._surface.pressed.connect(self._press)
        self._surface.dragged.connect(self._drag)
        self._surface.released.connect(self._release)
        self._surface.double_clicked.connect(lambda x, y: self.finish_polygon())
        self._surface.key_pressed.connect(self._polygon_key)
        self._restack_layers()

    # ----- the case -----
    def open_case(
        self,
        opened: str | Path,
        frames: np.ndarray,
        key_frame: int | None = None,
        current_frame: int = 0,
        labels_dir: str | Path | None = None,
    ) -> OpenReport:
        """Start editing the video ``frames`` ((T, H, W)) of what the user opened (a case
        folder or a video file): read its Labelme files (``labels_dir``, by default
        :func:`~dsaviewer.io.frame_labels.labels_folder_for`) and look for unsaved edits of an
        earlier session. ``current_frame`` is the frame on screen. Offer ``recovered`` to the
        user, then call :meth:`restore` or :meth:`discard_recovered`. A case still open is
        closed first, without saving (its unsaved edits stay in its recovery folder): ask the
        user before."""
        self.close_case()
        frames = np.asarray(frames)
        if frames.ndim != 3 or 0 in frames.shape:
            raise ValueError(f"frames must be a non-empty (T, H, W) array, not {frames.shape}")
        labels = Path(labels_dir) if labels_dir is not None else labels_folder_for(opened)
        loaded = load_annotations(labels, frames.shape[0], frames.shape[1:])
        self._store = loaded.store
        self._frames = frames
        self._labels_dir = labels
        self._key_frame = key_frame
        self._recovery_dirs = (
            recovery_folder_for(opened),
            user_recovery_folder(Path(opened), self._fallback_root),
        )
        recovered, problems = self._find_recovered(frames.shape[0], frames.shape[1:])
        self._autosave.set_folders(*self._recovery_dirs)
        height, width = frames.shape[1:]
        self._surface.set_frame_size(height, width)
        if not 0 <= current_frame < frames.shape[0]:
            raise ValueError(f"frame {current_frame} is outside 0..{frames.shape[0] - 1}")
        self._frame = int(current_frame)
        self._show_frame()
        report = OpenReport(
            labels, loaded.problems + problems, loaded.unchecked_predictions, recovered
        )
        self.case_opened.emit(report)
        return report

    def close_case(self, discard_unsaved: bool = False) -> None:
        """Stop editing. Unsaved edits leave memory but keep their crash-recovery copies (they
        are offered at the next opening) unless ``discard_unsaved``: the user chose to drop
        them. Ask first: :func:`.dialogs.confirm_close`."""
        if self._store is None:
            return
        self._finish_stroke()
        self._set_polygon([])
        if discard_unsaved:
            self._autosave.discard_all()
        else:
            self._autosave.write_pending()
        self._autosave.wait()
        self._autosave.set_folders(None, None)
        for stack in self._stacks.values():
            self._group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()
        self._store = None
        self._frames = None
        self._prediction = None
        for layer in self._layers.values():
            layer.set_mask(None)
        self._surface.set_frame_size(0, 0)
        self.unsaved_changed.emit(False)
        self.case_closed.emit()

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> AnnotationStore | None:
        """The masks as edited (read them; change them only through this editor)."""
        return self._store

    @property
    def labels_dir(self) -> Path | None:
        return self._labels_dir

    @property
    def recovery_dirs(self) -> tuple[Path, ...]:
        """Where crash-recovery copies go: the case's own folder, then the per-user one."""
        return self._recovery_dirs

    @property
    def undo_group(self) -> QUndoGroup:
        return self._group

    # ----- what the main window tells the editor -----
    def set_frame(self, index: int) -> None:
        """The frame on screen changed: edits now go to frame ``index``."""
        if self._store is None or index == self._frame:
            return
        self._finish_stroke()
        self._set_polygon([])
        self._frame = int(index)
        self._show_frame()

    @property
    def frame(self) -> int:
        return self._frame

    def set_key_frame(self, index: int | None) -> None:
        """The key frame, flagged in the Labelme files at the next :meth:`save`."""
        self._key_frame = index

    def set_prediction(self, tumor_mask: np.ndarray | None, liver_mask: np.ndarray | None) -> None:
        """The model's masks (AnalysisResult.tumor_mask / liver_mask) that "accept" copies;
        None when there is no analysis."""
        if tumor_mask is None or liver_mask is None:
            self._prediction = None
            return
        masks = {TUMOR: np.asarray(tumor_mask, bool), LIVER: np.asarray(liver_mask, bool)}
        if self._store is not None and any(
            mask.shape != self._store.frame_shape for mask in masks.values()
        ):
            raise ValueError(f"prediction masks must be {self._store.frame_shape}")
        self._prediction = masks

    def set_layers_visible(self, visible: bool) -> None:
        for layer in self._layers.values():
            layer.setVisible(visible)

    def masks_as_shown(self, frame: int) -> list[EditedMask]:
        """Frame ``frame``'s edited masks as the screen draws them (unsaved edits included),
        bottom to top, for an export; none while the layers are hidden."""
        annotation = None if self._store is None else self._store.get(frame)
        if annotation is None or not any(layer.isVisible() for layer in self._layers.values()):
            return []
        layers = sorted(self._layers.items(), key=lambda item: item[1].zValue())
        return [EditedMask(f"{LABEL_TEXT[label]} annotation", annotation.masks[label].copy(),
                           LABEL_RGB[label], layer.opacity())
                for label, layer in layers if annotation.masks[label].any()]

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

    # ----- whole-frame operations (each one undo step) -----
    def accept_prediction(self) -> bool:
        """Copy the model's masks into the current frame's editable masks."""
        if self._store is None:
            return False
        if self._prediction is None:
            self.message.emit("No model masks to accept: analyse the run first.")
            return False
        return self._replace_masks(self._prediction, "Accept model masks")

    def copy_from_previous(self) -> bool:
        """Copy the previous frame's masks into the current frame."""
        if self._store is None:
            return False
        previous = self._store.get(self._frame - 1) if self._frame > 0 else None
        if previous is None or previous.is_empty():
            self.message.emit(f"Frame {self._frame - 1} has no masks to copy.")
            return False
        return self._replace_masks(previous.masks, f"Copy masks from frame {self._frame - 1}")

    def import_labelme(self, path: str | Path) -> ImportReport:
        """Replace the current frame's masks with a Labelme file's (one undo step).
        InputError for a file that cannot be read or is for another image size."""
        if self._store is None:
            raise InputError("open a case before importing labels", path)
        path = Path(path)
        annotation = read_labelme(path)
        if annotation.image_shape != self._store.frame_shape:
            (h, w), (fh, fw) = annotation.image_shape, self._store.frame_shape
            raise InputError(f"the labels are for a {w}x{h} image, the frames are {fw}x{fh}", path)
        self._replace_masks(annotation.masks, f"Import {path.name}")
        report = ImportReport(
            self._frame, path, annotation.unknown_labels, annotation.unsupported_shapes
        )
        return report

    def restore(self, recovered: Sequence[RecoveredFrame]) -> None:
        """Put recovered unsaved edits back (one undo step per frame); they stay unsaved."""
        if self._store is None:
            return
        for frame in recovered:
            self._replace_masks(frame.masks, "Restore unsaved edits", frame.frame_index)
        self.message.emit(f"Restored unsaved edits of {len(recovered)} frame(s).")

    def discard_recovered(self) -> None:
        """Delete the recovery copies found at opening (the user declined them)."""
        self._autosave.discard_all()

    # ----- polygon -----
    def finish_polygon(self) -> bool:
        """Apply the polygon being drawn (at least 3 corners)."""
        if not self._tool.is_polygon or self._store is None:
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

    # ----- undo -----
    def undo(self) -> None:
        if self._polygon:  # while drawing a polygon, undo takes back its last corner
            self._set_polygon(self._polygon[:-1])
            return
        self._finish_stroke()
        self._group.undo()

    def redo(self) -> None:
        self._finish_stroke()
        self._group.redo()

    def create_undo_action(self, parent: QObject) -> QAction:
        """An Undo action (Ctrl+Z) for a menu or tool bar, enabled when there is one."""
        action = QAction("Undo", parent)
        action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        action.triggered.connect(self.undo)
        action.setEnabled(self._group.canUndo())
        self._group.canUndoChanged.connect(action.setEnabled)
        self._group.undoTextChanged.connect(lambda text: action.setText(f"Undo {text}".strip()))
        return action

    def create_redo_action(self, parent: QObject) -> QAction:
        """A Redo action (Ctrl+Shift+Z and Ctrl+Y on every platform)."""
        action = QAction("Redo", parent)
        action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        action.triggered.connect(self.redo)
        action.setEnabled(self._group.canRedo())
        self._group.canRedoChanged.connect(action.setEnabled)
        self._group.redoTextChanged.connect(lambda text: action.setText(f"Redo {text}".strip()))
        return action

    # ----- saving -----
    def unsaved_frames(self) -> list[int]:
        return sorted(frame for frame, stack in self._stacks.items() if not stack.isClean())

    def has_unsaved_changes(self) -> bool:
        return bool(self.unsaved_frames())

    def save(self) -> SaveReport:
        """Write every frame with unsaved edits as ``labels/NNNN.json`` + ``NNNN.png`` (key
        frame flagged), and fix the key-frame flag of the other label files. A frame that
        cannot be written keeps its edits, its unsaved state and its recovery copy; the
        report says why."""
        if self._store is None or self._labels_dir is None or self._frames is None:
            raise RuntimeError("no case is open")
        self._finish_stroke()
        saved: list[int] = []
        failed: dict[int, str] = {}
        for frame in self.unsaved_frames():
            annotation = self._store.get(frame)
            if annotation is None or (annotation.label_file is None and annotation.is_empty()):
                self._mark_saved(frame)  # nothing to write, no file to update
                continue
            flags = annotation.flags_to_save(self._is_key_frame(frame, annotation))
            try:
                path = write_frame_labels(
                    self._labels_dir,
                    frame,
                    self._frames[frame],
                    annotation.masks,
                    flags,
                    annotation.kept_shapes,
                )
            except OSError as error:
                failed[frame] = _describe(error)
                continue
            annotation.label_file, annotation.flags = path, flags
            self._mark_saved(frame)
            saved.append(frame)
        for frame in self._store.frames():
            annotation = self._store.get(frame)
            is_key = self._is_key_frame(frame, annotation)
            if frame in failed or annotation.label_file is None:
                continue
            if annotation.flags.get(KEY_FRAME_FLAG, False) == is_key:
                continue
            flags = {**annotation.flags, KEY_FRAME_FLAG: is_key}
            try:
                update_label_flags(annotation.label_file, flags)
            except OSError as error:
                failed[frame] = _describe(error)
                continue
            except InputError as error:  # changed on disk by another program since opening
                failed[frame] = str(error)
                continue
            annotation.flags = flags
        report = SaveReport(self._labels_dir, tuple(saved), failed)
        if report.ok:
            self.message.emit(f"Saved {len(saved)} frame(s) to {self._labels_dir}.")
        else:
            self.message.emit(
                f"Could not save frame(s) {sorted(failed)}: edits kept; save elsewhere or retry."
            )
        return report

    def _is_key_frame(self, frame: int, annotation: FrameAnnotation) -> bool:
        # With no key frame given, each file keeps the flag it has.
        if self._key_frame is None:
            return bool(annotation.flags.get(KEY_FRAME_FLAG, False))
        return frame == self._key_frame

    def save_recovery_now(self) -> None:
        """Copy unsaved edits for crash recovery at once instead of after the delay."""
        self._autosave.write_pending()

    def wait_for_recovery_writes(self, timeout_ms: int = 5000) -> bool:
        return self._autosave.wait(timeout_ms)

    # ----- mouse input -----
    def _press(self, x: float, y: float) -> None:
        if self._store is None:
            return
        tool = self._tool
        if tool in (Tool.BRUSH, Tool.ERASER):
            self._current_annotation()
            self._stroke = _Stroke(self._frame, self._label, tool is Tool.BRUSH, (x, y))
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
        mask = self._store.get(stroke.frame).masks[stroke.label]
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
        masks = self._store.get(stroke.frame).masks
        edit = combine_edits(stroke.edits, masks[stroke.label])
        if edit is not None:
            text = f"{'Brush' if stroke.value else 'Erase'} ({stroke.label})"
            self._push(stroke.frame, text, [(stroke.label, edit)], applied=True)

    # ----- edits -----
    def _edit_once(self, operation, text: str) -> bool:
        """Run a one-click ``operation(mask) -> MaskEdit | None`` on the active label of the
        current frame; True when it changed something."""
        self._finish_stroke()
        edit = operation(self._current_annotation().masks[self._label])
        if edit is None:
            return False
        self._push(self._frame, f"{text} ({self._label})", [(self._label, edit)])
        return True

    def _replace_masks(self, masks, text: str, frame: int | None = None) -> bool:
        frame = self._frame if frame is None else frame
        self._finish_stroke()
        annotation = (
            self._current_annotation() if frame == self._frame else self._store.ensure(frame)
        )
        changes = [
            (label, edit)
            for label in LABELS
            if (edit := replace_mask(annotation.masks[label], masks[label])) is not None
        ]
        if not changes:
            self.message.emit(f"{text}: the masks are already the same.")
            return False
        self._push(frame, text, changes)
        return True

    def _push(self, frame: int, text: str, changes, applied: bool = False) -> None:
        masks = self._store.get(frame).masks
        self._stack(frame).push(
            MaskEditCommand(text, masks, frame, changes, self._changed, applied=applied)
        )
        if applied:  # the push did not redraw: announce the change here
            self.masks_changed.emit(frame)

    def _changed(self, frame: int, label: str, edit: MaskEdit) -> None:
        if frame == self._frame:
            self._layers[label].update_region(self._store.get(frame).masks[label], edit.bbox)
        self.masks_changed.emit(frame)

    def _stack(self, frame: int) -> QUndoStack:
        stack = self._stacks.get(frame)
        if stack is None:
            stack = QUndoStack(self._group)
            stack.setUndoLimit(UNDO_LIMIT)
            self._group.addStack(stack)
            stack.indexChanged.connect(lambda _index, f=frame: self._autosave.mark(f))
            stack.cleanChanged.connect(self._emit_unsaved)
            self._stacks[frame] = stack
            if frame == self._frame:
                self._group.setActiveStack(stack)
        return stack

    def _emit_unsaved(self, _clean: bool = False) -> None:
        self.unsaved_changed.emit(self.has_unsaved_changes())

    def _mark_saved(self, frame: int) -> None:
        self._stacks[frame].setClean()
        self._autosave.forget(frame)

    def _unsaved_copy(self, frame: int) -> dict[str, np.ndarray] | None:
        stack = self._stacks.get(frame)
        annotation = self._store.get(frame) if self._store is not None else None
        if stack is None or stack.isClean() or annotation is None:
            return None
        return annotation.copy_masks()

    # ----- display -----
    def _show_frame(self) -> None:
        annotation = self._store.get(self._frame)
        for label, layer in self._layers.items():
            layer.set_mask(None if annotation is None else annotation.masks[label])
        self._group.setActiveStack(self._stacks.get(self._frame))

    def _current_annotation(self) -> FrameAnnotation:
        """The current frame's annotation, created (and shown) on its first edit."""
        annotation = self._store.get(self._frame)
        if annotation is None:
            annotation = self._store.ensure(self._frame)
            self._show_frame()
        return annotation

    def _restack_layers(self) -> None:
        for label, layer in self._layers.items():
            active = label == self._label
            layer.setZValue(_Z_ACTIVE if active else _Z_OTHER)
            layer.setOpacity(_OPACITY_ACTIVE if active else _OPACITY_OTHER)

    def _set_polygon(self, vertices: list[tuple[float, float]]) -> None:
        self._polygon = list(vertices)
        self._surface.set_polygon(self._polygon)

    def _near_first_corner(self, x: float, y: float) -> bool:
        pixel_x, pixel_y = self._view.viewPixelSize()
        first_x, first_y = self._polygon[0]
        return math.hypot((x - first_x) / pixel_x, (y - first_y) / pixel_y) <= _CLOSE_POLYGON_PX

    # ----- recovery -----
    def _find_recovered(
        self, frame_count: int, frame_shape: tuple[int, int]
    ) -> tuple[tuple[RecoveredFrame, ...], tuple[str, ...]]:
        """Recovery copies of this video's frames that differ from what is loaded; copies
        equal to the labels (left over after a save) are removed."""
        newest: dict[int, RecoveredFrame] = {}
        problems: list[str] = []
        for folder in self._recovery_dirs:
            found = read_recovery(folder)
            if found is None:
                continue
            problems.extend(found.problems)
            for frame in found.frames:
                known = newest.get(frame.frame_index)
                if known is None or frame.written_at > known.written_at:
                    newest[frame.frame_index] = frame
        offered = []
        for index, frame in sorted(newest.items()):
            shape = frame.masks[TUMOR].shape
            if index >= frame_count or shape != tuple(frame_shape):
                problems.append(f"{frame.path}: unsaved edits of another video, not restored")
                continue
            current = self._store.get(index)
            same = all(
                np.array_equal(frame.masks[label], current.masks[label])
                if current is not None
                else not frame.masks[label].any()
                for label in LABELS
            )
            if same:
                with contextlib.suppress(OSError):
                    frame.path.unlink(missing_ok=True)
            else:
                offered.append(frame)
        return tuple(offered), tuple(problems)


def _describe(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"

