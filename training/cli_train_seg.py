"""Train the DSA-LTDNet segmentation model (or an ablation) on a dataset folder.

    python -m training train-seg DATA OUT --config full
    python -m training train-seg DATA OUT --resume          # after Ctrl-C, kill or a crash
    torchrun --nproc_per_node 4 -m training train-seg DATA OUT --config full

Ctrl-C (or SIGTERM) saves OUT/last.pt after the current step; a second Ctrl-C aborts.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import read_manifest
from dsaviewer.inference.weights import load_weights
from dsaviewer.models import (
    ABLATIONS,
    BACKBONES,
    LIVER_INPUTS,
    SegmentationConfig,
    build_segmentation_model,
)
from training.augment import ROBUST, RobustAugmentation
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    read_records,
    runtime_from_args,
    training_exit_status,
)
from training.ddp import distributed_processes
from training.families import parse_held_out, without_held_out
from training.initial_state import initial_state
from training.lesion_weights import LesionWeighting
from training.loop_contract import StopRequest
from training.torch_data import Augmentation
from training.train_segmentation import (
    SegmentationTrainingOptions,
    stored_run,
    train_segmentation,
)
from training.trainable import TRAINABLE, parameter_groups, select_trainable

# argument name -> SegmentationTrainingOptions field
_OPTION_ARGUMENTS = {
    "epochs": "epochs",
    "tdl_warmup_epochs": "tdl_warmup_epochs",
    "batch_size": "batch_size",
    "lr": "learning_rate",
    "lambda0": "lambda0",
    "lambda1": "lambda1",
    "bce_weight": "bce_weight",
    "seed": "seed",
    "fold": "fold",
    "folds": "n_folds",
    "split_seed": "split_seed",
    "max_steps": "max_steps",
    "time_budget_minutes": "time_budget_minutes",
    "log_every": "log_every",
    "checkpoint_every": "checkpoint_every",
    "workers": "workers",
}
_CONFIG_ARGUMENTS = ("backbone", "base_width", "depth", "image_size", "liver_input")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, nargs="+",
                        help="dataset folder(s) (DESIGN.md case-folder contract); several "
                             "are trained on together, e.g. the default and the broad mix")
    parser.add_argument("out", type=Path, help="output folder for checkpoints, logs, weights")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in OUT with its stored config and options")
    parser.add_argument("--config", choices=sorted(ABLATIONS), default="full",
                        help="architecture preset (the papers' ablation rows; default full)")
    add_model_arguments(parser)
    add_training_arguments(parser)
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    model = parser.add_argument_group("model (overrides of the preset)")
    model.add_argument("--backbone", choices=sorted(BACKBONES))
    model.add_argument("--base-width", type=int)
    model.add_argument("--depth", type=int)
    model.add_argument("--image-size", type=int)
    model.add_argument("--liver-input", choices=LIVER_INPUTS,
                       help="what the liver network reads: the key frame (the papers'), "
                            "the whole frame stack, or the stack and maps of the whole run "
                            "(frames_and_run; default: as in --init-weights, else the key "
                            "frame)")


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
    train = parser.add_argument_group("training (defaults: the paper's)")
    defaults = SegmentationTrainingOptions()
    train.add_argument("--epochs", type=int, help=f"co-training epochs ({defaults.epochs})")
    train.add_argument("--tdl-warmup-epochs", type=int,
                       help=f"epochs training TDL on FD alone first ({defaults.tdl_warmup_epochs})")
    train.add_argument("--batch-size", type=int, help=f"global batch ({defaults.batch_size})")
    train.add_argument("--lr", type=float, help=f"Adam learning rate ({defaults.learning_rate})")
    train.add_argument("--lambda0", type=float, help="weight of L1(TDL, FD) (0.1)")
    train.add_argument("--lambda1", type=float, help="weight of the liver loss (1)")
    train.add_argument("--bce-weight", type=float, help="a in a·BCE + (1−a)·Dice (0.5)")
    train.add_argument("--seed", type=int, help="initialisation and data order (0)")
    train.add_argument("--fold", type=int, help="validation fold, 0-based (0)")
    train.add_argument("--folds", type=int, help="number of folds (5)")
    train.add_argument("--split-seed", type=int, help="seed of the case split (0)")
    train.add_argument("--max-steps", type=int,
                       help="plan the run for this many steps (the cosine anneals to 0 there)")
    train.add_argument("--time-budget-minutes", type=float,
                       help="stop (validate, save) after this long")
    train.add_argument("--log-every", type=int, help="steps between progress lines (10)")
    train.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (100)")
    train.add_argument("--workers", type=int, help="DataLoader worker processes (0)")
    train.add_argument("--flip-probability", type=float, default=0.0,
                       help="horizontal flip augmentation (off: anatomy is oriented)")
    train.add_argument("--intensity-jitter", type=float, default=0.0,
                       help="random gain 1±x on the frames (off)")
    train.add_argument("--robust-augmentation", action="store_true",
                       help="gamma, noise, blur, resolution, scale, elastic and cutout "
                       "(training/augment.py ROBUST)")
    train.add_argument("--lesion-weighting", type=float, default=0.0, metavar="DIAMETER_PX",
                       help="weigh each labelled lesion smaller than a disc of this diameter "
                            "(pixels of the model input) up in the tumor BCE, by reference "
                            "area / its area (training/lesion_weights.py; off)")
    train.add_argument("--lesion-max-weight", type=float, default=LesionWeighting.max_weight,
                       help=f"cap of that weight ({LesionWeighting.max_weight:g})")
    train.add_argument("--hold-out", action="append", default=[], metavar="FAMILY=VALUE",
                       help="never train on cases of this broad-mix family value (repeatable)")
    train.add_argument("--init-weights", type=Path,
                       help="start from the segmentation model of this weights folder (same "
                            "model config, or one whose liver network reads less, given the "
                            "--liver-input's new channels, or a narrower one, "
                            "widened to --base-width with its outputs kept), e.g. "
                            "resources/weights")
    train.add_argument("--trainable", choices=list(TRAINABLE), default="all",
                       help="which sub-networks learn (all); e.g. liver: a liver-only phase "
                            "from --init-weights, the tumor and temporal networks kept as "
                            "they are")
    train.add_argument("--lr-for", action="append", default=[], metavar="PARTS=RATE",
                       help="these parts (a --trainable name, e.g. context) learn at their own "
                            "Adam rate, the rest at --lr (repeatable)")
    train.add_argument("--no-sync-bn", action="store_true",
                       help="keep BatchNorm per GPU under torchrun")


def given_options(args: argparse.Namespace) -> dict[str, Any]:
    """The training options set on the command line, by option field name."""
    return {field: getattr(args, name) for name, field in _OPTION_ARGUMENTS.items()
            if getattr(args, name) is not None}


def training_options(args: argparse.Namespace) -> SegmentationTrainingOptions:
    try:
        return SegmentationTrainingOptions(
            **given_options(args),
            augmentation=Augmentation(
                args.flip_probability,
                args.intensity_jitter,
                ROBUST if args.robust_augmentation else RobustAugmentation(),
            ),
            lesion_weighting=LesionWeighting(args.lesion_weighting, args.lesion_max_weight),
            sync_batchnorm=not args.no_sync_bn,
            held_out=tuple(parse_held_out(args.hold_out).items()),
            init_weights=str(args.init_weights) if args.init_weights else None,
            trainable=TRAINABLE[args.trainable],
            learning_rates=parse_learning_rates(args.lr_for),
        )
    except ValueError as error:
        raise InputError(str(error), "command line") from error


def parse_learning_rates(given: list[str]) -> tuple[tuple[str, float], ...]:
    """``--lr-for PARTS=RATE`` values as (parameter-name prefix, rate) pairs, PARTS being a
    named choice of :data:`TRAINABLE`."""
    rates: list[tuple[str, float]] = []
    for text in given:
        parts, _, rate = text.partition("=")
        prefixes = TRAINABLE.get(parts)
        if prefixes is None:  # "all" names no prefixes: --lr sets that rate
            names = sorted(name for name, value in TRAINABLE.items() if value is not None)
            raise ValueError(f"--lr-for {text!r}: the parts must be one of {names}")
        try:
            value = float(rate)
        except ValueError:
            raise ValueError(f"--lr-for {text!r}: the rate must be a number") from None
        rates.extend((prefix, value) for prefix in prefixes)
    return tuple(rates)


def config_for(preset: str, args: argparse.Namespace) -> SegmentationConfig:
    """The ABLATIONS preset with the command line's model overrides."""
    overrides: dict[str, Any] = {name: getattr(args, name) for name in _CONFIG_ARGUMENTS
                                 if getattr(args, name) is not None}
    try:
        return dataclasses.replace(ABLATIONS[preset], **overrides)
    except ValueError as error:
        raise InputError(str(error), "command line") from error


