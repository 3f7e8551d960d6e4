"""Peak memory of ``dsaviewer analyze`` on a small and a large batch of the same kind of cases.

A batch writes each case's results out and drops them, so its peak memory must not grow with
the number of cases. Target: the peak on the large batch within 20 % of the peak on the small
one.

The cases are generated (training/synth, MJPEG AVI at 512² and 1024², 20-24 frames). To keep
the benchmark short, ``--distinct`` cases are generated and the batches repeat them under new
case ids (hard links, so no disk is spent): every case is still decoded, analysed and written
on its own. Each batch runs ``python -m dsaviewer analyze`` in its own process; its peak
resident memory (``ru_maxrss``) is what is printed.

Run: ``.venv/bin/python benchmarks/bench_batch_memory.py [--small 10] [--large 200]
[--distinct 20] [--work DIR] [--source DIR]``; ``--source`` measures another checkout's
``dsaviewer`` (e.g. an older one, for before/after), ``--work`` keeps the generated cases.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--distinct", type=int, default=20)
    parser.add_argument("--work", type=Path, help="folder for the generated cases (kept)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="checkout whose dsaviewer is measured (default: this one)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        work = args.work or Path(scratch)
        distinct = _generated_cases(work / "distinct", args.distinct)
        peaks = {}
        for count in (args.small, args.large):
            dataset = _batch(work / f"batch-{count}", distinct, count)
            out = Path(scratch) / f"out-{count}"
            peak_mib, seconds = _analyze_peak(dataset, out, args.source)
            peaks[count] = peak_mib
            ok = sum(1 for row in _summary(out) if row["status"] == "ok")
            print(f"{count:4d} cases: peak {peak_mib:7.0f} MiB, {seconds:6.1f} s, {ok} analysed")
            shutil.rmtree(out, ignore_errors=True)
    ratio = peaks[args.large] / peaks[args.small]
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"peak({args.large}) / peak({args.small}) = {ratio:.3f} "
          f"(target <= {TARGET_RATIO:.2f}: {verdict}); measured: {args.source}")


def _generated_cases(folder: Path, count: int) -> list[Path]:
    if not (folder / "clinical.csv").is_file():
        sys.path.insert(0, str(ROOT))
        from training.synth.dataset_writer import write_dataset
        from training.synth.options import SynthOptions

        options = SynthOptions(sizes=(((512, 512), 0.5), ((1024, 1024), 0.5)),
                               formats=(("avi", 1.0),), frames=(20, 24))
        started = time.perf_counter()
        write_dataset(folder, count, seed=19, options=options, force=True)
        print(f"generated {count} distinct cases in {time.perf_counter() - started:.0f} s")
    return sorted(path for path in folder.iterdir() if path.is_dir())


def _batch(folder: Path, distinct: list[Path], count: int) -> Path:
    """``count`` case folders named case_NNNN, each a hard-linked copy of a distinct case."""
    shutil.rmtree(folder, ignore_errors=True)
    for number in range(count):
        source = distinct[number % len(distinct)]
        target = folder / f"case_{number:04d}"
        shutil.copytree(source, target, copy_function=os.link)
    return folder


def _analyze_peak(dataset: Path, out: Path, source: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(source), QT_QPA_PLATFORM="offscreen")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "dsaviewer", "analyze", str(dataset), "--out", str(out)],
        env=env, cwd=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"dsaviewer analyze failed: {process.stderr.read().decode()[-2000:]}")
    return usage.ru_maxrss / 1024, seconds


def _summary(out: Path) -> list[dict[str, str]]:
    with (out / "summary.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


if __name__ == "__main__":
    main()
