"""Timing and memory of loading a DSA run and of the core steps before the models.

A 30-frame 1021 x 788 run (the papers' size) is written as MJPEG AVI, XA DICOM (8- and
12-bit) and a PNG folder, then loaded with ``load_video``; the core steps are border removal,
key frame, frame difference and model input. Targets on a 2-core machine: core steps under
100 ms together, peak memory under 3x the raw frame bytes.

The readers' checks (container walk, declared sizes, pixel-data length, time budget) must not
slow a valid run down: a 30-frame 1024 x 1024 run is read with ``load_video``, with the bare
decoders for reference (OpenCV's frame loop, pydicom's pixel_array), and with ``--before
CHECKOUT`` with an older checkout's ``load_video``, each in its own process, alternating, in CPU
time (steadier than wall time on a shared machine); target: at most 5 % slower than before.

Run: ``.venv/bin/python benchmarks/bench_core.py [--before CHECKOUT]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.core.difference import frame_difference, temporal_stack
from dsaviewer.core.keyframe import select_key_frame
from dsaviewer.core.preprocess import make_geometry, to_model
from dsaviewer.io.video import load_video
from dsaviewer.io.writers import write_avi, write_dicom_xa, write_frame_folder
from training.synth import SynthOptions, generate_case

ROOT = Path(__file__).resolve().parent.parent
N_FRAMES, HEIGHT, WIDTH = 30, 788, 1021
FPS = 7.5
REPEATS = 7


def synthetic_run(seed: int = 0) -> np.ndarray:
    """A generated liver DSA run of the papers' size (training.synth: collimator border with
    burned-in text, arterial filling, tumour stain, GI blush, breathing), usual polarity."""
    options = SynthOptions(sizes=(((WIDTH, HEIGHT), 1.0),), frames=(N_FRAMES, N_FRAMES),
                           p_inverted=0.0, p_text=1.0, p_high_bit_dicom=0.0)
    return generate_case(seed, 0, options).frames


def core_steps(frames: np.ndarray) -> dict[str, float]:
    """Run the core pipeline once; return each step's time in ms."""
    times: dict[str, float] = {}
    start = time.perf_counter()
    geometry = make_geometry(frames)
    times["border removal (make_geometry)"] = _ms_since(start)

    start = time.perf_counter()
    key = select_key_frame(frames, field=geometry.field).index
    times["key frame"] = _ms_since(start)

    start = time.perf_counter()
    frame_difference(frames, key)
    times["frame difference (display, full size)"] = _ms_since(start)

    start = time.perf_counter()
    model = to_model(frames, geometry)
    times["to_model (incl. polarity)"] = _ms_since(start)

    start = time.perf_counter()
    frame_difference(model, key)
    temporal_stack(model, key)
    times["FD + temporal stack (model size)"] = _ms_since(start)
    return times


def peak_traced_bytes(work: Callable[[], object]) -> int:
    """The peak of Python-traced allocations (numpy and OpenCV outputs) while ``work`` runs."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def read_overhead(frames: np.ndarray, before: Path | None = None, rounds: int = 5) -> None:
    """Read time of a valid 30-frame 1024 x 1024 run: load_video of this checkout, the bare
    decoders for reference, and with ``before`` (another checkout) that checkout's load_video,
    each in its own process, alternating; CPU ms, median of 9 reads per process."""
    square = np.stack([cv2.resize(frame, (1024, 1024)) for frame in frames[:30]])
    with tempfile.TemporaryDirectory() as folder:
        paths = [write_avi(Path(folder) / "v.avi", square, FPS),
                 write_dicom_xa(Path(folder) / "v.dcm", square, FPS)]
        checkouts = {"this checkout": ROOT} | ({"before": before} if before else {})
        times: dict[str, list[list[float]]] = {name: [] for name in (*checkouts, "decoder")}
        for _ in range(rounds):
            for name, checkout in checkouts.items():
                times[name].append(_timed_reads(checkout, paths, "load_video"))
            times["decoder"].append(_timed_reads(ROOT, paths, "decoder"))
    print(f"\nreading a valid 30-frame 1024 x 1024 run: CPU ms, median over {rounds} processes")
    medians = {name: [statistics.median(run[i] for run in runs) for i in range(len(paths))]
               for name, runs in times.items()}
    for index, kind in enumerate(("MJPEG AVI", "XA DICOM 8-bit")):
        line = f"  {kind:<16} load_video {medians['this checkout'][index]:7.1f}"
        if before:
            change = medians["this checkout"][index] / medians["before"][index] - 1
            line += (f", before {medians['before'][index]:7.1f}: {100 * change:+5.1f} % "
                     "(target <= +5 %)")
        print(line + f"; the decoder alone {medians['decoder'][index]:7.1f}")


_TIMED_READS = """
import statistics, sys, time
from pathlib import Path
import cv2, pydicom
from dsaviewer.io.video import load_video
sys.path.insert(0, {benchmarks!r})
from bench_core import _decode_avi
cv2.setNumThreads(2)
read = {{"load_video": load_video,
        "decoder": lambda p: _decode_avi(p) if p.suffix == ".avi" else
        pydicom.dcmread(p).pixel_array}}
