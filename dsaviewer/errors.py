"""The error types the program shows to a user.

Every reader and validator raises :class:`InputError` with a message a person can act on
("what is wrong with which file or field"); callers catch this one type and show it.
"""

from __future__ import annotations

from pathlib import Path


class DSAViewerError(Exception):
    """Base class of the errors this program raises on purpose."""


class InputError(DSAViewerError):
    """Bad user input: a file that cannot be read, a folder that breaks the contract, a value
    out of range. ``source`` names the file or field at fault when there is one."""

    def __init__(self, message: str, source: str | Path | None = None) -> None:
        self.source = None if source is None else str(source)
        self.reason = message
        super().__init__(f"{self.source}: {message}" if self.source else message)
