"""Shared test set-up: Qt offscreen, and the real public DICOM files beside the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Qt must not look for a display in CI; set before any Qt import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_dicom_dir() -> Path:
    """The folder of real public angiography DICOM files, or a skip naming what is missing."""
    folder = SHARED_DATA / "dicom"
    if not folder.is_dir():
        pytest.skip(f"real DICOM test files not found at {folder}")
    return folder


@pytest.fixture(autouse=True)
def _private_user_data(tmp_path_factory, monkeypatch) -> Path:
    """A per-user data folder of the test's own: the user's is never read or written."""
    folder = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("DSAVIEWER_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def private_qsettings(tmp_path) -> None:
    """For the viewer tests: the user's own Qt settings are never read or written, and
    pyqtgraph is configured as the viewer configures it."""
    from PySide6.QtCore import QSettings

    from dsaviewer.gui.app import configure_pyqtgraph

    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(tmp_path / "qsettings"))
    configure_pyqtgraph()


@pytest.fixture
def settings_path(tmp_path) -> Path:
    """The viewer's settings file of one test."""
    return tmp_path / "viewer.ini"


@pytest.fixture
def warnings(monkeypatch) -> list[tuple[str, str]]:
    """The viewer's warning boxes of one test, as (title, text), instead of on screen."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *rest: shown.append((title, text)))
    return shown


@pytest.fixture
def viewer(qtbot, tmp_path):
    """The mask editor on a small frame-folder case (tests/annotation_viewer.py)."""
    from annotation_viewer import make_case, make_viewer

    case, frames = make_case(tmp_path / "case1")
    return make_viewer(qtbot, case, frames, tmp_path / "user-recovery")


# A real PACS (Orthanc) for the PACS tests; they skip where Orthanc is not installed.
from orthanc_server import orthanc, own_orthanc  # noqa: E402, F401
