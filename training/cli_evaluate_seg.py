"""Evaluate a segmentation checkpoint per DSA-Net Table 2, raw and post-processed.

    python -m training evaluate-seg TEST_DATA OUT --checkpoint SEG/best.pt
    python -m training evaluate-seg DATA OUT --checkpoint SEG/best.pt --split validation
    python -m training evaluate-seg TEST_A TEST_B OUT --checkpoint SEG/best.pt  (one pooled set)
    python -m training evaluate-seg TEST OUT --checkpoint SEG/best.pt --score-size 512

--score-size scores on a finer grid than the model's: the probability maps are resized to it,
as the viewer resizes them to the frame, then thresholded and post-processed there, against
the truth drawn at that size. Models of different input sizes compare on one grid that way.

Writes OUT/segmentation.md and OUT/segmentation.json (with per-case values).
"""

from __future__ import annotations

import argparse

from dsaviewer.errors import InputError
from training.cli_common import prediction_cache, read_records
from training.cli_evaluation import (
    add_evaluation_arguments,
    evaluation_context,
    select_split,
)
from training.dataset import CaseRecord
from training.ddp import DistributedContext
from training.evaluate_families import SEG_COLUMNS, family_markdown, segmentation_by_family
from training.evaluate_segmentation import evaluate_segmentation, segmentation_markdown
from training.families import family_groups, held_out_groups, read_families
from training.report import write_json, write_text
from training.seg_predictions import (
    KeyFramePrediction,
    cached_key_frame_predictions,
    load_trained_segmentation,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_evaluation_arguments(parser, "folder for the report", "segmentation best.pt (or last.pt)")
    parser.add_argument("--score-size", type=int, default=None, metavar="PX",
                        help="score masks and truth at PX x PX (default: the model's input "
                             "size); the model still reads its own size")


def run(args: argparse.Namespace) -> int:
    runtime, context = evaluation_context(args)
    trained = load_trained_segmentation(args.checkpoint)
    score_size = trained.config.image_size if args.score_size is None else args.score_size
    if score_size < 1:
        raise InputError(f"must be a positive number of pixels, got {score_size}", "--score-size")
    records = select_split(read_records(args.data, trained.config.image_size, args, context),
                           args.split, trained.stored["split"]["validation"],
                           args.checkpoint)
    predictions = cached_key_frame_predictions(args.checkpoint, records, prediction_cache(args),
                                               runtime)
    if score_size != trained.config.image_size:
        records, predictions = _on_score_grid(records, predictions, score_size, args, context)
    evaluations = [
        evaluate_segmentation(records, predictions, postprocess, args.resamples,
                              args.bootstrap_seed)
        for postprocess in (False, True)
    ]
    config = ", ".join(f"{k} {v}" for k, v in trained.stored["config"].items())
    data = ", ".join(f"`{folder}`" for folder in args.data)
    description = (f"Checkpoint `{args.checkpoint}` ({config}), data "
                   f"{data}, split {args.split}. Key frames at model size "
                   f"{trained.config.image_size} px, scored at {score_size} px, threshold 0.5; "
                   "post-processing as the viewer does it (Lambert et al.).")
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
        "checkpoint": str(args.checkpoint), "data": [str(folder) for folder in args.data],
        "split": args.split,
        "config": trained.stored["config"],
        "raw": evaluations[0].to_dict(), "postprocessed": evaluations[1].to_dict(),
        "by_family": [row.to_dict() for row in by_family],
    })
    print(markdown)
    return 0


def _on_score_grid(
    records: list[CaseRecord], predictions: dict[str, KeyFramePrediction], score_size: int,
    args: argparse.Namespace, context: DistributedContext,
) -> tuple[list[CaseRecord], dict[str, KeyFramePrediction]]:
    """The cases drawn at ``score_size`` and the maps resized to it. A case whose labels
    vanish at one of the two sizes (a liver of a few pixels) is read at only one: only the
    cases read at both are scored, and the others are named."""
    fine = {record.case_id: record for record in read_records(args.data, score_size, args,
                                                              context)}
    model_ids = {record.case_id for record in records}
    left_out = sorted(model_ids - fine.keys())  # read at the model's size only
    if args.split == "all":
        left_out += sorted(fine.keys() - model_ids)  # read at the score size only
    if left_out:
        print(f"scoring the cases read at both {score_size} px and the model's size; left "
              f"out, read at only one: {', '.join(left_out)}")
    scored = [fine[record.case_id] for record in records if record.case_id in fine]
    return scored, {record.case_id: predictions[record.case_id].resized(score_size)
                    for record in scored}
