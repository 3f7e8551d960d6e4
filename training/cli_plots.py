"""Redraw the evaluation figures from saved results, without re-running any model.

``--response OUT/response.json`` (from evaluate-response) gives roc.png with bootstrap bands
and calibration.png; ``--ablation ablation.json`` gives ablation.png; ``--checkpoint RUN.pt``
gives training.png from the history stored in a training checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dsaviewer.core.metrics_classification import calibration_bins, roc_auc, roc_curve
from dsaviewer.errors import InputError
from training.plots import (
    draw_ablation,
    draw_calibration,
    draw_roc,
    draw_training_curves,
    roc_band,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder the PNG figures are written to")
    parser.add_argument("--response", type=Path, metavar="JSON",
                        help="response.json written by evaluate-response")
    parser.add_argument("--ablation", type=Path, metavar="JSON",
                        help="ablation.json written by the ablation command")
    parser.add_argument("--checkpoint", type=Path, metavar="PT",
                        help="a training checkpoint whose history is drawn")
    parser.add_argument("--resamples", type=int, default=1000,
                        help="bootstrap resamples of the ROC bands (default 1000)")


def run(args: argparse.Namespace) -> int:
    if not (args.response or args.ablation or args.checkpoint):
        print("plots: give --response, --ablation and/or --checkpoint", file=sys.stderr)
        return 2
    try:
        written = []
        if args.response:
            written += response_figures(_json(args.response), args.out, args.resamples)
        if args.ablation:
            rows = _json(args.ablation).get("rows") or []
            written.append(draw_ablation(args.out / "ablation.png", rows))
        if args.checkpoint:
            written.append(draw_training_curves(args.out / "training.png",
                                                _history(args.checkpoint),
                                                args.checkpoint.parent.name))
    except InputError as error:
        print(f"plots: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def response_figures(saved: dict, out: Path, resamples: int = 1000) -> list[Path]:
    """roc.png and calibration.png from the labels and probabilities of a response.json."""
    try:
        labels = np.asarray(saved["labels"], dtype=int)
        models = {str(name): np.asarray(values, dtype=np.float64)
                  for name, values in saved["probabilities"].items()}
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(f"not an evaluate-response result: {error!r}", "response.json") from error
    truth = saved.get("true_probabilities")
    bayes = None if truth is None else roc_auc(labels, np.asarray(truth, dtype=np.float64))
    curves = [(name, roc_curve(labels, p), roc_auc(labels, p)) for name, p in models.items()]
    bands = [roc_band(labels, p, n_resamples=resamples) for p in models.values()]
    return [
        draw_roc(out / "roc.png", curves, bayes, bands),
        draw_calibration(out / "calibration.png",
                         [(name, calibration_bins(labels, p)) for name, p in models.items()]),
    ]


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read: {error}", path) from error
    if not isinstance(value, dict):
        raise InputError("holds no JSON object", path)
    return value


def _history(path: Path) -> list[dict]:
    import torch

    try:
        stored = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as error:
        raise InputError(f"cannot read the checkpoint: {error}", path) from error
    history = stored.get("history") if isinstance(stored, dict) else None
    if not history:
        raise InputError("the checkpoint stores no training history", path)
    return list(history)
