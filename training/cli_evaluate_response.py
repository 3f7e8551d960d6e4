"""Evaluate response checkpoints per DSA-Net Table 3, with ROC and calibration plots.

    python -m training evaluate-response TEST_DATA [MORE_TEST_DATA ...] OUT \\
        --checkpoint R/best.pt --seg-checkpoint SEG/best.pt --compare R_GT/best.pt

Each response model reads the masks it was trained on: the segmentation model's predictions
(``--seg-checkpoint``, else the one stored with it) or the annotated masks. DeLong's test
compares the first model with each other one and, when DATA has the synthetic generator's
truth.csv, with the true response probabilities (the Bayes-optimal scorer).

Writes OUT/response.md, response.json, roc.png and calibration.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from training.cli_common import prediction_cache, read_records
from training.cli_evaluation import (
    add_evaluation_arguments,
    evaluation_context,
    select_split,
)
from training.dataset import CaseRecord
from training.device import RuntimeOptions
from training.evaluate_families import RESPONSE_COLUMNS, family_markdown, response_by_family
from training.evaluate_response import compare_models, evaluate_response, response_markdown
from training.families import family_groups, held_out_groups, read_families
from training.plots import draw_calibration, draw_roc, roc_band
from training.report import write_json, write_text
from training.seg_predictions import response_input_masks
from training.synth.case_writer import TRUTH_CSV
from training.torch_data import ground_truth_key_frame_masks
from training.train_response import (
    GROUND_TRUTH,
    TrainedResponse,
    load_trained_response,
    response_cases,
    response_probabilities,
)
from training.true_probabilities import true_probabilities

BAYES = "true probabilities"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_evaluation_arguments(parser, "folder for the report and plots", "response best.pt")
    parser.add_argument("--compare", type=Path, nargs="*", default=[],
                        help="other response checkpoints, compared with DeLong's test")
    parser.add_argument("--seg-checkpoint", type=Path, nargs="*", default=[],
                        help="segmentation checkpoint(s) making the masks of models trained "
                             "on predicted masks (default: the one stored with each)")
    parser.add_argument("--truth", type=Path,
                        help=f"the generator's {TRUTH_CSV} (default: DATA/{TRUTH_CSV} of every "
                             "folder, if each has one)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="operating point of the rates (default: each model's own, stored "
                             "with its weights)")


def run(args: argparse.Namespace) -> int:
    runtime, context = evaluation_context(args)
    models = [load_trained_response(path) for path in [args.checkpoint, *args.compare]]
    sizes = {model.config.image_size for model in models}
    if len(sizes) != 1:
        raise InputError(f"the models read different image sizes {sorted(sizes)}",
                         args.checkpoint)
    records = response_cases(read_records(args.data, sizes.pop(), args, context))
    records = select_split(records, args.split, models[0].stored["split"]["validation"],
                           args.checkpoint)
    truth = true_probabilities(args.data, records, args.truth)
    scored = [_score(model, records, args, runtime) for model in models]

    labels = scored[0][1]
    names = [_name(model, index) for index, model in enumerate(models)]
    evaluations = [
        evaluate_response(name, labels, probabilities,
                          model.threshold if args.threshold is None else args.threshold,
                          true_probabilities=truth, n_resamples=args.resamples,
                          seed=args.bootstrap_seed)
        for name, model, (_, _, probabilities) in zip(names, models, scored, strict=True)
    ]
    comparisons = [(names[0], names[i], compare_models(labels, scored[0][2], scored[i][2]))
                   for i in range(1, len(models))]
    if truth is not None:
        comparisons += [(name, BAYES, compare_models(labels, probabilities, truth))
                        for name, (_, _, probabilities) in zip(names, scored, strict=True)]
    args.out.mkdir(parents=True, exist_ok=True)
    markdown = response_markdown(evaluations, comparisons)
    bayes = evaluations[0].metrics.get("bayes_auc")
    draw_roc(args.out / "roc.png",
             [(e.name, e.roc, e.metrics["auc"].estimate) for e in evaluations],
             None if bayes is None else bayes.estimate,
             [roc_band(labels, probabilities, args.resamples, args.bootstrap_seed)
              for _, _, probabilities in scored])
    draw_calibration(args.out / "calibration.png", [(e.name, e.calibration) for e in evaluations])
    families = read_families(args.data)
    by_family = []
    if families:
        held = held_out_groups(args.held_out, {})
        groups = family_groups(scored[0][0], families)
        by_family = response_by_family(scored[0][0], labels, scored[0][2], truth, groups, held,
                                       args.resamples, args.bootstrap_seed)
        markdown += (f"\n\n## Per family ({names[0]})\n\n"
                     + family_markdown(by_family, RESPONSE_COLUMNS))
    write_text(args.out / "response.md", markdown)
    write_json(args.out / "response.json", {
        "data": [str(folder) for folder in args.data], "split": args.split,
        "checkpoints": [str(model.path) for model in models],
        "case_ids": scored[0][0],
        "labels": labels.tolist(),
        "probabilities": {name: p.tolist() for name, (_, _, p) in zip(names, scored,
                                                                      strict=True)},
        "true_probabilities": None if truth is None else truth.tolist(),
        "evaluations": [e.to_dict() for e in evaluations],
        "delong": [{"a": a, "b": b, **result.__dict__} for a, b, result in comparisons],
        "by_family": [row.to_dict() for row in by_family],
    })
    print(markdown)
    return 0


def _score(
    model: TrainedResponse,
    records: list[CaseRecord],
    args: argparse.Namespace,
    runtime: RuntimeOptions,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    if model.masks == GROUND_TRUTH:
        masks = ground_truth_key_frame_masks(records)
    else:
        stored = model.stored.get("segmentation_checkpoint") or ""
        checkpoints = args.seg_checkpoint or ([Path(stored)] if stored else [])
        if not checkpoints:
            raise InputError("was trained on predicted masks: give --seg-checkpoint", model.path)
        masks = response_input_masks(checkpoints, records, prediction_cache(args), runtime)
    return response_probabilities(model, records, masks, runtime)


def _name(model: TrainedResponse, index: int) -> str:
    masks = "ground-truth masks" if model.masks == GROUND_TRUTH else "predicted masks"
    clinical = "" if model.config.clinical_features else ", image only"
    # The run folder tells apart two models trained on the same kind of masks.
    return f"{chr(ord('A') + index)}: {masks}{clinical} ({model.path.parent.name})"
