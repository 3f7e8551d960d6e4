"""The annotator's document: the edited masks of one video's frames, each frame's undo
history with the marker of its saved state, what saving writes, and which crash-recovery
copies are worth offering. Qt-free; the mask editor (``gui/annotation``) is its input and
drawing layer.

History is kept per frame, so undo takes back what was done to the frame on screen, never an
invisible change to another frame; a frame's history survives moving away and coming back; and
its clean marker says exactly which frames differ from their saved labels, so saving writes
only those. A step holds :class:`~dsaviewer.core.mask_editing.MaskEdit` records, the changed
regions only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from psygnal import Signal

from dsaviewer.core.annotation import AnnotationStore, FrameAnnotation, load_annotations
from dsaviewer.core.mask_editing import MaskEdit, replace_mask
from dsaviewer.errors import InputError
from dsaviewer.io.frame_labels import update_label_flags, write_frame_labels
from dsaviewer.io.labelme import KEY_FRAME_FLAG, LABELS, read_labelme
from dsaviewer.io.recovery import RecoveredFrame, read_recovery

# At least 200 undo steps per frame are promised to annotators; the history is per frame and
# each step holds only its changed region, bit-packed, so a generous limit stays small.
UNDO_LIMIT = 300


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


@dataclass(frozen=True)
class EditStep:
    """One undo step: edits of one frame's masks (one or both labels)."""

    text: str
    changes: tuple[tuple[str, MaskEdit], ...]


class FrameHistory:
    """One frame's steps, the position in them, and the position its saved labels match
    (None once that position fell off the start of a full history)."""

    def __init__(self, limit: int = UNDO_LIMIT) -> None:
        self.steps: list[EditStep] = []
        self.index = 0  # steps[:index] are applied
        self.clean: int | None = 0
        self._limit = limit

    def push(self, step: EditStep) -> None:
        del self.steps[self.index:]
        if self.clean is not None and self.clean > self.index:
            self.clean = None  # the saved state was undone and is now out of reach
        self.steps.append(step)
        self.index += 1
        if len(self.steps) > self._limit:
            self.steps.pop(0)
            self.index -= 1
            self.clean = None if self.clean in (None, 0) else self.clean - 1

    @property
    def is_clean(self) -> bool:
        return self.clean == self.index

    def undo_text(self) -> str:
        return self.steps[self.index - 1].text if self.index > 0 else ""

    def redo_text(self) -> str:
        return self.steps[self.index].text if self.index < len(self.steps) else ""


