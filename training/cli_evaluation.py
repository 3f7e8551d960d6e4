"""What the evaluate-* commands share: their arguments (DATA, OUT, --checkpoint, the split,
the dataset and device options), the choice of the evaluated cases, the single-process
context they run in and where their predictions are cached."""

from __future__ import annotations

import argparse
from pathlib import Path

from dsaviewer.errors import InputError
from training.cli_common import add_dataset_arguments, add_runtime_arguments, runtime_from_args
from training.dataset import CaseRecord
from training.ddp import DistributedContext
from training.device import RuntimeOptions, select_device


def add_evaluation_arguments(
    parser: argparse.ArgumentParser, out_help: str, checkpoint_help: str
) -> None:
    """DATA, OUT and --checkpoint, then the split, dataset and device options."""
    parser.add_argument("data", type=Path, nargs="+",
                        help="dataset folder(s) to evaluate on; several are read together "
                             "as one test set (case ids must differ)")
    parser.add_argument("out", type=Path, help=out_help)
    parser.add_argument("--checkpoint", type=Path, required=True, help=checkpoint_help)
    parser.add_argument("--split", choices=("all", "validation"), default="all",
                        help="all cases of DATA (a test set), or only the checkpoint's "
                             "validation fold (DATA is its training data)")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--bootstrap-seed", type=int, default=0)
    parser.add_argument("--held-out", action="append", default=[], metavar="FAMILY=VALUE",
                        help="mark this broad-mix family value as held out of training in "
                             "the per-family table (default: the checkpoint's own)")
    add_dataset_arguments(parser)
    add_runtime_arguments(parser)


def evaluation_context(args: argparse.Namespace) -> tuple[RuntimeOptions, DistributedContext]:
    """The device options and a single-process context: evaluation is not spread over
    torchrun processes, whatever the environment says."""
    runtime = runtime_from_args(args)
    return runtime, DistributedContext(0, 1, 0, 1, select_device(runtime.device))


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
