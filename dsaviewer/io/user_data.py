"""The per-user data folder, and the name a video's state gets there.

Opening and analysing never write beside what was opened: a loose file may sit in a shared
folder, on a CD or a read-only network share. What the viewer keeps for it (cached analyses,
the state of loose files, the log) lives in one folder of the user's own:

- ``$DSAVIEWER_DATA_DIR`` when set (tests and portable installs);
- Windows ``%LOCALAPPDATA%\\DSAViewer``, macOS ``~/Library/Application Support/DSAViewer``,
  elsewhere ``$XDG_DATA_HOME/DSAViewer`` (default ``~/.local/share/DSAViewer``).

A video's entry there is named by the video's identity (:func:`video_key`): a hash of its
size and of the bytes at its start and end, not of its path, so the same run found on another
drive letter or copied elsewhere finds its state, and no file or patient name appears in the
folder's listing.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

DATA_DIR_VARIABLE = "DSAVIEWER_DATA_DIR"
CASES_FOLDER_NAME = "cases"
_APP_FOLDER = "DSAViewer"
# Enough of a file's start (headers, first frames) and end to tell runs apart, read fast
# even from a CD.
_SAMPLE_BYTES = 1 << 20


def user_data_folder() -> Path:
    """The per-user data folder (see the module text); not created here."""
    chosen = os.environ.get(DATA_DIR_VARIABLE)
    if chosen:
        return Path(chosen)
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / _APP_FOLDER
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / _APP_FOLDER
    base = os.environ.get("XDG_DATA_HOME")
    return (Path(base) if base else home / ".local" / "share") / _APP_FOLDER


def video_key(source: str | Path) -> str:
    """A 20-hex-digit name for the video at ``source`` (a file, or a folder of frames or
    DICOM files), the same wherever the video is copied. OSError when it cannot be read.

    A folder is known by its files' names and sizes and the bytes of its first file: reading
    every file of a long DICOM series from a CD would hold up opening it."""
    path = Path(source)
    digest = hashlib.sha256()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        for file in files:
            digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
        files = files[:1]
    else:
        files = [path]
    for file in files:
        size = file.stat().st_size
        digest.update(f"{size}\0".encode())
        with file.open("rb") as stream:
            digest.update(stream.read(_SAMPLE_BYTES))
            if size > 2 * _SAMPLE_BYTES:
                stream.seek(size - _SAMPLE_BYTES)
                digest.update(stream.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:20]


def video_data_folder(source: str | Path) -> Path:
    """The per-user folder of the video at ``source``: ``<data>/cases/<video_key>``; for a
    video that cannot be read (not there yet), a key made from its absolute path."""
    try:
        key = video_key(source)
    except OSError:
        name = str(Path(source).absolute()).encode("utf-8")
        key = "path-" + hashlib.sha256(name).hexdigest()[:15]
    return user_data_folder() / CASES_FOLDER_NAME / key