def run(args: argparse.Namespace) -> int:
    stop = StopRequest()
    with distributed_processes(args.device) as context:
        config, options = _config_and_options(args)
        _check_learning_rates(config, options)
        records = read_records(args.data, config.image_size, args, context)
        records = without_held_out(records, args.data, dict(options.held_out))
        initial = None
        if not args.resume and options.init_weights:
            initial, checksum = _initial_state(options.init_weights, config)
            options = dataclasses.replace(options, init_segmentation_sha256=checksum)
            print(f"starting from the segmentation model of {options.init_weights} "
                  f"(sha256 {checksum})")
        with stop.handle_signals():
            result = train_segmentation(
                records, config, options, args.out, runtime_from_args(args),
                resume=args.resume, stop=stop, command=shlex.join(sys.argv),
                initial_state=initial,
            )
    return training_exit_status(context, result, f"best {result.selected_by} Dice "
                                                 f"{result.best_dice} (epoch {result.best_epoch})")


def _config_and_options(
    args: argparse.Namespace,
) -> tuple[SegmentationConfig, SegmentationTrainingOptions]:
    if args.resume:
        config, options = stored_run(args.out)
        run_control = {k: v for k, v in given_options(args).items() if k in options.RUN_CONTROL}
        return config, dataclasses.replace(options, **run_control)
    config = config_for(args.config, args)
    if args.init_weights:
        config = _continuing(config, args)
    return config, training_options(args)


