"""The mask editor: the Qt layer over the annotation document
(:class:`~dsaviewer.app.annotation_document.AnnotationDocument`, which holds the masks, their
per-frame history, the save plan and the recovery reconciliation). It draws the edited masks
on the frame's view box, takes mouse input there (:mod:`.pointer`), and copies unsaved work
for crash recovery a moment after each change.

Give it the view box that shows the frames, call :meth:`open_case` when a case is loaded and
:meth:`set_frame` when the frame on screen changes; the panel (:mod:`.panel`) drives the rest.
Nothing here blocks on disk except :meth:`save` (the few changed frames, when asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

from dsaviewer.app.annotation_document import (
    AnnotationDocument,
    FrameHistory,
    ImportReport,
    OpenReport,
    SaveReport,
)
from dsaviewer.app.case_session import frame_number, frame_numbers_text
from dsaviewer.core.annotation import AnnotationStore, FrameAnnotation
from dsaviewer.core.mask_editing import MaskEdit
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.autosave import RecoveryAutosave, user_recovery_folder
from dsaviewer.gui.annotation.mask_layer import MaskLayerItem
from dsaviewer.gui.annotation.pointer import PointerInput, Stroke
from dsaviewer.gui.annotation.surface import EditingSurface
from dsaviewer.gui.annotation.tools import (
    DEFAULT_BRUSH_RADIUS,
    LABEL_RGB,
    LABEL_TEXT,
    LIVER,
    TUMOR,
    Tool,
)
from dsaviewer.gui.export.frame_render import EditedMask
from dsaviewer.io.frame_labels import labels_folder_for
from dsaviewer.io.labelme import LABELS
from dsaviewer.io.recovery import RecoveredFrame, recovery_folder_for

# Edited masks lie above the model's overlays (z 10-14 in the frame view), the active label
# on top and more opaque, the other one still visible beneath it.
_Z_ACTIVE, _Z_OTHER = 31, 30
_OPACITY_ACTIVE, _OPACITY_OTHER = 0.6, 0.35


class MaskEditor(PointerInput, QObject):
    """Edits the tumour and liver masks of the frames of one video."""

    masks_changed = Signal(int)  # a frame whose masks changed (edit, undo, redo)
    message = Signal(str)  # one line for the status bar
    unsaved_changed = Signal(bool)
    tool_changed = Signal(object)  # Tool
    label_changed = Signal(str)
    radius_changed = Signal(float)
    case_opened = Signal(object)  # OpenReport
    case_closed = Signal()
    history_changed = Signal()  # the undo/redo of the frame on screen changed

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
        self._document: AnnotationDocument | None = None
        self._recovery_dirs: tuple[Path, ...] = ()
        self._frame = 0
        self._key_frame: int | None = None
        self._prediction: dict[str, np.ndarray] | None = None
        self._tool = Tool.NAVIGATE
        self._label = TUMOR
        self._radius = DEFAULT_BRUSH_RADIUS
        self._stroke: Stroke | None = None
        self._polygon: list[tuple[float, float]] = []
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
        labels = Path(labels_dir) if labels_dir is not None else labels_folder_for(opened)
        recovery_dirs = (
            recovery_folder_for(opened),
            user_recovery_folder(Path(opened), self._fallback_root),
        )
        document, report = AnnotationDocument.load(labels, frames, recovery_dirs)
        if not 0 <= current_frame < frames.shape[0]:
            raise ValueError(f"frame {current_frame} is outside 0..{frames.shape[0] - 1}")
        self._document, self._recovery_dirs = document, recovery_dirs
        document.changed.connect(self._changed)
        document.history_changed.connect(self._history_changed)
        self._key_frame = key_frame
        self._autosave.set_folders(*recovery_dirs)
        self._surface.set_frame_size(*frames.shape[1:])
        self._frame = int(current_frame)
        self._show_frame()
        self.case_opened.emit(report)
        return report

    def close_case(self, discard_unsaved: bool = False) -> None:
        """Stop editing. Unsaved edits leave memory but keep their crash-recovery copies (they
        are offered at the next opening) unless ``discard_unsaved``: the user chose to drop
        them. Ask first: :func:`.dialogs.confirm_close`."""
        if self._document is None:
            return
        self._finish_stroke()
        self._set_polygon([])
        if discard_unsaved:
            self._autosave.discard_all()
        else:
            self._autosave.write_pending()
        self._autosave.wait()
        self._autosave.set_folders(None, None)
        self._document = None
        self._prediction = None
        for layer in self._layers.values():
            layer.set_mask(None)
        self._surface.set_frame_size(0, 0)
        self.unsaved_changed.emit(False)
        self.history_changed.emit()
        self.case_closed.emit()

    @property
    def is_open(self) -> bool:
        return self._document is not None

    @property
    def document(self) -> AnnotationDocument | None:
        """The masks as edited and their histories (read them; edit through this editor)."""
        return self._document

    @property
    def store(self) -> AnnotationStore | None:
        """The masks as edited (read them; change them only through this editor)."""
        return None if self._document is None else self._document.store

    @property
    def labels_dir(self) -> Path | None:
        return None if self._document is None else self._document.labels_dir

    @property
    def recovery_dirs(self) -> tuple[Path, ...]:
        """Where crash-recovery copies go: the case's own folder, then the per-user one."""
        return self._recovery_dirs

    # ----- what the main window tells the editor -----
    def set_frame(self, index: int) -> None:
        """The frame on screen changed: edits now go to frame ``index``."""
        if self._document is None or index == self._frame:
            return
        self._finish_stroke()
        self._set_polygon([])
        self._frame = int(index)
        self._show_frame()
        self.history_changed.emit()

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
        store = self.store
        if store is not None and any(mask.shape != store.frame_shape for mask in masks.values()):
            raise ValueError(f"prediction masks must be {store.frame_shape}")
        self._prediction = masks

    def set_layers_visible(self, visible: bool) -> None:
        for layer in self._layers.values():
            layer.setVisible(visible)

    def masks_as_shown(self, frame: int) -> list[EditedMask]:
        """Frame ``frame``'s edited masks as the screen draws them (unsaved edits included),
        bottom to top, for an export; none while the layers are hidden."""
        annotation = None if self.store is None else self.store.get(frame)
        if annotation is None or not any(layer.isVisible() for layer in self._layers.values()):
            return []
        layers = sorted(self._layers.items(), key=lambda item: item[1].zValue())
        return [EditedMask(f"{LABEL_TEXT[label]} annotation", annotation.masks[label].copy(),
                           LABEL_RGB[label], layer.opacity())
                for label, layer in layers if annotation.masks[label].any()]

    # ----- whole-frame operations (each one undo step) -----
    def accept_prediction(self) -> bool:
        """Copy the model's masks into the current frame's editable masks."""
        if self._document is None:
            return False
        if self._prediction is None:
            self.message.emit("No model masks to accept: analyse the run first.")
            return False
        return self._replace_masks(self._prediction, "Accept model masks")

    def copy_from_previous(self) -> bool:
        """Copy the previous frame's masks into the current frame."""
        if self._document is None:
            return False
        previous = self.store.get(self._frame - 1) if self._frame > 0 else None
        if previous is None or previous.is_empty():
            self.message.emit(f"Frame {frame_number(self._frame - 1)} has no masks to copy.")
            return False
        return self._replace_masks(
            previous.masks, f"Copy masks from frame {frame_number(self._frame - 1)}"
        )

    def import_labelme(self, path: str | Path) -> ImportReport:
        """Replace the current frame's masks with a Labelme file's (one undo step).
        InputError for a file that cannot be read or is for another image size."""
        if self._document is None:
            raise InputError("open a case before importing labels", path)
        self._finish_stroke()
        self._current_annotation()
        return self._document.import_labelme(self._frame, Path(path))

    def restore(self, recovered: Sequence[RecoveredFrame]) -> None:
        """Put recovered unsaved edits back (one undo step per frame); they stay unsaved."""
        if self._document is None:
            return
        for frame in recovered:
            self._replace_masks(frame.masks, "Restore unsaved edits", frame.frame_index)
        self.message.emit(f"Restored unsaved edits of {len(recovered)} frame(s).")

    def discard_recovered(self) -> None:
        """Delete the recovery copies found at opening (the user declined them)."""
        self._autosave.discard_all()

    # ----- undo -----
    def undo(self) -> None:
        if self._polygon:  # while drawing a polygon, undo takes back its last corner
            self._set_polygon(self._polygon[:-1])
            return
        self._finish_stroke()
        if self._document is not None:
            self._document.undo(self._frame)

    def redo(self) -> None:
        self._finish_stroke()
        if self._document is not None:
            self._document.redo(self._frame)

    @property
    def history(self) -> FrameHistory | None:
        """The history of the frame on screen (None before its first edit)."""
        return None if self._document is None else self._document.history(self._frame)

    # ----- saving -----
    def unsaved_frames(self) -> list[int]:
        return [] if self._document is None else self._document.unsaved_frames()

    def has_unsaved_changes(self) -> bool:
        return bool(self.unsaved_frames())

    def save(self) -> SaveReport:
        """Write the frames with unsaved edits (:meth:`AnnotationDocument.save`, the key frame
        flagged) and say how it went in the status bar."""
        if self._document is None:
            raise RuntimeError("no case is open")
        self._finish_stroke()
        report = self._document.save(self._key_frame)
        if report.ok:
            self.message.emit(f"Saved {len(report.saved)} frame(s) to {report.labels_dir}.")
        else:
            self.message.emit(
                f"Could not save frame(s) {frame_numbers_text(sorted(report.failed))}: edits "
                "kept; save elsewhere or retry."
            )
        return report

    def save_recovery_now(self) -> None:
        """Copy unsaved edits for crash recovery at once instead of after the delay."""
        self._autosave.write_pending()

    def wait_for_recovery_writes(self, timeout_ms: int = 5000) -> bool:
        return self._autosave.wait(timeout_ms)

    # ----- edits -----
    def _replace_masks(self, masks, text: str, frame: int | None = None) -> bool:
        frame = self._frame if frame is None else frame
        self._finish_stroke()
        if frame == self._frame:
            self._current_annotation()
        if not self._document.replace_masks(frame, masks, text):
            self.message.emit(f"{text}: the masks are already the same.")
            return False
        return True

    def _changed(self, frame: int, label: str, edit: MaskEdit) -> None:
        if frame == self._frame:
            self._layers[label].update_region(self.store.get(frame).masks[label], edit.bbox)
        self.masks_changed.emit(frame)

    def _history_changed(self, frame: int) -> None:
        if self._document.history(frame).is_clean:
            self._autosave.forget(frame)
        else:
            self._autosave.mark(frame)
        self.unsaved_changed.emit(self.has_unsaved_changes())
        if frame == self._frame:
            self.history_changed.emit()

    def _unsaved_copy(self, frame: int) -> dict[str, np.ndarray] | None:
        return None if self._document is None else self._document.unsaved_copy(frame)

    # ----- display -----
    def _show_frame(self) -> None:
        annotation = self.store.get(self._frame)
        for label, layer in self._layers.items():
            layer.set_mask(None if annotation is None else annotation.masks[label])

    def _current_annotation(self) -> FrameAnnotation:
        """The current frame's annotation, created (and shown) on its first edit."""
        annotation = self.store.get(self._frame)
        if annotation is None:
            annotation = self.store.ensure(self._frame)
            self._show_frame()
        return annotation

    def _restack_layers(self) -> None:
        for label, layer in self._layers.items():
            active = label == self._label
            layer.setZValue(_Z_ACTIVE if active else _Z_OTHER)
            layer.setOpacity(_OPACITY_ACTIVE if active else _OPACITY_OTHER)
