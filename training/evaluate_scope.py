"""Check the scope decision and the confidence figures on data not used to fit them.

python -m training evaluate-scope --liver data/test data/broad_test \
    --negatives data/scope-negatives-test --out docs/evaluation

Prints, per kind and per liver family, the share of runs out of scope (scored below the
classifier's threshold, or refused; targets: >= 95 % of every non-liver kind, <= 5 % of liver
runs and of each liver family), the scope stage's time in the pipeline, and writes scope.json
and scope-reliability.png (reliability diagrams of the scope score, classes weighted equally as
in the fit, and of each lesion's mean tumor probability against whether it hits a true tumor,
the confidence behind Lambert et al.'s lesion uncertainty). --scope evaluates a classifier
folder that is not the bundled one (e.g. a held-out fit).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.fit_scope import add_data_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_data_arguments(parser, "labelled liver dataset folder(s) not used to fit",
                       "synth-negatives folder(s) not used to fit")
    parser.add_argument("--scope", type=Path,
                        help="scope classifier folder (default: the bundled resources/scope)")
    parser.add_argument("--weights", type=Path,
                        help="segmentation weights for the lesion confidence (default: the "
                        "bundled)")
    parser.add_argument("--out", type=Path, help="folder for scope.json and the diagram")
    parser.add_argument("--bins", type=int, default=10, help="reliability bins (default 10)")


def run(args: argparse.Namespace) -> int:
    from dsaviewer.inference.scope_score import ScopeClassifier
    from dsaviewer.resources import scope_dir
    from training.lesion_confidence_data import analysed_runs
    from training.scope_inputs import collect_inputs

    classifier = ScopeClassifier(args.scope or scope_dir())
    data = collect_inputs(args.liver, args.negatives, args.cache)
    # Through ONNX Runtime, one run at a time: exactly what the program computes.
    scores = np.array([classifier.score(maps) for maps in data.maps])
    cut = classifier.threshold
    report: dict = {"scope": str(classifier.folder), "threshold": cut, "kinds": {},
                    "families": {}}
    refused_kinds = [kind for _, kind, _ in data.refused]
    for name, rows in data.groups().items():
        refused = refused_kinds.count(name)
        flagged = int((scores[rows] < cut).sum()) + refused
        n = int(rows.sum()) + refused
        low, high = _wilson(flagged, n)
        entry = {"n": n, "flagged": flagged, "refused": refused, "rate": round(flagged / n, 4),
                 "ci95": [round(low, 4), round(high, 4)]}
        (report["families"] if "/" in name else report["kinds"])[name] = entry
        print(f"{name:40s} n={n:4d} out of scope {100 * flagged / n:5.1f} % "
              f"(95 % CI {100 * low:.1f}-{100 * high:.1f})")
    is_liver = data.is_liver.astype(float)
    balance = np.where(is_liver == 1, 0.5 / is_liver.mean(), 0.5 / (1 - is_liver.mean()))
    report["scope_reliability"] = reliability(scores, is_liver, args.bins, balance)

    runs = [run for run in analysed_runs(args.liver, args.weights, args.cache)
            if not run.refused]
    scope_ms = np.array([run.scope_ms for run in runs])
    report["scope_ms"] = {"median": round(float(np.median(scope_ms)), 2),
                          "p95": round(float(np.percentile(scope_ms, 95)), 2)}
    print(f"scope stage: median {np.median(scope_ms):.1f} ms, "
          f"95th percentile {np.percentile(scope_ms, 95):.1f} ms ({len(runs)} liver runs)")
    lesions = [lesion for run in runs for lesion in run.lesions]
    confidence = np.array([p for p, _ in lesions])
    hit = np.array([tp for _, tp in lesions], dtype=float)
    report["lesion_reliability"] = reliability(confidence, hit, args.bins)
    for name in ("scope_reliability", "lesion_reliability"):
        print(f"{name}: expected calibration error {report[name]['ece']:.3f} "
              f"(n = {report[name]['n']})")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scope.json").write_text(json.dumps(report, indent=2) + "\n")
        _plot(report, args.out / "scope-reliability.png")
        print(f"wrote {args.out / 'scope.json'} and {args.out / 'scope-reliability.png'}")
    return 0


def reliability(
    predicted: np.ndarray, observed: np.ndarray, bins: int, weight: np.ndarray | None = None
) -> dict:
    """Per equal-width bin of ``predicted``: its mean, the (weighted) observed frequency and
    the count; and the expected calibration error (weighted mean |gap|)."""
    weight = np.ones_like(predicted) if weight is None else weight
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(predicted, edges) - 1, 0, bins - 1)
    rows, error = [], 0.0
    for b in range(bins):
        chosen = which == b
        if not chosen.any():
            continue
        w = weight[chosen]
        mean_predicted = float(np.average(predicted[chosen], weights=w))
        frequency = float(np.average(observed[chosen], weights=w))
        error += w.sum() * abs(mean_predicted - frequency)
        rows.append({"bin": [round(edges[b], 2), round(edges[b + 1], 2)], "n": int(chosen.sum()),
                     "predicted": round(mean_predicted, 4), "observed": round(frequency, 4)})
    return {"bins": rows, "n": int(len(predicted)), "ece": round(error / weight.sum(), 4)}


def _wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    titles = {"scope_reliability": "Scope score (classes weighted equally)",
              "lesion_reliability": "Lesion mean tumor probability"}
    for axis, (name, title) in zip(axes, titles.items(), strict=True):
        rows = report[name]["bins"]
        axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        axis.plot([r["predicted"] for r in rows], [r["observed"] for r in rows], marker="o")
        for r in rows:
            axis.annotate(str(r["n"]), (r["predicted"], r["observed"]), fontsize=7,
                          textcoords="offset points", xytext=(3, -9))
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1)
        axis.set_title(f"{title}\nECE {report[name]['ece']:.3f}, n = {report[name]['n']}",
                       fontsize=9)
        axis.set_xlabel("predicted")
    axes[0].set_ylabel("observed: share of liver runs")
    axes[1].set_ylabel("observed: share hitting a true tumor")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
