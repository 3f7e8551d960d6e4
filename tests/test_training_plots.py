"""The evaluation figures (matplotlib): ROC bands that hold the curve, Wilson intervals,
legends inside the image, and the figures redrawn from saved results."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from dsaviewer.core.metrics_classification import roc_curve
from training.__main__ import main
from training.plots import (
    COLOURS,
    draw_ablation,
    draw_roc,
    draw_training_curves,
    roc_band,
    wilson_interval,
)

RNG = np.random.default_rng(5)
LABELS = RNG.integers(0, 2, 200)
PROBABILITIES = np.clip(0.3 * LABELS + 0.7 * RNG.random(200), 0, 1)


def bgr(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (5, 3, 1)])


def test_roc_band_holds_the_curve_and_narrows_with_more_cases():
    band = roc_band(LABELS, PROBABILITIES, n_resamples=300)
    curve = roc_curve(LABELS, PROBABILITIES)
    middle = np.interp(band.fpr, curve.fpr, curve.tpr)
    inside = (band.low <= middle + 1e-9) & (middle <= band.high + 1e-9)
    assert inside.mean() > 0.95
    big = np.tile(LABELS, 8), np.tile(PROBABILITIES, 8)
    wide = np.mean(band.high - band.low)
    assert np.mean((lambda b: b.high - b.low)(roc_band(*big, n_resamples=300))) < wide / 2


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson_interval(np.array([0.5]), np.array([20]))
    assert low[0] == pytest.approx(0.2993, abs=1e-3) and high[0] == pytest.approx(0.7007, abs=1e-3)


def test_the_roc_legend_is_inside_the_image(tmp_path):
    models = enumerate((PROBABILITIES, 1 - PROBABILITIES))
    curves = [(f"a long model name {n}", roc_curve(LABELS, p), 0.7) for n, p in models]
    path = draw_roc(tmp_path / "roc.png", curves, 0.81,
                    [roc_band(LABELS, PROBABILITIES, n_resamples=50), None])
    image = cv2.imread(str(path))
    # Nothing drawn touches the image's edges: the tight bounding box kept the legend in.
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    assert (edges > 250).all()
    shade = np.abs(image.astype(int) - bgr(COLOURS[0])).max(axis=2) < 40
    assert shade.sum() > 200


def test_training_curves_and_ablation_figures(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / e, "train_dice": 0.5 / e, "val_dice": 0.5 + e / 40}
               for e in range(1, 11)]
    assert cv2.imread(str(draw_training_curves(tmp_path / "t.png", history))) is not None
    rows = [{"name": "kf_only", "paper_dice": 70.75,
             "test": {"dice": {"estimate": 0.85, "low": 0.82, "high": 0.88}}},
            {"name": "full", "paper_dice": 73.68, "test": None}]
    assert cv2.imread(str(draw_ablation(tmp_path / "a.png", rows))) is not None


def test_figures_are_redrawn_from_saved_results(tmp_path, capsys):
    saved = tmp_path / "response.json"
    saved.write_text(json.dumps({"labels": LABELS.tolist(),
                                 "probabilities": {"model": PROBABILITIES.tolist()},
                                 "true_probabilities": None}))
    ablation = Path(__file__).resolve().parent.parent / "docs" / "evaluation" / "ablation.json"
    status = main(["plots", "--out", str(tmp_path / "figures"), "--response", str(saved),
                   "--ablation", str(ablation), "--resamples", "50"])
    assert status == 0
    names = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert names == ["ablation.png", "calibration.png", "roc.png"]
    assert main(["plots", "--out", str(tmp_path)]) == 2
