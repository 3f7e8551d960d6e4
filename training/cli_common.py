"""Command-line pieces the training commands share: device options and dataset reading."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from dsaviewer.errors import InputError
from training.dataset import CaseRecord, read_dataset
from training.ddp import DistributedContext
from training.device import RuntimeOptions


def training_exit_status(context: DistributedContext, result, best: str) -> int:
    """Report a training command's end on the main process: 130 (and how to resume) when
    interrupted, else why it stopped, ``best`` and where the weights are."""
    if not context.is_main:
        return 0
    if result.stop_reason == "interrupted":
        print(f"interrupted at step {result.global_step}; resume with --resume")
        return 130
    print(f"{result.stop_reason} after {result.global_step} steps; {best}; weights in "
          f"{result.weights_dir}")
    return 0


def add_runtime_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("device")
    group.add_argument("--device", default="auto",
                       help="auto (CUDA, else MPS, else CPU), cpu, cuda, cuda:N or mps")
    group.add_argument("--threads", type=int, default=None,
                       help="CPU threads for torch (default: the CPUs this process may use, "
                            "shared among the processes of a torchrun launch)")
    group.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                       help="channels-last memory format (default: on for CUDA only)")
    group.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                       help="bf16 autocast (default: on for CUDA and CPUs with native bf16)")


def runtime_from_args(args: argparse.Namespace) -> RuntimeOptions:
    return RuntimeOptions(device=args.device, threads=args.threads,
                          channels_last=args.channels_last, bf16=args.bf16)


def add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where preprocessed cases are cached (default: DATA/.cache)")
    parser.add_argument("--read-workers", type=int, default=None,
                        help="processes decoding videos (default: the CPU count)")


def read_records(
    data: Path | Sequence[Path],
    size: int,
    args: argparse.Namespace,
    context: DistributedContext,
    log: Callable[[str], None] = print,
    cache_dir: Path | None = None,
) -> list[CaseRecord]:
    """The cases of ``data`` (one dataset folder or several, read together) at ``size`` px,
    cached in ``cache_dir``, else ``--cache-dir``, else each folder's ``.cache``. Under
    torchrun rank 0 decodes and caches first, then the other processes read its cache instead
    of decoding the videos again. A case id found in two folders is refused: the split and
    the per-family tables key cases by id."""
    folders = dataset_folders(data)
    records: list[CaseRecord] = []

    def read() -> None:
        for folder in folders:
            def progress(done: int, total: int, folder: Path = folder) -> None:
                if context.is_main and (done == total or done % max(1, total // 10) == 0):
                    where = f" of {folder}" if len(folders) > 1 else ""
                    log(f"read {done}/{total} cases{where}")

            report = read_dataset(folder, size=size, cache_dir=cache_dir or args.cache_dir,
                                  workers=args.read_workers, progress=progress)
            if context.is_main:
                for case_id, reason in report.rejected:
                    log(f"skipped case {case_id}: {reason}")
            records.extend(report.records)
        _refuse_repeated_ids(records, folders)

    if context.is_main:
        read()
    context.barrier()
    if not context.is_main:
        read()
    return records


def dataset_folders(data: Path | Sequence[Path]) -> list[Path]:
    """``data`` as a list of folders (a command may take one dataset or several)."""
    return [Path(data)] if isinstance(data, (str, Path)) else [Path(folder) for folder in data]


def _refuse_repeated_ids(records: Sequence[CaseRecord], folders: Sequence[Path]) -> None:
    seen: set[str] = set()
    repeated = sorted({r.case_id for r in records if r.case_id in seen or seen.add(r.case_id)})
    if repeated:
        shown = ", ".join(repeated[:5]) + (" ..." if len(repeated) > 5 else "")
        raise InputError(f"{len(repeated)} case id(s) appear in more than one of the dataset "
                         f"folders ({shown}); give each case one folder",
                         ", ".join(str(folder) for folder in folders))


def prediction_cache(args: argparse.Namespace) -> Path:
    """Where the predictions on DATA are cached: --cache-dir, else the first folder's .cache
    (one cache file per checkpoint holds the predictions of all folders read together)."""
    return args.cache_dir if args.cache_dir is not None else args.data[0] / ".cache"
