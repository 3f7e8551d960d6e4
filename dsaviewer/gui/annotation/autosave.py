"""Crash-recovery copies of unsaved mask edits, written a moment after each change.

Every change marks its frame; a single-shot timer started by the first mark (and not pushed
back by later ones, so steady painting is still copied every couple of seconds) snapshots the
marked frames and writes them on a one-thread pool: disk time never stalls the brush, and
writes and removals land in the order they were asked for. A frame without unsaved edits has
its copy removed instead.

When the case's own recovery folder cannot be written (a read-only share, a full disk) the
copy goes to a per-user folder, so the work is still protected while the user finds somewhere
to save it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from dsaviewer.gui.background.workers import run_in_background, serial_pool
from dsaviewer.io.recovery import (
    RECOVERY_FOLDER_NAME,
    discard_recovery,
    remove_recovery_frame,
    write_recovery_frame,
)

DEFAULT_DELAY_MS = 2000

# Returns a copy of a frame's masks when it has unsaved edits, else None.
Snapshot = Callable[[int], "dict[str, np.ndarray] | None"]


def user_recovery_folder(opened: Path, root: Path | None = None) -> Path:
    """The per-user fallback recovery folder of one opened case, named after its path, under
    ``root`` (default: the application's local data folder)."""
    if root is None:
        location = QStandardPaths.StandardLocation.AppLocalDataLocation
        root = Path(QStandardPaths.writableLocation(location)) / RECOVERY_FOLDER_NAME
    digest = hashlib.sha1(str(Path(opened).absolute()).encode("utf-8")).hexdigest()[:16]
    return root / digest


class RecoveryAutosave(QObject):
    """``written(folder)`` after each successful write; ``failed(message)`` when neither
    folder could take a frame's copy."""

    written = Signal(object)
    failed = Signal(str)

    def __init__(
        self, snapshot: Snapshot, parent: QObject | None = None, delay_ms: int = DEFAULT_DELAY_MS
    ) -> None:
        super().__init__(parent)
        self._snapshot = snapshot
        self._folders: tuple[Path, ...] = ()
        self._pending: set[int] = set()
        self._pool = serial_pool(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.write_pending)

    def set_folders(self, primary: Path | None, fallback: Path | None) -> None:
        """Where copies go, first choice first; None/None stops autosaving."""
        self._timer.stop()
        self._pending.clear()
        self._folders = tuple(folder for folder in (primary, fallback) if folder is not None)

    @property
    def folders(self) -> tuple[Path, ...]:
        return self._folders

    def mark(self, frame: int) -> None:
        """Frame ``frame`` changed: copy it (or remove its copy) within the delay."""
        if not self._folders:
            return
        self._pending.add(frame)
        if not self._timer.isActive():
            self._timer.start()

    def write_pending(self) -> None:
        """Snapshot the marked frames now and write them in the background."""
        self._timer.stop()
        if not self._pending or not self._folders:
            return
        snapshots = {frame: self._snapshot(frame) for frame in sorted(self._pending)}
        self._pending.clear()
        folders = self._folders
        run_in_background(
            lambda: _write(folders, snapshots), self._on_written, self._on_failed, self._pool
        )

    def forget(self, frame: int) -> None:
        """Remove frame ``frame``'s copy (it was saved), after any write already queued."""
        self._pending.discard(frame)
        folders = self._folders
        run_in_background(lambda: _remove(folders, frame), _ignore, self._on_failed, self._pool)

    def discard_all(self) -> None:
        """Remove every copy (the user chose to drop the unsaved edits)."""
        self._timer.stop()
        self._pending.clear()
        folders = self._folders
        run_in_background(lambda: _discard(folders), _ignore, self._on_failed, self._pool)

    def wait(self, timeout_ms: int = 5000) -> bool:
        """Block until the queued writes are done (closing the case); False on timeout."""
        return self._pool.waitForDone(timeout_ms)

    # A write may finish after the editor (and this object) went away with its window.
    def _on_written(self, folder: Path | None) -> None:
        if folder is not None and shiboken6.isValid(self):
            self.written.emit(folder)

    def _on_failed(self, error: Exception, trace: str) -> None:
        if shiboken6.isValid(self):
            self.failed.emit(f"Unsaved edits could not be copied for crash recovery: {error}")


def _write(folders: tuple[Path, ...], snapshots: dict) -> Path | None:
    """Write or remove each frame's copy in the first folder that takes it; return it."""
    used = None
    for frame, masks in snapshots.items():
        if masks is None:
            _remove(folders, frame)
            continue
        errors = []
        for folder in folders:
            try:
                write_recovery_frame(folder, frame, masks)
            except OSError as error:
                errors.append(f"{folder}: {error.strerror or error}")
                continue
            used = folder
            for other in folders:  # an older copy elsewhere must not shadow this one
                if other != folder:
                    _remove((other,), frame)
            break
        else:
            raise OSError("; ".join(errors))
    return used


def _remove(folders: tuple[Path, ...], frame: int) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):  # an unwritable folder holds no copy to remove
            remove_recovery_frame(folder, frame)


def _discard(folders: tuple[Path, ...]) -> None:
    for folder in folders:
        discard_recovery(folder)


def _ignore(_result: object) -> None:
    pass
