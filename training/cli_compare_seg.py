"""Compare two segmentation evaluations of the same cases, paired per case.

    python -m training compare-seg BASE/segmentation.json NEW/segmentation.json
    python -m training compare-seg BASE.json NEW.json --held-out liver=partly_outside --out OUT

Both reports come from ``evaluate-seg`` on the same cases. The rows: all cases; with held-out
family values, the cases of any of them and the others; then every family value. Held-out
values: those given, else those either evaluation marked (a run's own ``--hold-out``). The
families are read from the truth.csv of the data folders the base report names.

Prints the table; with --out also writes OUT/comparison.md and OUT/comparison.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dsaviewer.errors import InputError
from training.compare_segmentation import case_values, compare_segmentations, comparison_markdown
from training.families import family_groups, held_out_groups, read_families
from training.report import write_json, write_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", type=Path, help="segmentation.json of the model compared against")
    parser.add_argument("new", type=Path, help="segmentation.json of the candidate")
    parser.add_argument("--held-out", action="append", default=[], metavar="FAMILY=VALUE",
                        help="a family value held out of training (repeatable; default: the "
                             "values the evaluations marked held out)")
    parser.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for comparison.md and .json")


def run(args: argparse.Namespace) -> int:
    base, new = (_read_report(path) for path in (args.base, args.new))
    if args.held_out:
        held = held_out_groups(args.held_out, {})
    else:
        held = {row["group"] for report in (base, new) for row in report.get("by_family", [])
                if row.get("held_out")}
    base_cases, new_cases = case_values(base, args.base), case_values(new, args.new)
    groups = family_groups(base_cases, read_families(base.get("data", [])))
    unknown = sorted(held - groups.keys())
    if unknown:
        raise InputError(f"no case of {', '.join(unknown)} in the evaluated data", "--held-out")
    rows = compare_segmentations(base_cases, new_cases, groups, held, args.resamples,
                                 args.bootstrap_seed)
    names = (args.base.parent.name or "base", args.new.parent.name or "new")
    if names[0] == names[1]:
        names = ("base", "new")
    markdown = (f"Paired: {args.new} minus {args.base}, per case (post-processed masks), mean "
                f"with a {args.resamples}-resample bootstrap 95 % CI.\n\n"
                + comparison_markdown(rows, *names))
    print(markdown)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_text(args.out / "comparison.md", markdown)
        write_json(args.out / "comparison.json", {
            "base": str(args.base), "new": str(args.new), "held_out": sorted(held),
            "rows": [row.to_dict() for row in rows]})
    return 0


def _read_report(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"cannot be read as an evaluate-seg report: {error}", path) from error
