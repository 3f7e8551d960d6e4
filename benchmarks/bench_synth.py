"""Speed of the synthetic DSA generator: cases per second and time per stage.

Cases at 1021 x 788 (the papers' size, 20-30 frames, AVI) are generated and written into a
temporary dataset. One process first, timed per stage (patient, anatomy, layers, dynamics,
render, ground truth, then writing the video and the Labelme files); then the whole
``write_dataset`` on several processes. Target on the 2-core development machine: at least
2 cases per second.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--cases N] [--workers 1,2]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from dsaviewer.io.labelme import KEY_FRAME_FLAG, write_labelme
from dsaviewer.io.writers import write_avi
from training.synth import SynthOptions, generate_case, write_dataset
from training.synth.options import broad_options

TARGET_CASES_PER_SECOND = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--workers", default="1,2", help="process counts to try, e.g. 1,2")
    parser.add_argument("--size", default="1021x788")
    parser.add_argument("--mix", choices=("default", "broad"), default="default",
                        help="the papers' mix or the broad mix (docs/synthetic-data.md)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    make = broad_options if args.mix == "broad" else SynthOptions
    options = make(sizes=(((width, height), 1.0),), formats=(("avi", 1.0),))
    print(f"synthetic DSA, {args.cases} cases at {width} x {height}, AVI; {os.cpu_count()} CPUs")

    generate_case(0, 10_000, options)  # warm-up: imports, OpenCV's thread pool
    stages: dict[str, float] = {}
    frames = 0
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        for index in range(args.cases):
            case = generate_case(0, index, options, timings=stages)
            frames += len(case.frames)
            case_folder = Path(folder) / case.case_id
            tick = time.perf_counter()
            write_avi(case_folder / "video.avi", case.frames, case.fps)
            stages["write video"] = stages.get("write video", 0.0) + time.perf_counter() - tick
            tick = time.perf_counter()
            for labels in case.labels:
                write_labelme(
                    case_folder / "labels" / f"{labels.frame_index:04d}.json",
                    case.frames[labels.frame_index],
                    {"tumor": labels.tumor, "liver": labels.liver},
                    {KEY_FRAME_FLAG: True} if labels.frame_index == case.key_frame else {},
                )
            stages["write labels"] = stages.get("write labels", 0.0) + time.perf_counter() - tick
        elapsed = time.perf_counter() - began

    total = sum(stages.values())
    per_case = 1000 * elapsed / args.cases
    print(
        f"\none process: {args.cases / elapsed:.2f} cases/s ({per_case:.0f} ms a case, "
        f"{1000 * elapsed / frames:.1f} ms a frame)"
    )
    print(f"  {'stage':<14}{'ms/case':>9}{'share':>8}")
    for stage, seconds in stages.items():
        print(f"  {stage:<14}{1000 * seconds / args.cases:>9.1f}{100 * seconds / total:>7.0f} %")

    print("\nwrite_dataset (generation and writing, clinical.csv, truth.csv):")
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            write_dataset(Path(folder) / "ds", args.cases, seed=1, options=options, workers=workers)
            rate = args.cases / (time.perf_counter() - began)
        verdict = "meets" if rate >= TARGET_CASES_PER_SECOND else "misses"
        print(
            f"  {workers} process(es): {rate:.2f} cases/s ({verdict} the target of "
            f"{TARGET_CASES_PER_SECOND:g})"
        )


if __name__ == "__main__":
    main()
