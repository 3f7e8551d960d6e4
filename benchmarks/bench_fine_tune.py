"""What fine-tuning on a site's labelled cases gains: the learning curve of
``python -m training fine-tune`` from the shipped weights on a generated "site" whose runs
differ from the shipped weights' training data.

    python benchmarks/bench_fine_tune.py WORK [--sizes 4,8,16,32] [--minutes 15]

The site (SITE below): every run displayed inverted, behind a round collimator, magnified,
with the heart border in the field and a gastrointestinal blush on the liver's edge, and
mostly hypovascular tumors (20 % hypervascular instead of the cohort's 72 %). Each knob also
occurs in the default mix the shipped weights were trained on, but never all together and
at these rates. WORK/site holds 2 x max(sizes) cases of it (seed 4242): the first max(sizes)
are the fine-tuning pool (the first N cases fine-tune), the rest are the evaluation cases,
the same for every N. For each N this prints the key-frame tumor and liver Dice (post-
processed as the viewer does, mean over cases) of the shipped and the fine-tuned weights on
the evaluation cases, and appends them to WORK/results.jsonl. ``--family FAMILY=VALUE``
makes the site one family of the broad mix instead (the shipped weights were trained on the
papers' mix only, so every broad-mix family is held out from them).

``--step-times`` instead prints the median seconds of a training step (batch 8, 256 px, one
thread, bf16 where the CPU has it) for each choice of ``--trainable``, the three measured in
turn so that a shared machine's load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from dsaviewer.inference.weights import load_weights  # noqa: E402
from dsaviewer.resources import weights_dir  # noqa: E402
from training.dataset import read_dataset  # noqa: E402
from training.evaluate_segmentation import evaluate_segmentation  # noqa: E402
from training.seg_predictions import TrainedSegmentation, predict_key_frames  # noqa: E402
from training.synth.dataset_writer import write_dataset  # noqa: E402
from training.synth.options import SynthOptions, broad_options  # noqa: E402

SITE = SynthOptions(
    sizes=(((512, 512), 1.0),), formats=(("avi", 1.0),), p_inverted=1.0,
    p_round_collimator=1.0, p_zoom=1.0, p_heart=1.0, p_gi=1.0, p_gi_on_liver_edge=1.0,
    p_rich_blood=0.2,
)
SITE_SEED = 4242


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--sizes", default="4,8,16,32")
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--extra", default="", help="more fine-tune arguments, e.g. '--lr 1e-3'")
    parser.add_argument("--tag", default="", help="suffix of the run folders")
    parser.add_argument("--family", default=None, metavar="FAMILY=VALUE",
                        help="the site is this family of the broad mix (docs/synthetic-data.md"
                             "#families) instead of SITE, e.g. liver=partly_outside")
    parser.add_argument("--step-times", action="store_true",
                        help="time a training step for each --trainable choice and stop")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    pool = max(32, *sizes)
    site = args.work / "site"
    if not (site / "clinical.csv").is_file():
        write_dataset(site, 2 * pool, SITE_SEED, _site_options(args.family), workers=1)
    cases = sorted(path.name for path in site.iterdir() if path.is_dir() and
                   not path.name.startswith("."))
    evaluation = _subset(site, cases[pool:], args.work / "evaluation")
    records = read_dataset(evaluation, size=256, cache_dir=args.work / "cache",
                           workers=1).records
    shipped = _scores(weights_dir(), records)
    if args.step_times:
        return _step_times(records)
    print(f"site: {len(cases)} cases; evaluation on {len(records)}; shipped weights: "
          f"tumor Dice {shipped['tumor_dice']:.3f}, liver Dice {shipped['liver_dice']:.3f}",
          flush=True)
    for size in sizes:
        data = _subset(site, cases[:size], args.work / f"train-{size}")
        out = args.work / f"run-{size}{args.tag}"
        command = [sys.executable, "-m", "training", "fine-tune", str(data), str(out),
                   "--minutes", f"{args.minutes:g}", "--threads", str(args.threads),
                   "--read-workers", "1", "--cache-dir", str(args.work / "cache"),
                   *args.extra.split()]
        started = time.monotonic()
        log = (args.work / f"run-{size}{args.tag}.log").open("w")
        code = subprocess.run(command, cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT,
                              check=False).returncode
        minutes = (time.monotonic() - started) / 60.0
        if code != 0:
            print(f"N={size}: fine-tune exited {code}, see {log.name}", flush=True)
            continue
        tuned = _scores(out / "weights", records)
        tuning = load_weights(out / "weights").manifest.provenance.fine_tuning
        row = {"n": size, "minutes": round(minutes, 2), "extra": args.extra,
               "stop_reason": tuning["stop_reason"], "steps": tuning["steps"],
               "site_validation": tuning["site_validation"], "evaluation_cases": len(records),
               "shipped": shipped, "fine_tuned": tuned}
        with (args.work / "results.jsonl").open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(f"N={size:2d} {minutes:5.1f} min {tuning['stop_reason']:14s} steps "
              f"{tuning['steps']:4d}  tumor Dice {shipped['tumor_dice']:.3f} -> "
              f"{tuned['tumor_dice']:.3f}  liver Dice {shipped['liver_dice']:.3f} -> "
              f"{tuned['liver_dice']:.3f}  {args.extra}", flush=True)
    return 0


def _site_options(family: str | None) -> SynthOptions:
    """SITE, or the broad mix with every case in ``family`` (FAMILY=VALUE), 512 px AVI."""
    if family is None:
        return SITE
    name, _, value = family.partition("=")
    return broad_options(families=((name, value),), sizes=(((512, 512), 1.0),),
                         formats=(("avi", 1.0),))


def _step_times(records: list, rounds: int = 3, steps: int = 3) -> int:
    import copy

    import numpy as np
    import torch
    from torch.utils.data import DataLoader

    from dsaviewer.models import ltdnet_loss
    from training.device import RuntimeOptions, autocast, configure_threads
    from training.fine_tune import TRAINABLE
    from training.run_setup import batch_preparer
    from training.torch_data import SegmentationDataset
    from training.train_segmentation import select_trainable

    configure_threads(1)
    base = load_weights(weights_dir())
    device = torch.device("cpu")
    bf16 = RuntimeOptions().use_bf16(device)
    dataset = SegmentationDataset(records[:8], base.segmentation_config, key_frames_only=True)
    batch = batch_preparer(device, True)(next(iter(DataLoader(dataset, batch_size=8))))
    models = {}
    for name, prefixes in TRAINABLE.items():
        model = copy.deepcopy(base.segmentation).to(memory_format=torch.channels_last).train()
        learning = select_trainable(model, prefixes)
        models[name] = (model, torch.optim.Adam(learning, lr=1e-4), sum(
            p.numel() for p in learning))
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, (model, optimizer, _) in models.items():
            for _ in range(steps):
                tick = time.perf_counter()
                with autocast(device, bf16):
                    losses = ltdnet_loss(model(batch["frames"]), batch,
                                         base.segmentation_config, 0.1, 1.0, 0.5)
                optimizer.zero_grad(set_to_none=True)
                losses.total.backward()
                optimizer.step()
                seconds[name].append(time.perf_counter() - tick)
    for name, (_, _, learning) in models.items():
        print(f"--trainable {name:12s} {learning:9d} parameters learn  "
              f"{np.median(seconds[name]):.2f} s/step (median of {len(seconds[name])})")
    return 0


def _subset(site: Path, cases: list[str], folder: Path) -> Path:
    """A dataset folder of links to ``cases`` of ``site`` with their clinical.csv rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for case in cases:
        link = folder / case
        if not link.exists():
            link.symlink_to(site / case, target_is_directory=True)
    with (site / "clinical.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["case_id"] in set(cases)]
    with (folder / "clinical.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def _scores(weights: Path, records: list) -> dict[str, float]:
    loaded = load_weights(weights)
    trained = TrainedSegmentation(loaded.segmentation, loaded.segmentation_config, {}, weights)
    result = evaluate_segmentation(records, predict_key_frames(trained, records),
                                   postprocess=True, n_resamples=200)
    return {"tumor_dice": result.row("dice").interval.estimate,
            "liver_dice": result.row("liver_dice").interval.estimate}


if __name__ == "__main__":
    sys.exit(main())
