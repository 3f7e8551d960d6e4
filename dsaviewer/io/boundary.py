"""The one place where a reader's foreign exceptions become InputErrors.

Every public reader runs its work inside :func:`reader_boundary`. The readers check what they
can foresee and raise InputError themselves; whatever still escapes from pydicom, OpenCV,
numpy, Pillow, zipfile or the standard library is turned here into an InputError that names
the file and says in words what went wrong. Such an error is unexpected, so its traceback is
logged for support; the user sees no raw Python text.
"""

from __future__ import annotations

import contextlib
import logging
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from dsaviewer.errors import InputError

_log = logging.getLogger("dsaviewer.io")

# Foreign exception types that mean the same thing to a user whichever library raised them.
_IN_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (MemoryError, "it is too large for the memory available"),
    (RecursionError, "its structure is nested too deeply"),
    (UnicodeError, "it holds text that is not valid UTF-8"),
    (zlib.error, "its compressed data is damaged"),
    (zipfile.BadZipFile, "it is not a readable zip archive"),
    (EOFError, "it ends early (truncated)"),
    # pydicom: an element of a value representation no standard defines, and the like.
    (NotImplementedError, "it uses an encoding or value type this program does not support"),
)


@contextlib.contextmanager
def reader_boundary(source: str | Path, what: str) -> Iterator[None]:
    """Run a reader of ``source`` (``what`` it should be, e.g. "video") so that any exception
    other than InputError leaves as an InputError naming ``source``."""
    try:
        yield
    except InputError:
        raise
    except OSError as error:  # permissions, vanished files, disk errors while reading
        raise InputError(
            f"cannot be read: {error.strerror or error}", error.filename or source
        ) from error
    except Exception as error:
        reason = next(
            (words for kind, words in _IN_WORDS if isinstance(error, kind)),
            "the file is damaged or holds values this program cannot interpret",
        )
        if not isinstance(error, MemoryError):
            _log.error("unexpected %s reading %s", type(error).__name__, source, exc_info=True)
        raise InputError(f"cannot be read as a {what}: {reason}", source) from error
