"""Start-up time of the built program to a visible window, on Linux: each run starts
``dist/DSAViewer/DSAViewer`` on an X display (a private Xvfb unless --display is given) and
times from the launch until X reports the main window viewable; then the program is ended.
The first run after a build or a reboot is the coldest this machine can give without
dropping the page cache. Prints the numbers; targets are in docs/packaging.md.

    python packaging/measure_startup.py [--bundle dist/DSAViewer] [--runs 5]

Needs Xvfb and xwininfo (Debian: xvfb, x11-utils).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WINDOW_TITLE = "DSA Viewer"
POLL_S = 0.01
TIMEOUT_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "DSAViewer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--display", default=None, help="an X display to use instead of Xvfb")
    args = parser.parse_args(argv)
    executable = args.bundle / "DSAViewer"
    missing = [tool for tool in ("xwininfo", *(() if args.display else ("Xvfb",)))
               if shutil.which(tool) is None]
    if not executable.is_file() or missing:
        print(f"needs {executable} (python packaging/build.py) and {', '.join(missing) or '-'}",
              file=sys.stderr)
        return 2

    server = None
    display = args.display
    if display is None:
        display = ":97"
        server = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten",
                                   "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
    try:
        with tempfile.TemporaryDirectory(prefix="dsaviewer-startup-") as home:
            # A fresh home: no saved window layout, recent files or demo copy from earlier runs.
            environment = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
                           "HOME": home, "XDG_CONFIG_HOME": f"{home}/config",
                           "XDG_DATA_HOME": f"{home}/data"}
            times = [time_to_window(executable, environment) for _ in range(args.runs)]
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    print(f"start-up to a visible window ({executable}, {args.runs} runs): "
          f"first {times[0]:.2f} s, median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s")
    return 0


def time_to_window(executable: Path, environment: dict[str, str]) -> float:
    start = time.perf_counter()
    program = subprocess.Popen([str(executable)], env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < TIMEOUT_S:
            if program.poll() is not None:
                raise RuntimeError(f"the program exited with status {program.returncode}")
            if _viewable(environment):
                return time.perf_counter() - start
            time.sleep(POLL_S)
        raise RuntimeError(f"no window after {TIMEOUT_S:.0f} s")
    finally:
        program.terminate()
        program.wait()


def _viewable(environment: dict[str, str]) -> bool:
    found = subprocess.run(["xwininfo", "-name", WINDOW_TITLE], env=environment,
                           capture_output=True, text=True)
    return found.returncode == 0 and "IsViewable" in found.stdout


if __name__ == "__main__":
    sys.exit(main())
