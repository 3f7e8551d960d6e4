"""Content hashes that identify an input without naming where it lives.

Results record the input's file name and :func:`source_sha256`, never its absolute path:
hospital folder names often carry patient names.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of one file's bytes, hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def source_sha256(path: str | Path) -> str:
    """The SHA-256 of a video source: a file's bytes, or for a folder (frame images, DICOM
    series) the names and hashes of its non-hidden files in name order, so the same frames
    give the same hash wherever the folder is."""
    source = Path(path)
    if not source.is_dir():
        return file_sha256(source)
    digest = hashlib.sha256()
    for entry in sorted(source.rglob("*")):
        relative = entry.relative_to(source)
        if entry.is_file() and not any(part.startswith(".") for part in relative.parts):
            digest.update(f"{relative.as_posix()}\0{file_sha256(entry)}\n".encode())
    return digest.hexdigest()
