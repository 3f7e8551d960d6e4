"""Calibrate a weights folder's response probabilities on cases its models were not trained on.

    python -m training calibrate-response OUT CALIBRATION_DATA [...] \
        --checkpoint WEIGHTS/response.pt

The response model of WEIGHTS reads the masks of the segmentation model beside it, as in the
program; Platt scaling (``dsaviewer/core/probability_calibration.py``) is fitted to its
probabilities on CALIBRATION_DATA (one dataset folder or several). OUT gets a copy of WEIGHTS
whose manifest carries the calibration, the operating threshold mapped through it (every call
stays the same) and the expected calibration error before and after; WEIGHTS itself is not
changed. Choose
CALIBRATION_DATA apart from the response model's training data and from every test set.

``--to-truth`` fits the map to the generator's true probabilities of the calibration cases
(their truth.csv) instead of their 0/1 outcomes: on a few hundred cases the outcomes' sampling
noise moves the fitted slope and intercept more than the miscalibration they should correct.
Only generated data has them; a site calibrates on its outcomes.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from dsaviewer.core.metrics_classification import calibration_bins, calibration_error_to_truth
from dsaviewer.core.probability_calibration import fit_platt, model_scale_threshold, platt
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import read_manifest, write_manifest
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    prediction_cache,
    read_records,
)
from training.cli_evaluation import evaluation_context
from training.seg_predictions import response_input_masks
from training.train_response import load_trained_response, response_cases, response_probabilities
from training.true_probabilities import true_probabilities


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", type=Path,
                        help="new weights folder (a calibrated copy of the checkpoint's)")
    parser.add_argument("data", type=Path, nargs="+", help="calibration dataset folder(s)")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="the response.pt of a weights folder")
    parser.add_argument("--to-truth", action="store_true",
                        help="fit to the generator's true probabilities (every DATA folder's "
                             "truth.csv) instead of the outcomes")
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.checkpoint).parent
    manifest = read_manifest(folder)  # WeightsError unless a weights folder
    if manifest.response is None or Path(args.checkpoint).name != manifest.response.file:
        raise InputError("--checkpoint must be the response model file of a weights folder",
                         args.checkpoint)
    if args.out.exists() and any(args.out.iterdir()):
        raise InputError("exists and is not empty: choose a new folder", args.out)
    runtime, context = evaluation_context(args)
    model = load_trained_response(args.checkpoint)
    # Fitted on the model's own probabilities, not on those of an earlier calibration.
    model = dataclasses.replace(model, stored={**model.stored, "calibration": None})
    records = response_cases(read_records(args.data, model.config.image_size, args, context))
    cache = prediction_cache(args)
    masks = response_input_masks([Path(model.stored["segmentation_checkpoint"])], records,
                                 cache, runtime)
    _, labels, probabilities = response_probabilities(model, records, masks, runtime)
    truth = true_probabilities(args.data, records)
    if args.to_truth and truth is None:
        raise InputError("--to-truth needs a truth.csv with the true probabilities in every "
                         "calibration folder", args.data[0])
    fitted_to = "true probabilities" if args.to_truth else "outcomes"
    try:
        slope, intercept = fit_platt(probabilities, truth if args.to_truth else labels)
    except ValueError as error:
        raise InputError(f"cannot calibrate: {error}", args.data[0]) from error
    if slope <= 0:
        # The map must increase to keep every ranking and call; the program refuses others.
        raise InputError(f"cannot calibrate: the fitted slope is {slope:.3f}, so the model's "
                         "probabilities fall where the response rises on these cases",
                         args.data[0])
    calibrated = platt(probabilities, slope, intercept)
    before = calibration_bins(labels, probabilities, 10).expected_calibration_error
    after = calibration_bins(labels, calibrated, 10).expected_calibration_error
    error_to_truth = {} if truth is None else {
        "error_to_true_probabilities_before": round(
            calibration_error_to_truth(truth, probabilities), 4),
        "error_to_true_probabilities_after": round(
            calibration_error_to_truth(truth, calibrated), 4)}

    # The stored threshold is on the shown scale: back to the model's, then through the new map.
    model_threshold = model_scale_threshold(manifest.response.threshold,
                                            manifest.response.calibration)
    threshold = float(platt(model_threshold, slope, intercept))
    response = dataclasses.replace(manifest.response, calibration=(slope, intercept),
                                   threshold=threshold)
    evaluation = {**manifest.provenance.evaluation, "response_calibration": {
        "data": [str(folder) for folder in args.data], "cases": int(len(labels)),
        "fitted_to": fitted_to,
        "slope": round(slope, 4), "intercept": round(intercept, 4),
        "ece_before": round(float(before), 4), "ece_after_on_calibration_data":
            round(float(after), 4), **error_to_truth}}
    provenance = dataclasses.replace(manifest.provenance, evaluation=evaluation)
    shutil.copytree(folder, args.out, dirs_exist_ok=True)
    write_manifest(args.out, dataclasses.replace(manifest, response=response,
                                                 provenance=provenance))
    print(f"calibrate-response: {len(labels)} cases, fitted to their {fitted_to}: "
          f"slope {slope:.3f}, "
          f"intercept {intercept:.3f}; ECE {before:.3f} -> {after:.3f} (on these cases); "
          f"threshold {manifest.response.threshold:.3f} -> {threshold:.3f}; wrote {args.out}")
    return 0
