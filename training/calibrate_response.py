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
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from dsaviewer.core.metrics_classification import calibration_bins
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", type=Path,
                        help="new weights folder (a calibrated copy of the checkpoint's)")
    parser.add_argument("data", type=Path, nargs="+", help="calibration dataset folder(s)")
    parser.add_argument("--checkpoint", type=Path, required=True,
                        help="the response.pt of a weights folder")
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
    try:
        slope, intercept = fit_platt(probabilities, labels)
    except ValueError as error:
        raise InputError(f"cannot calibrate: {error}", args.data[0]) from error
    calibrated = platt(probabilities, slope, intercept)
    before = calibration_bins(labels, probabilities, 10).expected_calibration_error
    after = calibration_bins(labels, calibrated, 10).expected_calibration_error

    # The stored threshold is on the shown scale: back to the model's, then through the new map.
    model_threshold = model_scale_threshold(manifest.response.threshold,
                                            manifest.response.calibration)
    threshold = float(platt(model_threshold, slope, intercept))
    response = dataclasses.replace(manifest.response, calibration=(slope, intercept),
                                   threshold=threshold)
    evaluation = {**manifest.provenance.evaluation, "response_calibration": {
        "data": [str(folder) for folder in args.data], "cases": int(len(labels)),
        "slope": round(slope, 4), "intercept": round(intercept, 4),
        "ece_before": round(float(before), 4), "ece_after_on_calibration_data":
            round(float(after), 4)}}
    provenance = dataclasses.replace(manifest.provenance, evaluation=evaluation)
    shutil.copytree(folder, args.out, dirs_exist_ok=True)
    write_manifest(args.out, dataclasses.replace(manifest, response=response,
                                                 provenance=provenance))
    print(f"calibrate-response: {len(labels)} cases: slope {slope:.3f}, "
          f"intercept {intercept:.3f}; ECE {before:.3f} -> {after:.3f} (on these cases); "
          f"threshold {manifest.response.threshold:.3f} -> {threshold:.3f}; wrote {args.out}")
    return 0
