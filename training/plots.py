"""The evaluation figures, drawn with matplotlib (Agg, no display): ROC curves with bootstrap
confidence bands, reliability diagrams with Wilson intervals per bin, training curves and the
ablation table's Dice with its confidence intervals.

matplotlib is a training/docs dependency (the ``training`` extra), never shipped in the
viewer. Figures are made on their own ``Figure`` objects (no pyplot state), so drawing is
thread-safe and leaves no windows behind; ``bbox_inches="tight"`` keeps every legend and
label inside the saved image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from dsaviewer.core.metrics_classification import CalibrationBins, RocCurve, roc_curve
from dsaviewer.io.writers import replace_atomically

# matplotlib's default qualitative palette ("tab10"), as hex strings.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
FIGURE_INCHES = (6.4, 6.4)
DPI = 100
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class RocBand:
    """A pointwise confidence band of an ROC curve: the sensitivity's ``level`` interval at
    each false-positive rate of ``fpr`` over bootstrap resamples of the cases."""

    fpr: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float


def roc_band(
    labels: np.ndarray,
    probabilities: np.ndarray,
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> RocBand:
    """Bootstrap the cases (stratified by class, so every resample has both) and take the
    percentile interval of the interpolated sensitivity at 101 false-positive rates."""
    labels = np.asarray(labels).astype(int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, 101)
    positives, negatives = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    curves = np.empty((n_resamples, grid.size))
    for row in range(n_resamples):
        cases = np.concatenate([rng.choice(positives, positives.size),
                                rng.choice(negatives, negatives.size)])
        curve = roc_curve(labels[cases], probabilities[cases])
        # The staircase's upper envelope at each rate: the sensitivity reached there.
        curves[row] = np.interp(grid, curve.fpr, curve.tpr)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(curves, [tail, 100 - tail], axis=0)
    return RocBand(grid, low, high, level)


def draw_roc(
    path: str | Path,
    curves: Sequence[tuple[str, RocCurve, float]],
    bayes_auc: float | None = None,
    bands: Sequence[RocBand | None] | None = None,
) -> Path:
    """ROC curves ``(name, curve, auc)`` as a PNG, each with its confidence band when given;
    the Bayes-optimal AUC noted if known."""
    figure, axes = _unit_axes("ROC curve", "1 − specificity (false-positive rate)",
                              "sensitivity")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="chance")
    for index, (name, curve, auc) in enumerate(curves):
        colour = COLOURS[index % len(COLOURS)]
        band = None if bands is None else bands[index]
        if band is not None:
            axes.fill_between(band.fpr, band.low, band.high, color=colour, alpha=0.18,
                              linewidth=0, label=f"{name}: {band.level:.0%} band")
        # One point per distinct score: straight segments draw the empirical staircase.
        axes.plot(curve.fpr, curve.tpr, color=colour, linewidth=2, label=f"{name}: AUC {auc:.3f}")
    if bayes_auc is not None:
        axes.plot([], [], " ", label=f"Bayes-optimal AUC {bayes_auc:.3f}")
    axes.legend(loc="lower right", fontsize=9, framealpha=0.9)
    return _save(figure, path)


def draw_calibration(path: str | Path, models: Sequence[tuple[str, CalibrationBins]]) -> Path:
    """Reliability diagram: observed responder rate against mean predicted probability per
    bin, each bin a dot whose area follows its number of cases, with its 95 % Wilson interval."""
    figure, axes = _unit_axes("Calibration", "mean predicted probability",
                              "observed responder rate")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1,
              label="perfect calibration")
    for index, (name, bins) in enumerate(models):
        colour = COLOURS[index % len(COLOURS)]
        used = bins.counts > 0
        ece = bins.expected_calibration_error if used.any() else float("nan")
        if not used.any():
            axes.plot([], [], color=colour, label=f"{name}: ECE {ece:.3f}")
            continue
        x, rate, count = bins.mean_predicted[used], bins.observed_rate[used], bins.counts[used]
        low, high = wilson_interval(rate, count)
        yerr = [np.maximum(rate - low, 0), np.maximum(high - rate, 0)]  # float rounding
        axes.errorbar(x, rate, yerr=yerr, color=colour, linewidth=1,
                      capsize=3, label=f"{name}: ECE {ece:.3f} (95 % Wilson intervals)")
        axes.scatter(x, rate, s=20 + 180 * count / count.max(), color=colour, zorder=3)
    axes.legend(loc="upper left", fontsize=9, framealpha=0.9)
    return _save(figure, path)


def wilson_interval(rate: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % Wilson score interval of a proportion ``rate`` observed over ``count``."""
    rate, count = np.asarray(rate, np.float64), np.asarray(count, np.float64)
    z2 = _Z95 ** 2
    centre = (rate + z2 / (2 * count)) / (1 + z2 / count)
    half = _Z95 * np.sqrt(rate * (1 - rate) / count + z2 / (4 * count ** 2)) / (1 + z2 / count)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def draw_training_curves(path: str | Path, history: Sequence[Mapping[str, Any]],
                         title: str = "Training") -> Path:
    """Losses (``train_*``, log scale) and validation metrics (``val_*``) per epoch, from a
    checkpoint's or ``log.jsonl``'s history entries."""
    figure = Figure(figsize=(9.6, 4.8), dpi=DPI)
    FigureCanvasAgg(figure)
    losses, metrics = figure.subplots(1, 2)
    epochs = np.array([float(entry.get("epoch", number + 1))
                       for number, entry in enumerate(history)])
    for axes, prefix, heading in ((losses, "train_", "training loss"),
                                  (metrics, "val_", "validation")):
        names = sorted({key for entry in history for key in entry if key.startswith(prefix)})
        for index, name in enumerate(names):
            values = np.array([_number(entry.get(name)) for entry in history])
            shown = np.isfinite(values)
            if shown.any():
                axes.plot(epochs[shown], values[shown], marker="o", markersize=3,
                          color=COLOURS[index % len(COLOURS)], label=name[len(prefix):])
        axes.set_title(heading)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        if names:
            axes.legend(fontsize=8, framealpha=0.9)
    if any(np.all(np.isfinite(line.get_ydata())) and min(line.get_ydata()) > 0
           for line in losses.get_lines()):
        losses.set_yscale("log")
    figure.suptitle(title)
    return _save(figure, path)


