"""Train every ablation row with the same budget and write the table (Markdown and JSON).

    python -m training ablation DATA OUT --max-steps 20000
    python -m training ablation DATA OUT --rows kf_only kf_fd full --epochs 150
    python -m training ablation DATA OUT --epochs 15 --test TEST_DATA

Run the same command again after an interruption: finished rows are kept, the interrupted
one resumes. All training options of train-seg apply to every row.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dsaviewer.models import ABLATIONS
from training.ablation import run_ablation
from training.cli_common import (
    add_dataset_arguments,
    add_runtime_arguments,
    read_records,
    runtime_from_args,
)
from training.cli_train_seg import (
    add_model_arguments,
    add_training_arguments,
    config_for,
    training_options,
)
from training.ddp import distributed_processes
from training.loop_contract import StopRequest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, help="dataset folder")
    parser.add_argument("out", type=Path, help="output folder: one sub-folder per row")
    parser.add_argument("--rows", nargs="+", choices=list(ABLATIONS), default=list(ABLATIONS),
                        help="the rows to train (default: all, in table order)")
    parser.add_argument("--test", type=Path, default=None,
                        help="held-out dataset on which each row's best checkpoint is also "
                             "scored (Dice, lesion sensitivity, FP ratio, HD95 with 95 %% CIs)")
    add_model_arguments(parser)
    add_training_arguments(parser)
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def run(args: argparse.Namespace) -> int:
    stop = StopRequest()
    with distributed_processes(args.device) as context:
        options = training_options(args)
        configs = {name: config_for(name, args) for name in args.rows}
        sizes = {config.image_size for config in configs.values()}
        size = sizes.pop()
        records = read_records(args.data, size, args, context)
        test_records, test_cache = None, None
        if args.test is not None:  # its own cache: --cache-dir names the training data's
            test_cache = args.test / ".cache"
            test_records = read_records(args.test, size, args, context, cache_dir=test_cache)
        with stop.handle_signals():
            rows = run_ablation(records, args.rows, configs.__getitem__, options, args.out,
                                runtime_from_args(args), stop=stop, test_records=test_records,
                                test_cache=test_cache)
    if context.is_main:
        print((args.out / "ablation.md").read_text(encoding="utf-8") if rows else "no row done")
    if len(rows) < len(args.rows):
        print("interrupted; run the same command again to continue")
        return 130
    return 0
