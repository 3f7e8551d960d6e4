"""Fine-tune the weights on a site's labelled cases (what the viewer's Export dataset writes).

    python -m training fine-tune DATA OUT                      # from the shipped weights
    python -m training fine-tune DATA OUT --from OTHER/weights --minutes 15

OUT receives the run's checkpoints and log, and ``OUT/weights``: a weights folder for
``dsaviewer analyze --weights OUT/weights`` and the viewer. Preprocessed cases are cached in
``OUT/cache`` (the dataset folder is only read). Ctrl-C stops after the current step and
writes no weights; a run cannot be resumed, so OUT must be new or empty. ``--progress-json``
prints one JSON object a line instead of text (the viewer's training dialog reads it).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import read_manifest
from dsaviewer.models import SegmentationConfig
from dsaviewer.resources import weights_dir
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    read_records,
    runtime_from_args,
)
from training.ddp import init_distributed
from training.fine_tune import FineTuneOptions, check_output_folder, fine_tune
from training.loop_contract import StepReport, StopRequest
from training.trainable import TRAINABLE

CACHE_DIR = "cache"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = FineTuneOptions()
    parser.add_argument("data", type=Path, help="the site's dataset folder (case-folder contract)")
    parser.add_argument("out", type=Path, help="output folder (a new one, or an empty one: "
                        "a run cannot be resumed)")
    parser.add_argument("--from", dest="base", type=Path, default=None, metavar="WEIGHTS_DIR",
                        help="weights folder to start from (default: the shipped weights)")
    parser.add_argument("--minutes", type=float, default=defaults.minutes,
                        help=f"time budget of the whole run ({defaults.minutes:g})")
    parser.add_argument("--val-fraction", type=float, default=defaults.val_fraction,
                        help="share of the cases held out to validate and stop early on, at "
                             f"least one case ({defaults.val_fraction:g})")
    parser.add_argument("--lr", type=float, default=defaults.learning_rate,
                        help=f"Adam learning rate ({defaults.learning_rate:g})")
    parser.add_argument("--trainable", choices=sorted(TRAINABLE), default=defaults.trainable,
                        help=f"which sub-networks learn ({defaults.trainable})")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--patience", type=int, default=defaults.patience,
                        help="epochs without a better validation tumor Dice before stopping "
                             f"({defaults.patience})")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--progress-json", action="store_true",
                        help="print progress as JSON lines (for the viewer)")
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    emit = _json_emitter() if args.progress_json else None
    log = _logger(emit, started, args.minutes)
    stop = StopRequest()
    base = args.base if args.base is not None else weights_dir()
    try:
        options = _options(args)
        check_output_folder(args.out)  # before the cases are read, which takes a while
        manifest = read_manifest(base)
        size = SegmentationConfig.from_dict(manifest.segmentation.config, base).image_size
        context = init_distributed(args.device)
        records = read_records(args.data, size, args, context, log,
                               cache_dir=args.cache_dir or args.out / CACHE_DIR)
        if emit:
            emit({"event": "start", "cases": len(records), "minutes": args.minutes})
        with stop.handle_signals():
            result = fine_tune(
                records, base, args.out, options, runtime_from_args(args), started=started,
                log=log, on_step=_step_reporter(emit, started, args.minutes),
                on_validation=_validation_reporter(emit), stop=stop,
                command=_command(args, base),
            )
    except InputError as error:
        if emit:
            emit({"event": "error", "message": str(error)})
        print(f"fine-tune: {error}", file=sys.stderr)
        return 2
    if result.weights_dir is None:
        if emit:
            emit({"event": "stopped", "reason": result.stop_reason})
        log(_not_finished(result.stop_reason, args))
        return 130
    if emit:
        emit({"event": "done", "weights": str(result.weights_dir), "before": result.before,
              "after": result.after, "stop_reason": result.stop_reason,
              "response_threshold": result.response_threshold})
    log(f"{result.stop_reason}: site validation tumor Dice "
        f"{result.before.get('tumor_dice', float('nan')):.4f} -> "
        f"{result.after.get('tumor_dice', float('nan')):.4f}; weights in {result.weights_dir}")
    return 0


def _not_finished(stop_reason: str, args: argparse.Namespace) -> str:
    """What a run that wrote no weights tells its user, and what to do next."""
    if stop_reason != "interrupted":
        return f"stopped ({stop_reason}) before a model was validated; no weights written"
    cache = args.cache_dir or args.out / CACHE_DIR
    reuse = f"; --cache-dir {cache} reuses the cases it read" if cache.is_dir() else ""
    return (f"cancelled; no weights written. A fine-tune cannot be resumed: run it again "
            f"with a new output folder ({args.out} keeps only the cancelled run's checkpoint "
            f"and log{reuse})")


def _command(args: argparse.Namespace, base: Path) -> str:
    """The command line that repeats this run, for the weights' provenance."""
    words = ["python", "-m", "training", "fine-tune", str(args.data), str(args.out),
             "--from", str(base), "--minutes", f"{args.minutes:g}",
             "--val-fraction", f"{args.val_fraction:g}", "--lr", f"{args.lr:g}",
             "--trainable", args.trainable, "--batch-size", str(args.batch_size),
             "--patience", str(args.patience), "--seed", str(args.seed)]
    return shlex.join(words)


def _options(args: argparse.Namespace) -> FineTuneOptions:
    try:
        return FineTuneOptions(minutes=args.minutes, val_fraction=args.val_fraction,
                               learning_rate=args.lr, trainable=args.trainable,
                               batch_size=args.batch_size, patience=args.patience,
                               seed=args.seed)
    except ValueError as error:
        raise InputError(str(error), "command line") from error


def _json_emitter() -> Callable[[Mapping], None]:
    def emit(event: Mapping) -> None:
        print(json.dumps(event, allow_nan=False, default=float), flush=True)

    return emit


def _logger(
    emit: Callable[[Mapping], None] | None, started: float, minutes: float
) -> Callable[[str], None]:
    def log(message: str) -> None:
        left = max(0.0, 60.0 * minutes - (time.monotonic() - started))
        if emit:
            emit({"event": "log", "message": message, "time_left_s": round(left, 1)})
        else:
            print(f"{message}  [time left {int(left // 60)}:{int(left % 60):02d}]", flush=True)

    return log


def _step_reporter(
    emit: Callable[[Mapping], None] | None, started: float, minutes: float
) -> Callable[[StepReport], None] | None:
    if emit is None:
        return None

    def report(step: StepReport) -> None:
        left = max(0.0, 60.0 * minutes - (time.monotonic() - started))
        emit({"event": "step", "epoch": step.epoch + 1, "step": step.global_step,
              "planned_steps": step.planned_steps, "loss": step.parts.get("total"),
              "time_left_s": round(left, 1)})

    return report


def _validation_reporter(
    emit: Callable[[Mapping], None] | None,
) -> Callable[[int, Mapping[str, float]], None] | None:
    if emit is None:
        return None

    def report(epoch: int, metrics: Mapping[str, float]) -> None:
        emit({"event": "validation", "epoch": epoch, **{k: float(v) for k, v in metrics.items()}})

    return report
