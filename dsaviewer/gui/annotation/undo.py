"""Undo steps of the mask editor.

History is kept per frame: one QUndoStack per annotated frame, gathered in a QUndoGroup whose
active stack follows the frame on screen. Ctrl+Z then undoes what the annotator did to the
frame they are looking at, never an invisible change to another frame; each frame's history
survives moving away and coming back; and each stack's clean state says exactly which frames
differ from their saved labels, so saving writes only those.

A step holds :class:`~dsaviewer.core.mask_editing.MaskEdit` records, the changed regions only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtGui import QUndoCommand

from dsaviewer.core.mask_editing import MaskEdit

# Called with (frame, label, edit) after a step changed that mask in the edit's box: the
# editor redraws the region.
ChangeListener = Callable[[int, str, MaskEdit], None]


class MaskEditCommand(QUndoCommand):
    """One undo step: edits of one frame's masks (one or both labels). ``masks`` is the
    frame's label -> mask dict, whose arrays the step changes in place.

    ``applied`` says the edits are already in the masks (a brush stroke is drawn while the
    mouse moves), so the push does not redraw them a second time.
    """

    def __init__(
        self,
        text: str,
        masks: dict[str, np.ndarray],
        frame: int,
        changes: Sequence[tuple[str, MaskEdit]],
        on_change: ChangeListener,
        applied: bool = False,
    ) -> None:
        super().__init__(text)
        self._masks = masks
        self.frame = frame
        self.changes = tuple(changes)
        self._on_change = on_change
        self._skip_next_redo = applied

    def redo(self) -> None:
        if self._skip_next_redo:
            self._skip_next_redo = False
            return
        for label, edit in self.changes:
            edit.apply(self._masks[label])
            self._on_change(self.frame, label, edit)

    def undo(self) -> None:
        for label, edit in reversed(self.changes):
            edit.revert(self._masks[label])
            self._on_change(self.frame, label, edit)
