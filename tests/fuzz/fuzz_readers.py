"""``make fuzz``: mutate real and generated seeds and feed them to the five readers, each input
under a time and memory limit, and print what happened.

Every input must end in one of two ways: accepted (and then holding what the file declares)
or refused with an InputError. Anything else is counted against the readers:

- ``foreign``: an exception other than InputError escaped;
- ``memory``: the reader tried to allocate past the memory limit (RLIMIT_AS, default 3 GiB);
- ``hang``: it took longer than the time limit (default 10 s);
- ``crash``: the process died (a signal, e.g. a segfault in a codec);
- ``wrong_data``: a DICOM input was accepted with frames, rows or columns other than its
  header declares.

The readers run in a worker process (restarted after a hang or crash) that reads one input
path after another, so thousands of inputs take minutes, not hours. Inputs that broke the
contract are kept in ``--keep`` for reproduction. Exit status 1 when any did.

Run: ``python tests/fuzz/fuzz_readers.py [--inputs 6000] [--seed 0] [--timeout 10]
[--memory-gib 3] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

# Share of the inputs each reader gets; load_video's seeds cover AVI, DICOM and PNG frames.
SHARES = {"load_video": 0.55, "read_labelme": 0.18, "read_clinical_csv": 0.09,
          "read_case_state": 0.10, "read_recovery": 0.08}
BAD = ("foreign", "memory", "hang", "crash", "wrong_data")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--memory-gib", type=float, default=3.0, help="address space limit")
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "dsaviewer-fuzz")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.memory_gib)
    return _drive(args)


# --- the driver ------------------------------------------------------------------------------


def _drive(args: argparse.Namespace) -> int:
    from seeds import copy_seed, mutate_file, write_seeds

    rng = random.Random(args.seed)
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    examples: dict[tuple[str, str], str] = {}
    slowest: dict[str, float] = collections.defaultdict(float)
    with tempfile.TemporaryDirectory(prefix="dsaviewer-fuzz-") as scratch:
        seeds = write_seeds(Path(scratch) / "seeds")
        by_reader = collections.defaultdict(list)
        for seed in seeds:
            by_reader[seed.reader].append(seed)
        print(f"{len(seeds)} seeds: " + ", ".join(seed.name for seed in seeds), flush=True)
        worker = _Worker(args.memory_gib)
        started = time.monotonic()
        readers = rng.choices(list(SHARES), weights=list(SHARES.values()), k=args.inputs)
        for number, reader in enumerate(readers, start=1):
            seed = rng.choice(by_reader[reader])
            path, target = copy_seed(seed, Path(scratch) / "input")
            for _ in range(1 if rng.random() < 0.8 else 2):
                if target.exists():
                    mutate_file(target, seed.kind, rng)
            began = time.monotonic()
            outcome, detail = worker.run(reader, path, args.timeout)
            slowest[reader] = max(slowest[reader], time.monotonic() - began)
            counts[reader][outcome] += 1
            kind = outcome.split(":")[0]
            if kind in BAD:
                kept = args.keep / f"{number:05d}-{reader}-{seed.name.replace(':', '-')}"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(path.parent, kept)
                examples.setdefault((reader, outcome), f"{kept}: {detail}")
            if number % 500 == 0:
                print(f"  {number} inputs, {time.monotonic() - started:.0f} s", flush=True)
        worker.stop()
    return _report(counts, examples, slowest, args, time.monotonic() - started)


def _report(counts, examples, slowest, args, seconds: float) -> int:
    print(f"\n{sum(sum(c.values()) for c in counts.values())} inputs in {seconds:.0f} s "
          f"(limits: {args.timeout:g} s, {args.memory_gib:g} GiB per input; seed {args.seed})")
    columns = ("accepted", "refused", *BAD)
    print(f"{'reader':20s}" + "".join(f"{c:>11s}" for c in ("inputs", *columns, "slowest_s")))
    totals = collections.Counter()
    for reader in SHARES:
        found = collections.Counter()
        for outcome, count in counts[reader].items():
            found[outcome.split(":")[0]] += count
        totals.update(found)
        print(f"{reader:20s}{sum(found.values()):11d}" + "".join(f"{found[c]:11d}" for c in columns)
              + f"{slowest[reader]:11.2f}")
    print(f"{'all':20s}{sum(totals.values()):11d}" + "".join(f"{totals[c]:11d}" for c in columns))
    for (reader, outcome), example in sorted(examples.items()):
        print(f"  {reader} {outcome}: {example}")
    broken = sum(totals[c] for c in BAD)
    if broken:
        print(f"{broken} inputs broke the contract; kept in {args.keep}")
    return 1 if broken else 0


class _Worker:
    """The reader process: one input path per line in, one JSON outcome per line out."""

    def __init__(self, memory_gib: float) -> None:
        self._command = [sys.executable, __file__, "--worker", "--memory-gib", str(memory_gib)]
        self._process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   QT_QPA_PLATFORM="offscreen")
        return subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)

    def run(self, reader: str, path: Path, timeout: float) -> tuple[str, str]:
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
            self._wait_ready()
        process = self._process
        process.stdin.write(json.dumps({"reader": reader, "path": str(path)}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return "hang", f"no answer in {timeout:g} s"
        line = process.stdout.readline()
        if not line:
            code = process.wait()
            self._process = None
            return f"crash:{code}", f"the worker died with status {code}"
        answer = json.loads(line)
        return answer["outcome"], answer.get("detail", "")

    def _wait_ready(self) -> None:
        line = self._process.stdout.readline()  # imports done, limits set
        if line.strip() != "ready":
            raise SystemExit(f"the fuzz worker did not start: {line!r}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


# --- the worker ------------------------------------------------------------------------------


def _worker(memory_gib: float) -> int:
    import logging

    import cv2

    from dsaviewer.errors import InputError
    from dsaviewer.io.case_state import read_case_state
    from dsaviewer.io.clinical import read_clinical_csv
    from dsaviewer.io.labelme import read_labelme
    from dsaviewer.io.recovery import read_recovery
    from dsaviewer.io.video import load_video

    logging.disable(logging.CRITICAL)  # the readers log unexpected errors; counted here
    cv2.setNumThreads(1)
    limit = int(memory_gib * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.nice(5)
    readers = {"load_video": load_video, "read_labelme": read_labelme,
               "read_clinical_csv": read_clinical_csv, "read_case_state": read_case_state,
               "read_recovery": read_recovery}
    print("ready", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        path = Path(job["path"])
        try:
            value = readers[job["reader"]](path)
            outcome, detail = _accepted(job["reader"], path, value)
        except InputError as error:
            outcome, detail = ("memory" if _caused_by_memory(error) else "refused"), str(error)
        except MemoryError:
            outcome, detail = "memory", "MemoryError"
        except Exception as error:  # noqa: BLE001 - exactly what is being counted
            where = traceback.extract_tb(error.__traceback__)[-1]
            outcome = f"foreign:{type(error).__name__}"
            detail = f"{type(error).__name__}: {str(error)[:200]} "
            detail += f"at {where.filename}:{where.lineno}"
        print(json.dumps({"outcome": outcome, "detail": detail[:500]}), flush=True)
    return 0


def _caused_by_memory(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, MemoryError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _accepted(reader: str, path: Path, value) -> tuple[str, str]:
    """Accepted inputs are checked against what the file declares where that is cheap."""
    if reader == "read_recovery":
        if value is not None and value.problems and not value.frames:
            return "refused", value.problems[0]
        return "accepted", ""
    if reader == "load_video" and value.source_format == "dicom":
        import pydicom

        header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        declared = (int(header.get("NumberOfFrames") or 1), int(header.Rows), int(header.Columns))
        if value.frames.shape != declared:
            return "wrong_data", f"read {value.frames.shape}, the header declares {declared}"
    if reader == "read_labelme":
        shapes = {mask.shape for mask in value.masks.values()}
        if shapes != {value.image_shape}:
            return "wrong_data", f"masks {shapes} for an image of {value.image_shape}"
    return "accepted", ""


if __name__ == "__main__":
    sys.exit(main())
