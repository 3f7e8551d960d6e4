"""Python's garbage is collected on the UI thread only while a viewer window is open
(dsaviewer/gui/background/garbage.py): a collection set off in the analysis worker, by the
first import of torch, deleted Qt objects under the UI thread and aborted the process now and
then ("pure virtual method called")."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from test_gui_fixtures import FakeAnalysis

from dsaviewer.gui.main_window import MainWindow
from dsaviewer.resources import weights_dir

SCRIPT = Path(__file__).with_name("viewer_first_analyses.py")


class Node:
    itself: Node


def test_a_fresh_viewer_opens_and_analyses_several_runs(tmp_path):
    """In a process of its own: only there is torch still to be imported by the first
    analysis. The child's checks are in viewer_first_analyses.py."""
    if not (weights_dir() / "manifest.json").is_file():
        pytest.skip(f"no shipped weights in {weights_dir()}")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path), "3"], capture_output=True, text=True,
        timeout=1200, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, (
        f"exit status {done.returncode} (-6: aborted, -11: segfault)\n{done.stdout}\n"
        f"{done.stderr[-6000:]}")
    assert done.stdout.count("analysed on") == 3


@pytest.mark.usefixtures("private_qsettings")
def test_automatic_collection_is_off_while_a_window_is_open_and_back_after(qtbot, tmp_path):
    assert gc.isenabled()
    settings = QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings, analyze=FakeAnalysis())
    qtbot.addWidget(first)
    second = MainWindow(settings, analyze=FakeAnalysis())
    qtbot.addWidget(second)
    assert not gc.isenabled()

    node = Node()
    node.itself = node  # a cycle: only a collection frees it
    freed = weakref.ref(node)
    del node
    enough = [[] for _ in range(gc.get_threshold()[0] + 1)]  # a collection is due
    qtbot.waitUntil(lambda: freed() is None, timeout=5000)  # the window's timer collected
    del enough

    first.close()
    assert not gc.isenabled()  # the other window is still open
    second.close()
    assert gc.isenabled()
