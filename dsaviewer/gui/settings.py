"""The viewer's preferences and window layout, kept in QSettings.

Tests and benchmarks pass their own file (:func:`open_settings` with a path) so they never
read or change the user's settings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "DSA Viewer"
APPLICATION = "DSA Viewer"

AUTO_ANALYZE = "analysis/auto_run"
WINDOW_GEOMETRY = "window/geometry"
WINDOW_STATE = "window/state"
RECENT_FILES = "files/recent"
LAST_FOLDER = "files/last_folder"


def open_settings(path: str | Path | None = None) -> QSettings:
    """The user's settings, or an INI file at ``path``."""
    if path is None:
        return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                         APPLICATION)
    return QSettings(str(path), QSettings.Format.IniFormat)


def read_bool(settings: QSettings, key: str, default: bool) -> bool:
    # INI files store booleans as text; type=bool converts "true"/"false" back.
    return bool(settings.value(key, default, type=bool))


def read_float(settings: QSettings, key: str, default: float) -> float:
    try:
        return float(settings.value(key, default))
    except (TypeError, ValueError):
        return default


def read_strings(settings: QSettings, key: str) -> list[str]:
    value = settings.value(key, [])
    if isinstance(value, str):  # a one-element list comes back as a plain string
        return [value] if value else []
    return [str(item) for item in value or []]