class AnnotationDocument:
    """The masks of one video's annotated frames and their histories.

    ``changed(frame, label, edit)`` fires after a step, undo or redo changed a mask inside
    ``edit.bbox`` (views redraw that region); ``history_changed(frame)`` when a frame's
    history or saved state changed (undo actions, the unsaved marker, recovery copies).
    """

    changed = Signal(int, str, object)
    history_changed = Signal(int)

    def __init__(
        self,
        store: AnnotationStore,
        frames: np.ndarray,
        labels_dir: Path,
        undo_limit: int = UNDO_LIMIT,
    ) -> None:
        self.store = store
        self.frames = frames
        self.labels_dir = labels_dir
        self._limit = undo_limit
        self._histories: dict[int, FrameHistory] = {}

    @classmethod
    def load(
        cls, labels_dir: Path, frames: np.ndarray, recovery_dirs: Iterable[Path] = ()
    ) -> tuple[AnnotationDocument, OpenReport]:
        """The document of ``frames`` ((T, H, W)) with the Labelme files of ``labels_dir``,
        and what opening found (see :class:`OpenReport`, :meth:`reconcile_recovery`)."""
        frames = np.asarray(frames)
        if frames.ndim != 3 or 0 in frames.shape:
            raise ValueError(f"frames must be a non-empty (T, H, W) array, not {frames.shape}")
        loaded = load_annotations(labels_dir, frames.shape[0], frames.shape[1:])
        document = cls(loaded.store, frames, labels_dir)
        recovered, problems = document.reconcile_recovery(recovery_dirs)
        return document, OpenReport(labels_dir, loaded.problems + problems,
                                    loaded.unchecked_predictions, recovered)

    # ----- edits -----
    def masks(self, frame: int) -> dict[str, np.ndarray]:
        """Frame ``frame``'s masks, created empty on first use; change them only through
        :meth:`push` (a brush stroke may draw into them first and push ``applied``)."""
        return self.store.ensure(frame).masks

    def push(self, frame: int, text: str, changes: Sequence[tuple[str, MaskEdit]],
             applied: bool = False) -> None:
        """One undo step on ``frame``; ``applied``: the edits are in the masks already (a
        stroke drawn while the mouse moved), so they are only recorded."""
        masks = self.masks(frame)
        step = EditStep(text, tuple(changes))
        if not applied:
            for label, edit in step.changes:
                edit.apply(masks[label])
        self._history(frame).push(step)
        for label, edit in step.changes:
            self.changed.emit(frame, label, edit)
        self.history_changed.emit(frame)

    def replace_masks(self, frame: int, masks: Mapping[str, np.ndarray], text: str) -> bool:
        """Make ``frame``'s masks equal ``masks`` in one step; False when they already are."""
        current = self.masks(frame)
        changes = [(label, edit) for label in LABELS
                   if (edit := replace_mask(current[label], masks[label])) is not None]
        if changes:
            self.push(frame, text, changes)
        return bool(changes)

    def import_labelme(self, frame: int, path: Path) -> ImportReport:
        """Replace ``frame``'s masks with a Labelme file's (one step). InputError for a file
        that cannot be read or is for another image size."""
        annotation = read_labelme(path)
        if annotation.image_shape != self.store.frame_shape:
            (h, w), (fh, fw) = annotation.image_shape, self.store.frame_shape
            raise InputError(f"the labels are for a {w}x{h} image, the frames are {fw}x{fh}", path)
        self.replace_masks(frame, annotation.masks, f"Import {path.name}")
        return ImportReport(frame, path, annotation.unknown_labels, annotation.unsupported_shapes)

    def undo(self, frame: int) -> bool:
        history = self._histories.get(frame)
        if history is None or history.index == 0:
            return False
        history.index -= 1
        masks = self.masks(frame)
        for label, edit in reversed(history.steps[history.index].changes):
            edit.revert(masks[label])
            self.changed.emit(frame, label, edit)
        self.history_changed.emit(frame)
        return True

    def redo(self, frame: int) -> bool:
        history = self._histories.get(frame)
        if history is None or history.index == len(history.steps):
            return False
        masks = self.masks(frame)
        for label, edit in history.steps[history.index].changes:
            edit.apply(masks[label])
            self.changed.emit(frame, label, edit)
        history.index += 1
        self.history_changed.emit(frame)
        return True

    def history(self, frame: int) -> FrameHistory | None:
        """Frame ``frame``'s history (read it; None before its first edit)."""
        return self._histories.get(frame)

    def _history(self, frame: int) -> FrameHistory:
        return self._histories.setdefault(frame, FrameHistory(self._limit))

    # ----- saving -----
    def unsaved_frames(self) -> list[int]:
        return sorted(frame for frame, history in self._histories.items()
                      if not history.is_clean)

    def unsaved_copy(self, frame: int) -> dict[str, np.ndarray] | None:
        """A copy of ``frame``'s masks when they differ from its saved labels (for a
        crash-recovery copy); None when they do not."""
        history, annotation = self._histories.get(frame), self.store.get(frame)
        if history is None or history.is_clean or annotation is None:
            return None
        return annotation.copy_masks()

    def save(self, key_frame: int | None) -> SaveReport:
        """Write every frame with unsaved edits as ``labels/NNNN.json`` + ``NNNN.png`` (the
        ``key_frame`` flagged; None: each file keeps its flag), and fix the key-frame flag of
        the other label files. A frame that cannot be written keeps its edits, its unsaved
        state and its recovery copy; the report says why."""
        saved: list[int] = []
        failed: dict[int, str] = {}
        for frame in self.unsaved_frames():
            annotation = self.store.get(frame)
            if annotation is None or (annotation.label_file is None and annotation.is_empty()):
                self._mark_saved(frame)  # nothing to write, no file to update
                continue
            flags = annotation.flags_to_save(_is_key(frame, annotation, key_frame))
            try:
                path = write_frame_labels(self.labels_dir, frame, self.frames[frame],
                                          annotation.masks, flags, annotation.kept_shapes)
            except OSError as error:
                failed[frame] = _describe(error)
                continue
            annotation.label_file, annotation.flags = path, flags
            self._mark_saved(frame)
            saved.append(frame)
        for frame in self.store.frames():
            annotation = self.store.get(frame)
            is_key = _is_key(frame, annotation, key_frame)
            if frame in failed or annotation.label_file is None or (
                    annotation.flags.get(KEY_FRAME_FLAG, False) == is_key):
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
        return SaveReport(self.labels_dir, tuple(saved), failed)

    def _mark_saved(self, frame: int) -> None:
        history = self._histories[frame]
        history.clean = history.index
        self.history_changed.emit(frame)

    # ----- recovery -----
    def reconcile_recovery(
        self, folders: Iterable[Path]
    ) -> tuple[tuple[RecoveredFrame, ...], tuple[str, ...]]:
        """The newest crash-recovery copy of each frame found in ``folders`` that differs from
        what is loaded (to offer), and the problems met. Copies equal to the labels (left
        over after a save) are removed; copies of another video are reported, not offered."""
        newest: dict[int, RecoveredFrame] = {}
        problems: list[str] = []
        for folder in folders:
            found = read_recovery(folder)
            if found is None:
                continue
            problems.extend(found.problems)
            for frame in found.frames:
                known = newest.get(frame.frame_index)
                if known is None or frame.written_at > known.written_at:
                    newest[frame.frame_index] = frame
        count, shape = self.frames.shape[0], self.frames.shape[1:]
        offered = []
        for index, frame in sorted(newest.items()):
            if index >= count or frame.masks[LABELS[0]].shape != tuple(shape):
                problems.append(f"{frame.path}: unsaved edits of another video, not restored")
                continue
            current = self.store.get(index)
            same = all(
                np.array_equal(frame.masks[label], current.masks[label])
                if current is not None else not frame.masks[label].any()
                for label in LABELS
            )
            if same:
                with contextlib.suppress(OSError):
                    frame.path.unlink(missing_ok=True)
            else:
                offered.append(frame)
        return tuple(offered), tuple(problems)


def _is_key(frame: int, annotation: FrameAnnotation, key_frame: int | None) -> bool:
    # With no key frame given, each file keeps the flag it has.
    if key_frame is None:
        return bool(annotation.flags.get(KEY_FRAME_FLAG, False))
    return frame == key_frame


def _describe(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"
