"""Soak: the viewer opening 50 cases one after another holds its memory flat (slow; run with
``make test-slow``). Each case is its own folder, so each open reads a video, creates a viewer
state and replaces the previous case on screen."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
from test_gui_fixtures import run_frames, write_avi_case
from viewer_window import make_window, open_case

CASES = 50
DISTINCT = 5
SIDE = 512
# Growth allowed between the 10th and the 50th case: allocator noise, not a case's frames
# (each is 512 x 512 x 24 bytes = 6 MiB).
ALLOWED_GROWTH_MIB = 40


# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


def resident_mib() -> float:
    gc.collect()
    with open(f"/proc/{os.getpid()}/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**2


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_opening_fifty_cases_in_a_row_holds_memory_flat(qtbot, tmp_path) -> None:
    sources = [write_avi_case(tmp_path / f"distinct{n}", run_frames(24, SIDE, seed=n))
               for n in range(DISTINCT)]
    window = make_window(qtbot, tmp_path / "viewer.ini")
    after: dict[int, float] = {}
    for number in range(1, CASES + 1):
        case = tmp_path / "cases" / f"case{number:02d}"
        shutil.copytree(sources[number % DISTINCT], case, copy_function=os.link)
        open_case(qtbot, window, case)
        qtbot.wait(20)  # let the deferred paints of the new case run
        after[number] = resident_mib()
    grown = after[CASES] - after[10]
    print(f"resident memory after case 10: {after[10]:.0f} MiB, after case {CASES}: "
          f"{after[CASES]:.0f} MiB ({grown:+.0f} MiB)")
    assert grown < ALLOWED_GROWTH_MIB, after
