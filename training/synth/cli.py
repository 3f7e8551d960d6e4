"""Generate a synthetic liver DSA dataset (case folders, clinical.csv, truth.csv).

python -m training synth OUT --n 500 --seed 0
python -m training synth OUT --n 40 --sizes 512x512 --formats avi --workers 2
python -m training synth OUT --n 300 --seed 13 --mix broad --family phenotype=solitary_small
"""

from __future__ import annotations

import argparse
import sys

from training.synth.dataset_writer import CaseReport, write_dataset
from training.synth.options import (
    DEFAULT_FORMATS,
    DEFAULT_SIZES,
    VIDEO_FORMATS,
    SynthOptions,
    broad_options,
)
from training.synth.variety import parse_family_value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "out", help="dataset folder to write (missing, empty or a synthetic dataset)"
    )
    parser.add_argument("--n", type=int, default=100, help="number of cases (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        help="index of the first case (default 0): case i is the same whatever --n is, so "
        "datasets can be made in pieces",
    )
    parser.add_argument(
        "--sizes",
        type=_weighted_sizes,
        default=DEFAULT_SIZES,
        help="frame sizes WxH with optional weights, e.g. '1021x788:0.6,1024x1024:0.2,512x512:0.2' "
        "(the default) or '512x512'",
    )
    parser.add_argument(
        "--formats",
        type=_weighted_formats,
        default=DEFAULT_FORMATS,
        help=f"video formats among {', '.join(VIDEO_FORMATS)} with optional weights "
        "(default 'avi:0.8,dcm:0.12,png:0.08')",
    )
    parser.add_argument(
        "--frames",
        type=_frame_range,
        default=(20, 30),
        help="frame count range MIN-MAX (default 20-30, the papers' videos)",
    )
    parser.add_argument(
        "--mix",
        choices=("default", "broad"),
        default="default",
        help="'broad': every family of docs/synthetic-data.md#families (default: the papers')",
    )
    parser.add_argument(
        "--family",
        action="append",
        default=[],
        type=_family_value,
        metavar="FAMILY=VALUE",
        help="broad mix: give every case this family value (repeatable), e.g. "
        "phenotype=solitary_small for a set rich in single small nodules; the other "
        "families are drawn as usual",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes to use (default 1)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty folder that holds no synthetic dataset",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per case")


def synth_options(args: argparse.Namespace) -> SynthOptions:
    """The generator options that synth's parsed arguments ask for (ValueError if they
    contradict each other)."""
    make = broad_options if args.mix == "broad" else SynthOptions
    if len(dict(args.family)) != len(args.family):
        raise ValueError(f"--family gives one family two values: {args.family}")
    extra = {"families": tuple(args.family)} if args.family else {}
    return make(sizes=args.sizes, formats=args.formats, frames=args.frames, **extra)


def run(args: argparse.Namespace) -> int:
    try:
        options = synth_options(args)
    except ValueError as error:
        print(f"synth: {error}", file=sys.stderr)
        return 2
    width = len(str(args.n))

    def progress(done: int, total: int, report: CaseReport) -> None:
        if not args.quiet:
            print(f"[{done:{width}d}/{total}] {report.describe()}", file=sys.stderr, flush=True)

    try:
        summary = write_dataset(
            args.out,
            args.n,
            args.seed,
            options,
            start=args.start,
            workers=max(1, args.workers),
            force=args.force,
            progress=progress,
        )
    except (FileExistsError, ValueError, OSError) as error:
        print(f"synth: {error}", file=sys.stderr)
        return 2
    rate = len(summary.cases) / summary.seconds if summary.seconds > 0 else float("inf")
    print(
        f"synth: wrote {len(summary.cases)} cases to {summary.folder} in {summary.seconds:.1f} s "
        f"({rate:.2f} cases/s); responders {100 * summary.responder_rate:.0f} %",
        file=sys.stderr,
    )
    return 0


def _weighted(text: str, parse_value):
    pairs = []
    for item in text.split(","):
        value, _, weight = item.strip().partition(":")
        try:
            parsed_weight = float(weight) if weight else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"weight {weight!r} of {value!r} is not a number"
            ) from None
        if parsed_weight <= 0:
            raise argparse.ArgumentTypeError(f"weight of {value!r} must be positive")
        pairs.append((parse_value(value), parsed_weight))
    return tuple(pairs)


def _weighted_sizes(text: str) -> tuple[tuple[tuple[int, int], float], ...]:
    def size(value: str) -> tuple[int, int]:
        width, _, height = value.lower().partition("x")
        try:
            parsed = int(width), int(height)
        except ValueError:
            raise argparse.ArgumentTypeError(f"size {value!r} is not WIDTHxHEIGHT") from None
        if min(parsed) < 128 or max(parsed) > 4096:
            raise argparse.ArgumentTypeError(f"size {value!r} must be 128 to 4096 px a side")
        return parsed

    return _weighted(text, size)


def _weighted_formats(text: str) -> tuple[tuple[str, float], ...]:
    def video_format(value: str) -> str:
        name = value.strip().lower()
        if name not in VIDEO_FORMATS:
            raise argparse.ArgumentTypeError(
                f"format {value!r} is not one of {', '.join(VIDEO_FORMATS)}"
            )
        return name

    return _weighted(text, video_format)


def _frame_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"frame range {text!r} is not MIN-MAX") from None


def _family_value(text: str) -> tuple[str, str]:
    try:
        return parse_family_value(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