def _continuing(config: SegmentationConfig, args: argparse.Namespace) -> SegmentationConfig:
    """A run started from trained weights continues their liver network as it was, and their
    backbone where the command line names none and the preset is the plain U-Net (a context
    U-Net's weights cannot start a U-Net: the shipped weights are a context U-Net)."""
    entry = read_manifest(args.init_weights).segmentation
    if entry is None:
        return config
    start = SegmentationConfig.from_dict(entry.config, source=args.init_weights)
    kept: dict[str, Any] = {}
    if args.liver_input is None:
        kept["liver_input"] = start.liver_input
    if args.backbone is None and config.backbone == "unet":
        kept["backbone"] = start.backbone
    return dataclasses.replace(config, **kept)


def _check_learning_rates(config: SegmentationConfig,
                          options: SegmentationTrainingOptions) -> None:
    """Refuses, before reading the data, a rate for parts the model does not have or that
    do not learn in this run (e.g. context blocks of a plain U-Net)."""
    model = build_segmentation_model(config)
    select_trainable(model, options.trainable)
    try:
        parameter_groups(model, options.learning_rate, options.learning_rates)
    except ValueError as error:
        raise InputError(f"--lr-for: {error} in a {config.backbone} model", "command line") \
            from error


def _initial_state(weights_dir: str, config: SegmentationConfig) -> tuple[dict, str]:
    """The segmentation state of a weights folder, as the start of ``config``'s model (see
    :func:`training.initial_state.initial_state`), and the checksum its manifest gives."""
    loaded = load_weights(weights_dir)
    try:
        state = initial_state(loaded.segmentation.state_dict(), loaded.segmentation_config,
                              config)
    except ValueError as error:
        raise InputError(f"its segmentation model cannot start this run's "
                         f"({error})", weights_dir) from error
    return state, loaded.manifest.segmentation.sha256
