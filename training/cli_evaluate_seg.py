"""Evaluate a segmentation checkpoint per DSA-Net Table 2, raw and post-processed.

    python -m training evaluate-seg TEST_DATA OUT --checkpoint SEG/best.pt
    python -m training evaluate-seg DATA OUT --checkpoint SEG/best.pt --split validation

Writes OUT/segmentation.md and OUT/segmentation.json (with per-case values).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dsaviewer.errors import InputError
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    read_records,
    runtime_from_args,
)
from training.dataset import CaseRecord
from training.ddp import DistributedContext
from training.device import select_device
from training.evaluate_families import SEG_COLUMNS, family_markdown, segmentation_by_family
from training.evaluate_segmentation import evaluate_segmentation, segmentation_markdown
from training.families import family_groups, held_out_groups, read_families
from training.report import write_json, write_text
from training.seg_predictions import cached_key_frame_predictions, load_trained_segmentation


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="dataset folder to evaluate on")
    parser.add_argument("out", type=Path, help="folder for the report")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="segmentation best.pt (or last.pt)")
    add_split_arguments(parser)
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def add_split_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", choices=("all", "validation"), default="all",
                        help="all cases of DATA (a test set), or only the checkpoint's "
                             "validation fold (DATA is its training data)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--held-out", action="append", default=[], metavar="FAMILY=VALUE",
                        help="mark this broad-mix family value as held out of training in "
                             "the per-family table (default: the checkpoint's own)")


def select_split(
    records: list[CaseRecord], split: str, validation_ids: list[str], source: Path
) -> list[CaseRecord]:
    """``records`` for ``--split``: all, or those of the checkpoint's validation fold."""
    if split == "all":
        return records
    wanted = set(validation_ids)
    chosen = [record for record in records if record.case_id in wanted]
    if len(chosen) != len(wanted):
        raise InputError(f"{len(wanted) - len(chosen)} validation case(s) of the checkpoint "
                         "are missing from the data: is it the training dataset?", source)
    return chosen


def run(args: argparse.Namespace) -> int:
    runtime = runtime_from_args(args)
    context = DistributedContext(0, 1, 0, 1, select_device(runtime.device))
    trained = load_trained_segmentation(args.checkpoint)
    records = select_split(read_records(args.data, trained.config.image_size, args, context),
                           args.split, trained.stored["split"]["validation"],
                           args.checkpoint)
    cache = args.cache_dir if args.cache_dir is not None else args.data / ".cache"
    predictions = cached_key_frame_predictions(args.checkpoint, records, cache, runtime)
    evaluations = [
        evaluate_segmentation(records, predictions, postprocess, args.resamples,
                              args.bootstrap_seed)
        for postprocess in (False, True)
    ]
    config = ", ".join(f"{k} {v}" for k, v in trained.stored["config"].items())
    description = (f"Checkpoint `{args.checkpoint}` ({config}), data "
                   f"`{args.data}`, split {args.split}. Key frames at model size "
                   f"{trained.config.image_size} px, threshold 0.5; post-processing as the "
                   "viewer does it (Lambert et al.).")
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = segmentation_markdown(evaluations, "Segmentation (DSA-Net Table 2)", description)
    families = read_families(args.data)
    by_family = []
    if families:
        held = held_out_groups(args.held_out, trained.stored.get("options", {}))
        groups = family_groups([r.case_id for r in records], families)
        by_family = segmentation_by_family(evaluations[1].cases, groups, held,
                                           args.resamples, args.bootstrap_seed)
        markdown += ("\n\n## Per family (post-processed)\n\n"
                     + family_markdown(by_family, SEG_COLUMNS))
    write_text(args.out / "segmentation.md", markdown)
    write_json(args.out / "segmentation.json", {
        "checkpoint": str(args.checkpoint), "data": str(args.data), "split": args.split,
        "config": trained.stored["config"],
        "raw": evaluations[0].to_dict(), "postprocessed": evaluations[1].to_dict(),
        "by_family": [row.to_dict() for row in by_family],
    })
    print(markdown)
    return 0
