"""Python's cyclic garbage collector, run on the UI thread only while a window is open.

Why: an automatic collection runs in whichever thread's allocation sets it off, and it frees
every unreachable Qt wrapper together with its C++ object. Set off in a worker thread, it
deletes Qt objects that belong to the UI thread while that thread may be delivering events to
them: the process aborts ("pure virtual method called") or segfaults. The first import of
torch, in the analysis worker, allocates enough for several full collections; a core dump of
such a crash shows the worker in ``gc_collect_main`` freeing Qt wrappers (of windows closed
earlier) and the UI thread crashed in ``QObject::event``, delivering a posted event.
pyqtgraph's ``GarbageCollector`` is the same cure for the same trouble.

Instead, automatic collection is off while a :class:`UiThreadGarbageCollection` is active, and
a timer on the UI thread collects a generation whenever automatic collection would have."""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500  # garbage lives at most this much longer than it would have

# Touched from the UI thread only.
_active = 0  # active instances (windows)
_enabled_before = True
_young_collections = 0  # middle-generation collections since a full one was last considered
_survivors = 0  # objects in the oldest generation after the last full collection
_backend_frozen = False  # the inference backend's objects are out of the collections


class UiThreadGarbageCollection:
    """Collects garbage from a timer owned by ``owner`` (a window, in the UI thread) from
    construction until :meth:`stop`, or until ``owner`` is deleted; automatic collection is
    back once every instance has stopped."""

    def __init__(self, owner: QObject) -> None:
        global _active, _enabled_before
        if _active == 0:
            _enabled_before = gc.isenabled()
            gc.disable()
            # What exists before the window is long-lived (modules, torch when loaded): kept
            # out of the collections the timer makes on the UI thread, which then stay short.
            gc.freeze()
        _active += 1
        self._active = True
        self._timer = QTimer(owner)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(collect_due_generation)
        self._timer.start()
        owner.destroyed.connect(lambda *_: self._release())  # deleted without a stop

    def stop(self) -> None:
        self._timer.stop()
        self._release()

    def _release(self) -> None:
        global _active, _backend_frozen
        if self._active:
            self._active = False
            _active -= 1
            if _active == 0:
                gc.unfreeze()
                _backend_frozen = False
                if _enabled_before:
                    gc.enable()


def collect_due_generation() -> None:
    """Collect what automatic collection would on its next allocation, by CPython's rules:
    nothing until the youngest generation's count passes its threshold; then the middle
    generation too once it is due, and every generation only once the objects that reached
    the oldest since its last collection number a quarter of those it kept then. A full
    collection of torch's and the viewer's ~300,000 objects holds the UI thread 0.1-0.2 s:
    it must stay rare, and what exists before the window and the backend once loaded are
    frozen out of it."""
    global _young_collections, _survivors
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if counts[0] <= thresholds[0]:
        return
    if counts[1] <= thresholds[1]:
        gc.collect(0)
        return
    _young_collections += 1
    if _young_collections > thresholds[2]:
        _young_collections = 0
        if len(gc.get_objects(2)) - _survivors > _survivors // 4:
            gc.collect(2)
            _freeze_the_backend_once()
            _survivors = len(gc.get_objects(2))
            return
    gc.collect(1)


def _freeze_the_backend_once() -> None:
    """Once torch or ONNX Runtime is loaded (in the analysis worker, on the first analysis),
    freeze what survives: its ~300,000 long-lived objects then stay out of every later full
    collection, which would otherwise hold the UI thread 0.1-0.2 s each time. Only once, not
    after every full collection: cyclic garbage among frozen objects is never freed while a
    window is open, and a session opens many cases."""
    global _backend_frozen
    if not _backend_frozen and ("torch" in sys.modules or "onnxruntime" in sys.modules):
        gc.freeze()
        _backend_frozen = True
