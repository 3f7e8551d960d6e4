"""A cheap check of an AVI or MP4 file's top-level structure, before FFmpeg probes it.

Only the chunk (AVI) or box (MP4) headers are read, seeking from one to the next, so a file
of any size is checked in a few reads. A file passes when its structure is intact as far as
the frame data: AVI ``RIFF....AVI `` with a ``LIST movi``; MP4 with a ``moov`` box. It says
nothing about whether the frames themselves decode.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from dsaviewer.errors import InputError

# Enough chunks for any real file (a few headers, JUNK padding, the frame list, the index).
_MAX_TOP_LEVEL_ENTRIES = 10_000


def check_container(path: Path, source_format: str) -> int:
    """Refuse a file whose container structure is broken; return its size in bytes."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        stream.seek(0)
        walk = _avi_problem if source_format == "avi" else _mp4_problem
        problem = walk(stream, size)
    if problem:
        raise InputError(f"is not a readable {source_format.upper()} file: {problem}", path)
    return size


def _avi_problem(stream: BinaryIO, size: int) -> str | None:
    head = stream.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"AVI ":
        return "it does not start with a RIFF AVI header"

    def visit(offset: int, header: bytes) -> int | str | None:
        chunk_id, chunk_size = header[:4], struct.unpack("<I", header[4:8])[0]
        if not _is_fourcc(chunk_id):
            return f"byte {offset} holds no chunk header (damaged or padded with garbage)"
        if chunk_id == b"LIST" and header[8:12] == b"movi":
            return None
        return offset + 8 + chunk_size + (chunk_size & 1)

    return _walk_top_level(stream, size, 12, 12, visit,
                           "it holds no frame data (no 'movi' list before the end of the file)")


def _mp4_problem(stream: BinaryIO, size: int) -> str | None:
    def visit(offset: int, header: bytes) -> int | str | None:
        box_size, box_type = struct.unpack(">I", header[:4])[0], header[4:8]
        if not _is_fourcc(box_type):
            return f"byte {offset} holds no box header (damaged or not MP4)"
        if box_type == b"moov":
            return None
        if box_size == 1 and len(header) == 16:  # 64-bit size follows the type
            box_size = struct.unpack(">Q", header[8:16])[0]
        if box_size == 0:  # the box runs to the end of the file
            return size
        if box_size < 8:
            return f"the box at byte {offset} declares an impossible size {box_size}"
        return offset + box_size

    return _walk_top_level(stream, size, 0, 16, visit, "it holds no movie header ('moov' box)")


def _walk_top_level(
    stream: BinaryIO,
    size: int,
    offset: int,
    header_size: int,
    visit: Callable[[int, bytes], int | str | None],
    not_found: str,
) -> str | None:
    """Read the top-level headers from ``offset`` on, seeking from one to the next.
    ``visit(offset, header)`` answers with the next header's offset, None when this entry is
    the one looked for (the file passes), or the problem in words; ``not_found`` is the
    problem when the file ends (or the entries run out) first."""
    for _ in range(_MAX_TOP_LEVEL_ENTRIES):
        if offset + 8 > size:
            break
        stream.seek(offset)
        step = visit(offset, stream.read(header_size))
        if not isinstance(step, int):
            return step
        offset = step
    return not_found


def _is_fourcc(code: bytes) -> bool:
    return len(code) == 4 and all(32 <= byte < 127 for byte in code)
