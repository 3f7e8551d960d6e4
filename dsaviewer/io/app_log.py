"""The viewer's own log: a rotating file in the per-user data folder, for support questions
("what did it do before it failed?"), holding no patient identifiers.

What goes in are events and numbers: a video of 12 frames of 512x512 opened, an analysis that
took 1.8 s on the CPU, 2 frames of labels saved, an error's kind and reason. File and folder
names, DICOM patient and study fields and clinical values are never logged: a path names the
patient on many systems. :func:`log_event` is the one way in; :func:`anonymous_reason` strips
the file name from an error before it is logged.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.io.user_data import user_data_folder

LOG_FOLDER_NAME = "logs"
LOG_FILE_NAME = "dsaviewer.log"
LOGGER_NAME = "dsaviewer"
_MAX_BYTES = 1_000_000
_BACKUPS = 4

_logger = logging.getLogger(LOGGER_NAME)
# Absolute paths (POSIX, Windows drive or UNC) and quoted file names inside a message.
_PATH = re.compile(r"""(?:[A-Za-z]:\\|\\\\|/)[^\s'"]+|'[^']*\.[A-Za-z0-9]{2,5}'""")


def log_folder() -> Path:
    """``<per-user data folder>/logs``."""
    return user_data_folder() / LOG_FOLDER_NAME


def start_log(folder: Path | None = None) -> Path:
    """Send :func:`log_event` lines to ``folder/dsaviewer.log`` (default :func:`log_folder`),
    rotated at 1 MB with 4 old files kept; returns the file. Calling it again with another
    folder moves the log there. OSError when the folder cannot be made."""
    target = (folder or log_folder()) / LOG_FILE_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    for handler in list(_logger.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            _logger.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    _logger.addHandler(handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False
    return target


def stop_log() -> None:
    for handler in list(_logger.handlers):
        _logger.removeHandler(handler)
        handler.close()


def log_event(message: str, level: int = logging.INFO) -> None:
    """One line in the log; ``message`` must hold no path, name or clinical value."""
    _logger.log(level, message)


def anonymous_reason(error: BaseException | str) -> str:
    """An error (or a message) as loggable text: its kind and reason, without the files it
    names."""
    if isinstance(error, str):
        return _PATH.sub("<path>", error)
    reason = error.reason if isinstance(error, InputError) else str(error)
    return f"{type(error).__name__}: {_PATH.sub('<path>', reason)}"
