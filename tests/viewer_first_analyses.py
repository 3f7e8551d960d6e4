"""Run by test_gui_garbage_collection.py in an interpreter of its own, as a user starts the
viewer: no model runtime (torch, onnxruntime) imported yet, then the main window with its own
analyzer and the bundled weights opens several runs one after the other and analyses each. The
first analysis imports the runtime in the analysis worker while the event loop runs.

Exit status 0: every analysis gave a result and no garbage collection ran outside the UI
thread while the window was open; 1, with the reason, otherwise. A crash is the process's own
status (-6 aborted, -11 segfault).

    python viewer_first_analyses.py FOLDER RUNS
"""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path

RUNTIMES = ("torch", "onnxruntime")
TIMEOUT_S = 600  # one analysis, loading the models included, on a busy machine


def main(folder: Path, runs: int) -> int:
    if any(name in sys.modules for name in RUNTIMES):
        return _fail("a model runtime was imported before the window was made")
    outside: list[str] = []  # the threads other than the UI thread that set off a collection

    def note(phase: str, _info: dict) -> None:
        if phase == "start" and threading.current_thread() is not threading.main_thread():
            outside.append(threading.current_thread().name)

    gc.callbacks.append(note)

    from PySide6.QtCore import QSettings
    from test_gui_fixtures import run_frames, write_avi_case

    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
    from dsaviewer.gui.selftest_window import SelftestWindow

    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder / "qsettings"))
    viewer = SelftestWindow(folder / "viewer.ini", PipelineAnalyzer())
    try:
        for seed in range(runs):
            case = write_avi_case(folder / f"run-{seed}", run_frames(seed=seed))
            result = viewer.analyze_case(case, TIMEOUT_S).result
            print(f"run {seed}: analysed on {result.backend}, key frame {result.key_frame}")
    except RuntimeError as error:
        return _fail(str(error))
    finally:
        collections_outside = list(outside)  # before closing: automatic collection is back
        viewer.close()
    if collections_outside:
        return _fail(f"{len(collections_outside)} garbage collections ran outside the UI "
                     f"thread, in {sorted(set(collections_outside))}")
    if not any(name in sys.modules for name in RUNTIMES):
        return _fail("the analyses imported no model runtime")
    return 0


def _fail(reason: str) -> int:
    print(f"FAILED: {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
