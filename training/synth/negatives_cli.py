"""Generate runs outside the models' scope (non-liver angiography, non-angiographic images).

python -m training synth-negatives OUT --n 40 --seed 0
python -m training synth-negatives OUT --n 20 --kinds coronary,renal

Each run is OUT/<kind>_s<seed>_<index>/video.avi (a case folder without labels), listed with
its kind in OUT/kinds.csv. Run ``index`` of a kind is the same whatever --n is.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from dsaviewer.io.writers import write_avi
from training.synth.negatives import ANGIOGRAPHIC_KINDS, UNSUBTRACTED, generate_negative
from training.synth.negatives_other import OTHER_KINDS

KINDS = ANGIOGRAPHIC_KINDS + OTHER_KINDS + (UNSUBTRACTED,)
KINDS_FILE = "kinds.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", type=Path, help="folder to write (created; existing runs kept)")
    parser.add_argument("--n", type=int, default=40, help="runs per kind (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--kinds", type=_kinds, default=KINDS,
                        help=f"comma-separated kinds (default all: {','.join(KINDS)})")


def run(args: argparse.Namespace) -> int:
    if args.n < 1:
        print("synth-negatives: --n must be at least 1", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = write_negatives(args.out, args.n, args.seed, args.kinds)
    print(f"synth-negatives: wrote {len(rows)} runs to {args.out} in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    return 0


def write_negatives(out: Path, n: int, seed: int, kinds: tuple[str, ...] = KINDS) -> list[dict]:
    """Write ``n`` runs of each kind under ``out`` and ``out/kinds.csv``; return its rows."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for kind in kinds:
        for index in range(n):
            case_id = f"{kind}_s{seed}_{index:05d}"
            video = out / case_id / "video.avi"
            if not video.is_file():
                negative = generate_negative(kind, seed, index)
                video.parent.mkdir(exist_ok=True)
                write_avi(video, negative.frames, negative.fps)
            rows.append({"case_id": case_id, "kind": kind, "seed": seed, "index": index})
    with (out / KINDS_FILE).open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=("case_id", "kind", "seed", "index"))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_kinds(folder: Path) -> dict[str, str]:
    """case_id -> kind from a negatives folder's kinds.csv."""
    with (Path(folder) / KINDS_FILE).open(newline="", encoding="utf-8") as stream:
        return {row["case_id"]: row["kind"] for row in csv.DictReader(stream)}


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in KINDS]
    if not kinds or unknown:
        raise argparse.ArgumentTypeError(f"kinds must be among {', '.join(KINDS)}")
    return kinds