def draw_ablation(path: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Test-set tumour Dice of each ablation row with its bootstrap 95 % interval, and the
    paper's Dice for the same configuration where it reports one."""
    names = [str(row["name"]) for row in rows]
    figure = Figure(figsize=(7.2, 0.5 * len(rows) + 1.6), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    positions = np.arange(len(rows))[::-1]
    for position, row in zip(positions, rows, strict=True):
        dice = (row.get("test") or {}).get("dice")
        if dice is not None:
            estimate = float(dice["estimate"])
            axes.errorbar(estimate, position, xerr=[[estimate - float(dice["low"])],
                                                    [float(dice["high"]) - estimate]],
                          fmt="o", color=COLOURS[0], capsize=4)
        if row.get("paper_dice") is not None:
            axes.plot(float(row["paper_dice"]) / 100, position, marker="D", color=COLOURS[1],
                      linestyle="none")
    axes.plot([], [], "o", color=COLOURS[0], label="ours, test set (95 % bootstrap CI)")
    axes.plot([], [], "D", color=COLOURS[1], label="paper (DSA-LTDNet, real data)")
    axes.set_yticks(positions, names)
    axes.set_xlabel("tumour Dice")
    axes.set_title("Ablation")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=9)
    return _save(figure, path)


def _unit_axes(title: str, x_label: str, y_label: str):
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_aspect("equal")
    axes.set_xticks(np.linspace(0, 1, 6))
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.grid(alpha=0.3)
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    return figure, axes


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _save(figure: Figure, path: str | Path) -> Path:
    target = Path(path)
    with replace_atomically(target) as temporary:
        figure.savefig(temporary, format="png", bbox_inches="tight", dpi=DPI)
    return target