found = []
for path in map(Path, {paths!r}):
    read[{how!r}](path)
    runs = []
    for _ in range(9):
        start = time.process_time()
        read[{how!r}](path)
        runs.append(1000 * (time.process_time() - start))
    found.append(statistics.median(runs))
print(*found)
"""


def _timed_reads(checkout: Path, paths: list[Path], how: str) -> list[float]:
    code = _TIMED_READS.format(benchmarks=str(ROOT / "benchmarks"),
                               paths=[str(path) for path in paths], how=how)
    env = dict(os.environ, PYTHONPATH=str(checkout))
    output = subprocess.run([sys.executable, "-c", code], env=env, cwd=checkout, check=True,
                            capture_output=True, text=True).stdout
    return [float(value) for value in output.split()]


def _decode_avi(path: Path) -> list[np.ndarray]:
    """OpenCV's decoding loop with the grey conversion load_video does, and nothing else."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        ok, frame = capture.read()
    capture.release()
    return frames


def _ms_since(start: float) -> float:
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, metavar="CHECKOUT",
                        help="another checkout (e.g. a git worktree of an older commit) whose "
                        "load_video is timed against this one's")
    args = parser.parse_args()
    cv2.setNumThreads(2)
    frames = synthetic_run()
    raw = frames.nbytes
    print(f"run: {N_FRAMES} frames of {WIDTH} x {HEIGHT}, raw {raw / 2**20:.1f} MiB (uint8)")

    with tempfile.TemporaryDirectory() as folder:
        sources = {
            "MJPEG AVI": write_avi(Path(folder) / "video.avi", frames, FPS),
            "XA DICOM 8-bit": write_dicom_xa(Path(folder) / "video.dcm", frames, FPS),
            "XA DICOM 12-bit": write_dicom_xa(
                Path(folder) / "video12.dcm", frames.astype(np.uint16) * 16, FPS, bits_stored=12
            ),
            "PNG folder": write_frame_folder(Path(folder) / "frames", frames),
        }
        print("\nload_video             median ms   peak traced / raw of that file")
        loaded = {}
        for name, path in sources.items():
            timings = []
            for _ in range(3):
                start = time.perf_counter()
                loaded[name] = load_video(path)
                timings.append(_ms_since(start))
            video_raw = loaded[name].frames.nbytes
            peak = peak_traced_bytes(lambda path=path: load_video(path))
            print(f"  {name:<20} {statistics.median(timings):9.1f}   {peak / video_raw:5.2f}x")

    read_overhead(frames, args.before)

    print(f"\ncore steps on the AVI-decoded frames, median of {REPEATS} runs (first run apart)")
    decoded = loaded["MJPEG AVI"].frames
    first = core_steps(decoded)
    runs = [core_steps(decoded) for _ in range(REPEATS)]
    for step in first:
        median = statistics.median(run[step] for run in runs)
        print(f"  {step:<40} {median:7.1f} ms   (first {first[step]:.1f})")
    totals = [sum(run.values()) for run in runs]
    total = statistics.median(totals)
    print(f"  {'total':<40} {total:7.1f} ms   (first {sum(first.values()):.1f}) target < 100 ms")

    peak = peak_traced_bytes(lambda: core_steps(decoded))
    print(
        f"\npeak traced memory of the core steps: {peak / 2**20:.1f} MiB = "
        f"{peak / raw:.2f}x the raw frames (not counting the frames themselves); target < 3x"
    )
    print("\neach format's frames: field, key frame (MJPEG is lossy and stable frames differ")
    print("only by noise, so the key frame may move by one), core steps total")
    for name, video in loaded.items():
        geometry = make_geometry(video.frames)
        choice = select_key_frame(video.frames, field=geometry.field)
        total = statistics.median(sum(core_steps(video.frames).values()) for _ in range(3))
        print(f"  {name:<16} {geometry.field}, key frame {choice.index}, {total:.1f} ms")


if __name__ == "__main__":
    main()
