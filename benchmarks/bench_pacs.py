"""Retrieval time of a 30-frame 1024 x 1024 XA run from a loopback Orthanc with C-GET into the
cache (target: at most 2 s), for 8-bit and 12-bit (16 bits allocated) runs, uncompressed.

Needs Debian's orthanc (the tests' Orthanc set-up is reused).
Run: ``.venv/bin/python benchmarks/bench_pacs.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from orthanc_server import OrthancServer  # noqa: E402

from dsaviewer.io.pacs_get import get_series  # noqa: E402
from dsaviewer.io.pacs_send import send_files  # noqa: E402
from dsaviewer.io.writers import write_dicom_xa  # noqa: E402

N_FRAMES, SIZE, REPEATS = 30, 1024, 5
TARGET_S = 2.0


def main() -> int:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        server = OrthancServer(root / "orthanc")
        try:
            server.start()
        except BaseException as error:  # pytest's skip when Orthanc is missing
            print(f"cannot start Orthanc: {error}")
            return 2
        try:
            node = server.node()
            worst = 0.0
            for bits, dtype in ((8, np.uint8), (12, np.uint16)):
                frames = rng.integers(0, 1 << bits, (N_FRAMES, SIZE, SIZE)).astype(dtype)
                run = write_dicom_xa(root / f"run{bits}.dcm", frames, 15.0, bits_stored=bits)
                send_files(node, [run])
                header = pydicom.dcmread(run, stop_before_pixels=True)
                times = []
                for _ in range(REPEATS):
                    start = time.perf_counter()
                    get_series(node, header.StudyInstanceUID, header.SeriesInstanceUID,
                               root / "cache")
                    times.append(time.perf_counter() - start)
                median = statistics.median(times)
                worst = max(worst, median)
                megabytes = frames.nbytes / 1e6
                print(f"{bits:2d}-bit {N_FRAMES} x {SIZE}x{SIZE} ({megabytes:.0f} MB): C-GET "
                      f"median {median:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
                      f"over {REPEATS}; {megabytes / median:.0f} MB/s")
        finally:
            server.stop()
    verdict = "met" if worst <= TARGET_S else "MISSED"
    print(f"target <= {TARGET_S:.1f} s: {verdict} (slowest median {worst:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
