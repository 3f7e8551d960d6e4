"""Train the DSA-Net response model (Model 2) on predicted or ground-truth tumor masks.

    python -m training train-response DATA OUT --seg-checkpoint SEG/best.pt
    python -m training train-response DATA OUT --gt-masks --seg-checkpoint SEG/best.pt
    python -m training train-response DATA OUT --seg-checkpoint F0/best.pt F1/best.pt ...

With one checkpoint per cross-validation fold, each case's mask comes from the fold model
that did not train on it. The segmentation predictions are cached in the dataset cache.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.models import ResponseConfig, response_image_channels
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    prediction_cache,
    read_records,
    runtime_from_args,
    training_exit_status,
)
from training.dataset import CaseRecord
from training.ddp import DistributedContext, distributed_processes
from training.device import RuntimeOptions
from training.families import parse_held_out, without_held_out
from training.loop_contract import StopRequest
from training.seg_predictions import load_trained_segmentation, response_input_masks
from training.torch_data import clinical_feature_count, ground_truth_key_frame_masks
from training.train_response import (
    GROUND_TRUTH,
    PREDICTED,
    ResponseTrainingOptions,
    response_cases,
    stored_response_run,
    train_response,
)

_OPTION_ARGUMENTS = {
    "epochs": "epochs", "patience": "patience", "batch_size": "batch_size",
    "lr": "learning_rate", "weight_decay": "weight_decay", "seed": "seed", "fold": "fold",
    "folds": "n_folds", "split_seed": "split_seed", "threshold": "threshold",
    "max_steps": "max_steps", "time_budget_minutes": "time_budget_minutes",
    "log_every": "log_every", "checkpoint_every": "checkpoint_every", "workers": "workers",
    "dihedral_augmentation": "dihedral_augmentation", "head_lr": "head_learning_rate",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, nargs="+",
                        help="dataset folder(s) with clinical.csv responses; several are "
                             "trained on together")
    parser.add_argument("out", type=Path, help="output folder for checkpoints, logs, weights")
    parser.add_argument("--seg-checkpoint", type=Path, nargs="+", default=[],
                        help="segmentation best.pt file(s) whose predictions Model 2 reads; "
                             "the first is bundled into OUT/weights")
    parser.add_argument("--gt-masks", action="store_true",
                        help="read the annotated masks instead (the paper's upper bound)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in OUT with its stored config and options")
    model = parser.add_argument_group("model")
    model.add_argument("--width", type=int, default=64, help="ResNet18 width (64)")
    model.add_argument("--clinical-hidden", type=int, default=32)
    model.add_argument("--fusion-hidden", type=int, default=64)
    model.add_argument("--dropout", type=float, default=0.2)
    model.add_argument("--clinical-linear", action="store_true",
                       help="add a linear map of the clinical vector to the logit")
    model.add_argument("--no-clinical", action="store_true",
                       help="image-only model (the paper's comparison)")
    model.add_argument("--run-maps", action="store_true",
                       help="the image goes on with the run's maximum and mean enhancement "
                            "(the maps the liver network reads), so the model sees tumors "
                            "the mask missed")
    model.add_argument("--tumor-measurements", action="store_true",
                       help="add a linear map of the predicted tumor's measured contrast (key "
                            "frame, run maps) and log area to the logit")
    model.add_argument("--image-size", type=int,
                       help="model size (default: the segmentation model's, else 256)")
    defaults = ResponseTrainingOptions()
    train = parser.add_argument_group("training")
    train.add_argument("--epochs", type=int, help=f"at most this many ({defaults.epochs})")
    train.add_argument("--patience", type=int,
                       help=f"epochs without a better validation AUC ({defaults.patience})")
    train.add_argument("--batch-size", type=int, help=f"({defaults.batch_size})")
    train.add_argument("--lr", type=float, help=f"Adam learning rate ({defaults.learning_rate})")
    train.add_argument("--weight-decay", type=float, help=f"({defaults.weight_decay})")
    train.add_argument("--head-lr", type=float,
                       help="learning rate of the clinical MLP and final layers (--lr)")
    train.add_argument("--seed", type=int)
    train.add_argument("--fold", type=int, help="validation fold, 0-based (0)")
    train.add_argument("--folds", type=int, help="number of folds, stratified by response (5)")
    train.add_argument("--split-seed", type=int)
    train.add_argument("--threshold", type=float,
                       help="operating point stored (default: Youden's J on the validation fold)")
    train.add_argument("--max-steps", type=int)
    train.add_argument("--time-budget-minutes", type=float)
    train.add_argument("--log-every", type=int)
    train.add_argument("--checkpoint-every", type=int)
    train.add_argument("--workers", type=int)
    train.add_argument("--dihedral-augmentation", action=argparse.BooleanOptionalAction,
                       default=None, help="random 90° turns and mirroring of the training "
                                          "images (default: on)")
    train.add_argument("--hold-out", action="append", default=[], metavar="FAMILY=VALUE",
                       help="never train or validate on cases of this broad-mix family value "
                            "(repeatable)")
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def run(args: argparse.Namespace) -> int:
    stop = StopRequest()
    with distributed_processes(args.device) as context:
        config, options = _config_and_options(args)
        records = response_cases(read_records(args.data, config.image_size, args, context))
        records = without_held_out(records, args.data, dict(options.held_out))
        if not records:
            raise InputError("no case has a known response",
                             ", ".join(str(folder / "clinical.csv") for folder in args.data))
        if config.clinical_features:
            config = dataclasses.replace(config,
                                         clinical_features=clinical_feature_count(records))
        masks = _masks(args, options, records, runtime_from_args(args), context)
        with stop.handle_signals():
            result = train_response(
                records, masks, config, options, args.out, runtime_from_args(args),
                segmentation_checkpoint=args.seg_checkpoint[0] if args.seg_checkpoint else None,
                resume=args.resume, stop=stop, command=shlex.join(sys.argv),
            )
    return training_exit_status(context, result, f"best validation AUC {result.best_auc} "
                                                 f"(epoch {result.best_epoch})")


def _config_and_options(
    args: argparse.Namespace,
) -> tuple[ResponseConfig, ResponseTrainingOptions]:
    given = {field: getattr(args, name) for name, field in _OPTION_ARGUMENTS.items()
             if getattr(args, name) is not None}
    if args.resume:
        config, options = stored_response_run(args.out)
        run_control = {k: v for k, v in given.items() if k in options.RUN_CONTROL}
        return config, dataclasses.replace(options, **run_control)
    if not args.gt_masks and not args.seg_checkpoint:
        raise InputError("give --seg-checkpoint (predicted masks) or --gt-masks", "command line")
    image_size = args.image_size
    if image_size is None:
        image_size = (load_trained_segmentation(args.seg_checkpoint[0]).config.image_size
                      if args.seg_checkpoint else 256)
    try:
        # clinical_features is set from the data once it is read; 0 means image only.
        config = ResponseConfig(
            clinical_features=0 if args.no_clinical else 1, width=args.width,
            clinical_hidden=args.clinical_hidden, fusion_hidden=args.fusion_hidden,
            dropout=args.dropout, image_size=image_size, clinical_linear=args.clinical_linear,
            image_channels=response_image_channels(args.run_maps), reads_run_maps=args.run_maps,
            tumor_measurements=args.tumor_measurements,
        )
        options = ResponseTrainingOptions(**given,
                                          masks=GROUND_TRUTH if args.gt_masks else PREDICTED,
                                          held_out=tuple(parse_held_out(args.hold_out).items()))
    except ValueError as error:
        raise InputError(str(error), "command line") from error
    return config, options


def _masks(
    args: argparse.Namespace,
    options: ResponseTrainingOptions,
    records: list[CaseRecord],
    runtime: RuntimeOptions,
    context: DistributedContext,
) -> dict[str, np.ndarray]:
    if options.masks == GROUND_TRUTH:
        return ground_truth_key_frame_masks(records)
    if not args.seg_checkpoint:
        raise InputError("predicted masks need --seg-checkpoint", "command line")
    cache = prediction_cache(args)
    masks: dict[str, np.ndarray] = {}
    # Rank 0 segments and caches; the other processes then read its cache.
    if context.is_main:
        masks = response_input_masks(args.seg_checkpoint, records, cache, runtime)
    context.barrier()
    if not context.is_main:
        masks = response_input_masks(args.seg_checkpoint, records, cache, runtime,
                                     log=lambda message: None)
    return masks
