"""Fit the scope score: a logistic regression on the scope features of generated liver runs
(in scope) against generated non-liver angiography and non-angiographic runs (out of scope).

python -m training synth data/scope-liver --n 200 --seed 901
python -m training synth-negatives data/scope-negatives --n 40 --seed 0
python -m training fit-scope --liver data/scope-liver --negatives data/scope-negatives

Writes dsaviewer/inference/scope_fit.py (the coefficients the program uses). The threshold
is the score below which at most --liver-flag-rate of the fitting liver runs fall; check it
on other data with ``python -m training evaluate-scope``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dsaviewer.inference.scope_score import FEATURES, logistic

FIT_MODULE = Path(__file__).resolve().parent.parent / "dsaviewer" / "inference" / "scope_fit.py"
DEFAULT_CACHE = Path("runs/scope-cache")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_run_arguments(parser, "generated liver dataset folder(s)", "synth-negatives folder(s)")
    parser.add_argument("--liver-flag-rate", type=float, default=0.02,
                        help="share of fitting liver runs allowed below the threshold "
                        "(default 0.02)")
    parser.add_argument("--l2", type=float, default=0.01, help="ridge penalty (default 0.01)")
    parser.add_argument("--out", type=Path, default=FIT_MODULE,
                        help="module to write (default: the program's scope_fit.py)")


def add_run_arguments(parser: argparse.ArgumentParser, liver_help: str,
                      negatives_help: str) -> None:
    """The runs fit-scope and evaluate-scope analyse (what
    :func:`training.scope_data.collect_runs` takes): the liver and the negative folders, the
    weights and the cache of analysed runs."""
    parser.add_argument("--liver", type=Path, nargs="+", required=True, help=liver_help)
    parser.add_argument("--negatives", type=Path, nargs="+", required=True, help=negatives_help)
    parser.add_argument("--weights", type=Path, help="weights folder (default: the bundled)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where analysed runs are cached (default {DEFAULT_CACHE})")


def run(args: argparse.Namespace) -> int:
    from training.scope_data import collect_runs, feature_matrix

    records = collect_runs(args.liver, args.negatives, args.weights, args.cache)
    features, labels, kinds = feature_matrix(records)
    if labels.all() or not labels.any():
        print("fit-scope: need both liver runs and negatives", file=sys.stderr)
        return 2
    mean, scale, coefficients, intercept = fit_logistic(features, labels, args.l2)
    scores = np.array([logistic(x, mean, scale, coefficients, intercept) for x in features])
    threshold = float(np.quantile(scores[labels == 1], args.liver_flag_rate))
    for kind in sorted(set(kinds)):
        chosen = np.array([k == kind for k in kinds])
        rate = float((scores[chosen] < threshold).mean())
        print(f"{kind:14s} n={int(chosen.sum()):4d} flagged {100 * rate:5.1f} % (fitting data)")
    weights = args.weights or "the bundled weights"
    write_fit_module(args.out, mean, scale, coefficients, intercept, threshold,
                     f"{len(labels)} runs ({int(labels.sum())} liver) analysed with {weights}")
    print(f"threshold {threshold:.3f}; wrote {args.out}")
    return 0


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, l2: float = 0.01, iterations: int = 50
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Standardised features, ridge-penalised logistic regression by Newton's method, the two
    classes weighted equally. Returns (mean, scale, coefficients, intercept)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    positives = labels.mean()
    sample_weight = np.where(labels == 1, 0.5 / positives, 0.5 / (1 - positives))
    penalty = l2 * len(features) * np.eye(z.shape[1])
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    beta = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50, 50)))
        gradient = z.T @ (sample_weight * (p - labels)) + penalty @ beta
        hessian = (z * (sample_weight * p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, beta[:-1], float(beta[-1])


def write_fit_module(
    path: Path,
    mean: np.ndarray,
    scale: np.ndarray,
    coefficients: np.ndarray,
    intercept: float,
    threshold: float,
    fitted_on: str,
) -> Path:
    def numbers(values: np.ndarray) -> str:
        return "(\n" + "".join(f"    {float(v)!r},\n" for v in values) + ")"

    text = (
        '"""The fitted scope score (written by ``python -m training fit-scope``; do not edit by '
        'hand)."""\n\n'
        "FEATURES = (\n" + "".join(f'    "{name}",\n' for name in FEATURES) + ")\n"
        f"MEAN = {numbers(mean)}\n"
        f"SCALE = {numbers(scale)}\n"
        f"COEFFICIENTS = {numbers(coefficients)}\n"
        f"INTERCEPT = {intercept!r}\n"
        f"THRESHOLD = {threshold!r}\n"
        f"FITTED_ON = {fitted_on!r}\n"
    )
    path.write_text(text, encoding="utf-8")
    return path
