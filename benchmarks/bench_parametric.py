"""Timing of the parametric maps (arrival, time to peak, peak, AUC, MTT) of a DSA run.

A generated 30-frame 1024 x 1024 liver run (training.synth, usual polarity, 8-bit) is mapped
with ``parametric_maps``: once from scratch (field and polarity found) and once with the field
and polarity known (as the viewer has them). Target on this machine: <= 150 ms from scratch.

Run: ``.venv/bin/python benchmarks/bench_parametric.py``
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np

from dsaviewer.core.parametric import parametric_maps
from training.synth import SynthOptions, generate_case

N_FRAMES, SIDE = 30, 1024
REPEATS = 7
TARGET_MS = 150.0


def main() -> None:
    cv2.setNumThreads(2)
    options = SynthOptions(sizes=(((SIDE, SIDE), 1.0),), frames=(N_FRAMES, N_FRAMES),
                           p_inverted=0.0, p_high_bit_dicom=0.0)
    case = generate_case(0, 0, options)
    frames = case.frames
    print(f"run: {frames.shape[0]} frames of {frames.shape[2]} x {frames.shape[1]} "
          f"{frames.dtype}, {case.fps} frames/s")

    def timed(**known: object) -> float:
        start = time.perf_counter()
        parametric_maps(frames, fps=case.fps, **known)
        return 1000 * (time.perf_counter() - start)

    first = timed()
    scratch = [timed() for _ in range(REPEATS)]
    maps = parametric_maps(frames, fps=case.fps)
    known = [timed(field=maps.field, contrast_dark=maps.contrast_dark) for _ in range(REPEATS)]
    median = statistics.median(scratch)
    print(f"maps from scratch      median {median:6.1f} ms of {REPEATS} (first {first:.1f}, "
          f"min {min(scratch):.1f}) target <= {TARGET_MS:.0f} ms: "
          f"{'met' if median <= TARGET_MS else 'MISSED'}")
    print(f"field/polarity known   median {statistics.median(known):6.1f} ms")
    with_contrast = np.isfinite(maps.ttp)
    print(f"pixels with contrast: {with_contrast.mean():.1%} of the frame; TTP "
          f"{np.nanpercentile(maps.ttp, 5):.2f}-{np.nanpercentile(maps.ttp, 95):.2f} s "
          f"(5th-95th percentile)")


if __name__ == "__main__":
    main()
