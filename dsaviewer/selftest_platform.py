"""What the self-test asks the operating system: how long ago this process started (the
start-up time it reports), and where to print in a windowed Windows executable, which has no
standard output."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

_ATTACH_PARENT_PROCESS = 0xFFFFFFFF  # (DWORD)-1


def process_age_s() -> float | None:
    """Seconds since this process was created (the executable's start, before Python), or
    None where the system does not say."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path("/proc/self/stat").read_text()
            uptime = float(Path("/proc/uptime").read_text().split()[0])
        except OSError:
            return None
        # Field 22 (starttime, in clock ticks since boot); the command name may hold spaces.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = _kernel32()
        times = [wintypes.FILETIME() for _ in range(4)]
        if not kernel32.GetProcessTimes(kernel32.GetCurrentProcess(),
                                        *(ctypes.byref(t) for t in times)):
            return None
        created = (times[0].dwHighDateTime << 32 | times[0].dwLowDateTime) / 1e7
        return time.time() - (created - 11_644_473_600)  # FILETIME counts from 1601
    return None


def console_stream() -> TextIO | None:
    """Standard output, or, in a windowed Windows executable (which has none), the console
    of the command prompt that started it."""
    if sys.stdout is not None:
        return sys.stdout
    if sys.platform == "win32" and _kernel32().AttachConsole(_ATTACH_PARENT_PROCESS):
        try:
            return open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        except OSError:
            return None
    return None


def _kernel32() -> Any:
    """kernel32 with the prototypes used here (its own instance: ctypes.windll is shared)."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    kernel32.GetProcessTimes.argtypes = [wintypes.HANDLE, *[ctypes.POINTER(wintypes.FILETIME)] * 4]
    kernel32.GetProcessTimes.restype = wintypes.BOOL
    kernel32.AttachConsole.argtypes = [wintypes.DWORD]
    kernel32.AttachConsole.restype = wintypes.BOOL
    return kernel32
