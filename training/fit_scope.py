"""Fit the scope classifier: a small network (``dsaviewer/models/scope_net.py``) on the maps
of ``dsaviewer/core/scope_input.py``, generated liver runs (in scope) against generated
non-liver angiography and non-angiographic runs (out of scope).

python -m training synth data/train --n 300 --seed 1
python -m training synth data/broad_train --mix broad --n 600 --seed 11
python -m training synth-negatives data/scope-negatives --n 100 --seed 5
python -m training fit-scope --liver data/train data/broad_train \
    --negatives data/scope-negatives --out resources/scope

A share of the runs (--validation-share, drawn per kind) is kept back and the share of each
kind (and liver family) below the threshold is reported on it. The threshold is 0.5 unless
--threshold says otherwise: the two classes weigh equally in the fit, so at 0.5 a run is as
likely a liver run as not (the score is calibrated: docs/evaluation.md). Writes OUT/scope.onnx
and OUT/manifest.json (checksum, input, threshold, data, validation rates). Check the result on
other data with ``python -m training evaluate-scope --scope OUT``. --hold-out and
--hold-out-kind leave liver families or negative kinds out of the fit, to measure how the
classifier does on what it has never seen.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from dsaviewer.core.scope_input import SCOPE_CHANNELS, SCOPE_INPUT_SIZE
from dsaviewer.inference.manifest import sha256_of
from dsaviewer.inference.scope_score import SCOPE_FORMAT, SCOPE_FORMAT_VERSION, SCOPE_MANIFEST
from dsaviewer.io.writers import replace_atomically
from training.export_onnx import OPSET, legacy_exporter_notices_silenced
from training.families import parse_held_out
from training.scope_inputs import ScopeInputs, collect_inputs

DEFAULT_CACHE = Path("runs/scope-cache")
ONNX_FILE = "scope.onnx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_data_arguments(parser, "generated liver dataset folder(s)", "synth-negatives folder(s)")
    parser.add_argument("--out", type=Path, required=True,
                        help="folder to write scope.onnx and manifest.json into (the program "
                        "reads resources/scope)")
    parser.add_argument("--hold-out", action="append", default=[], metavar="FAMILY=VALUE",
                        help="leave liver runs of this family value out (repeatable)")
    parser.add_argument("--hold-out-kind", action="append", default=[], metavar="KIND",
                        help="leave negatives of this kind out (repeatable)")
    parser.add_argument("--validation-share", type=float, default=0.15,
                        help="share of each kind kept back to report on (default 0.15)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="scores below it are out of scope (default 0.5)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs (default 30)")
    parser.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (2e-3)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")


def add_data_arguments(parser: argparse.ArgumentParser, liver_help: str,
                       negatives_help: str) -> None:
    """The runs fit-scope and evaluate-scope read: liver and negative folders, and the cache
    of what the classifier reads of them."""
    parser.add_argument("--liver", type=Path, nargs="+", required=True, help=liver_help)
    parser.add_argument("--negatives", type=Path, nargs="+", required=True, help=negatives_help)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where the runs' inputs are cached (default {DEFAULT_CACHE})")


def run(args: argparse.Namespace) -> int:
    import torch

    from training.scope_training import predict_scores, train_scope_net

    torch.set_num_threads(args.threads)
    held = {f"{family}={value}" for family, value in parse_held_out(args.hold_out).items()}
    start = time.perf_counter()
    data = collect_inputs(args.liver, args.negatives, args.cache)
    fitted = data.select(~_held_out(data, held, set(args.hold_out_kind)))
    if fitted.is_liver.all() or not fitted.is_liver.any():
        print("fit-scope: need both liver runs and negatives", file=sys.stderr)
        return 2
    validation = _validation_rows(fitted, args.validation_share, args.seed)
    print(f"fit-scope: {len(fitted.kinds)} runs ({int(fitted.is_liver.sum())} liver), "
          f"{int(validation.sum())} kept back to report on; "
          f"{len(data.kinds) - len(fitted.kinds)} held out")
    net = train_scope_net(fitted.maps[~validation], fitted.is_liver[~validation],
                          epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                          seed=args.seed, log=print)
    scores = predict_scores(net, fitted.maps[validation])
    kept = fitted.select(validation)
    threshold = args.threshold
    rates = {}
    for name, rows in kept.groups().items():
        rates[name] = {"n": int(rows.sum()), "flagged": round(float((scores[rows] < threshold)
                                                                    .mean()), 4)}
        print(f"{name:40s} n={rows.sum():4d} flagged {100 * rates[name]['flagged']:5.1f} % "
              "(validation)")
    out = write_scope_folder(args.out, net, threshold, {
        "command": "python -m training fit-scope " + shlex.join(sys.argv[2:]),
        "liver": [str(path) for path in args.liver],
        "negatives": [str(path) for path in args.negatives],
        "held_out_families": sorted(held),
        "held_out_kinds": sorted(args.hold_out_kind),
        "runs": {"fitted": int((~validation).sum()), "validation": int(validation.sum()),
                 "liver": int(fitted.is_liver.sum()), "refused": len(data.refused)},
        "seed": args.seed,
        "validation": rates,
        "minutes": round((time.perf_counter() - start) / 60, 1),
    })
    print(f"threshold {threshold:.3f}; wrote {out}")
    return 0


def write_scope_folder(out: Path, net: object, threshold: float, provenance: dict) -> Path:
    """Export ``net`` to ``out/scope.onnx`` and write ``out/manifest.json``; return it."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    path = out / ONNX_FILE
    example = torch.zeros(1, len(SCOPE_CHANNELS), SCOPE_INPUT_SIZE, SCOPE_INPUT_SIZE)
    net.eval()  # type: ignore[attr-defined]
    with replace_atomically(path) as temporary, legacy_exporter_notices_silenced():
        torch.onnx.export(net, (example,), str(temporary), input_names=["maps"],
                          output_names=["logit"], dynamic_axes={"maps": {0: "batch"},
                                                                "logit": {0: "batch"}},
                          opset_version=OPSET, dynamo=False)
    manifest = {
        "format": SCOPE_FORMAT,
        "format_version": SCOPE_FORMAT_VERSION,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": {"file": ONNX_FILE, "sha256": sha256_of(path), "opset": OPSET,
                  "input": {"channels": list(SCOPE_CHANNELS), "size": SCOPE_INPUT_SIZE},
                  "config": dict(vars(net.config))},  # type: ignore[attr-defined]
        "threshold": threshold,
        "provenance": provenance,
    }
    with replace_atomically(out / SCOPE_MANIFEST) as temporary:
        Path(temporary).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return out / SCOPE_MANIFEST


def _held_out(data: ScopeInputs, families: set[str], kinds: set[str]) -> np.ndarray:
    by_family = np.array([bool(families & set(text.split(";")))
                          for text in data.families.tolist()], dtype=bool)
    return (data.is_liver & by_family) | np.isin(data.kinds, sorted(kinds))


def _validation_rows(data: ScopeInputs, share: float, seed: int) -> np.ndarray:
    """A ``share`` of each kind's runs, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    chosen = np.zeros(len(data.kinds), dtype=bool)
    for kind in sorted(set(data.kinds.tolist())):
        rows = np.flatnonzero(data.kinds == kind)
        chosen[rng.choice(rows, size=max(1, round(share * len(rows))), replace=False)] = True
    return chosen
