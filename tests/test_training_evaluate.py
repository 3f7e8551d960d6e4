"""Evaluation numbers on constructed predictions, against values worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from dsaviewer.core.metrics_classification import calibration_bins, roc_curve
from dsaviewer.core.metrics_segmentation import hd95
from training.dataset import CaseRecord, LabelledFrame
from training.evaluate_response import compare_models, evaluate_response, response_markdown
from training.evaluate_segmentation import evaluate_segmentation, segmentation_markdown
from training.plots import COLOURS, draw_calibration, draw_roc
from training.seg_predictions import KeyFramePrediction

S = 64


def box(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((S, S), bool)
    mask[rows, cols] = True
    return mask


LIVER = box(slice(5, 50), slice(5, 50))


def case(case_id: str, tumor: np.ndarray) -> CaseRecord:
    return CaseRecord(case_id, np.zeros((12, S, S), np.uint8), 11,
                      (LabelledFrame(11, tumor, LIVER),), np.zeros(13, np.float32),
                      np.zeros(13, np.float32), 1)


def prediction(tumor: np.ndarray) -> KeyFramePrediction:
    return KeyFramePrediction(np.where(tumor, 0.9, 0.1).astype(np.float32),
                              np.where(LIVER, 0.8, 0.2).astype(np.float32))


@pytest.fixture(scope="module")
def evaluations() -> tuple:
    # A: two true lesions; one found shifted by 2 px, plus a 4x4 false positive off the liver.
    truth_a = box(slice(10, 20), slice(10, 20)) | box(slice(35, 45), slice(35, 45))
    pred_a = box(slice(10, 20), slice(12, 22)) | box(slice(55, 59), slice(55, 59))
    # B: no tumor and none predicted.  C: a tumor, nothing predicted.
    truth_c = box(slice(20, 30), slice(20, 30))
    records = [case("a", truth_a), case("b", np.zeros((S, S), bool)), case("c", truth_c)]
    predictions = {"a": prediction(pred_a), "b": prediction(np.zeros((S, S), bool)),
                   "c": prediction(np.zeros((S, S), bool))}
    raw = evaluate_segmentation(records, predictions, postprocess=False, n_resamples=200)
    post = evaluate_segmentation(records, predictions, postprocess=True, n_resamples=200)
    return raw, post, truth_a, pred_a


def estimate(evaluation, key: str) -> float:
    return evaluation.row(key).interval.estimate


def test_table_2_rows_match_hand_computed_values(evaluations: tuple) -> None:
    raw, _, truth_a, pred_a = evaluations
    # Case a: 80 overlapping pixels, 116 predicted, 200 true, 4096 in all.
    assert estimate(raw, "dice") == pytest.approx((160 / 316 + 1.0 + 0.0) / 3)
    # Had the missed lesions been found: a's second lesion (100 px) and c's whole tumor move
    # from false negatives to true positives (a: tp 180, fp 36, fn 20; c: perfect).
    assert estimate(raw, "dice_missed_found") == pytest.approx((360 / 416 + 1.0 + 1.0) / 3)
    assert estimate(raw, "accuracy") == pytest.approx(
        ((4096 - 36 - 120) / 4096 + 1.0 + (4096 - 100) / 4096) / 3)
    # Per-patient pixel sensitivity: undefined for b (no tumor), 0 for c.
    assert estimate(raw, "patient_sensitivity") == pytest.approx((80 / 200 + 0.0) / 2)
    assert raw.row("patient_sensitivity").n_used == 2
    assert estimate(raw, "patient_ppv") == pytest.approx(80 / 116)  # only a predicts tumor
    assert estimate(raw, "patient_specificity") == pytest.approx(
        ((4096 - 200 - 36) / (4096 - 200) + 1.0 + 1.0) / 3)
    # Lesions pooled: 3 true (2 + 0 + 1), 1 found; 2 predicted, 1 false.
    assert estimate(raw, "lesion_sensitivity") == pytest.approx(1 / 3)
    assert estimate(raw, "false_positive_ratio") == pytest.approx(1 / 2)
    # Presence per patient: truth [1, 0, 1], predicted [1, 0, 0].
    assert estimate(raw, "presence_sensitivity") == pytest.approx(1 / 2)
    assert estimate(raw, "presence_specificity") == pytest.approx(1.0)
    assert estimate(raw, "presence_ppv") == pytest.approx(1.0)
    assert estimate(raw, "presence_npv") == pytest.approx(1 / 2)
    # Distances: only case a has both masks (b is undefined, c infinite).
    assert estimate(raw, "hd95") == pytest.approx(hd95(pred_a, truth_a))
    assert raw.row("hd95").n_used == 1 and "2 case(s)" in raw.row("hd95").note
    assert estimate(raw, "liver_dice") == pytest.approx(1.0)
    interval = raw.row("dice").interval
    assert interval.low <= interval.estimate <= interval.high


def test_post_processing_removes_the_lesion_off_the_liver(evaluations: tuple) -> None:
    _, post, _, _ = evaluations
    assert estimate(post, "dice") == pytest.approx((160 / 300 + 1.0 + 0.0) / 3)
    assert estimate(post, "false_positive_ratio") == pytest.approx(0.0)
    assert estimate(post, "lesion_sensitivity") == pytest.approx(1 / 3)


def test_segmentation_report_has_both_columns(evaluations: tuple) -> None:
    raw, post, _, _ = evaluations
    text = segmentation_markdown([raw, post], "Segmentation")
    assert "| Metric (95 % CI) | raw | post-processed | note |" in text
    assert "| Lesion-level sensitivity | 33.3 % (" in text
    document = raw.to_dict()
    assert document["metrics"]["dice"]["estimate"] == estimate(raw, "dice")
    assert [c["case_id"] for c in document["cases"]] == ["a", "b", "c"]


def test_lesion_sensitivity_is_read_by_lesion_size(evaluations: tuple) -> None:
    raw, post, _, _ = evaluations
    # The fixture's three lesions are 10x10 (disc diameter 11.3 px): one class, 1 of 3 found.
    assert [row.key for row in raw.by_size] == ["diameter 8-16 px"]
    assert raw.by_size[0].interval.estimate == pytest.approx(1 / 3)
    assert raw.by_size[0].note == "1 of 3 lesions"
    # A 2x2 nodule (d 2.3 px) missed beside a 20x20 mass (d 22.6 px) found.
    nodule, mass = box(slice(8, 10), slice(8, 10)), box(slice(25, 45), slice(25, 45))
    found = evaluate_segmentation([case("d", nodule | mass)], {"d": prediction(mass)},
                                  postprocess=False, n_resamples=50)
    rows = {row.key: (row.interval.estimate, row.note) for row in found.by_size}
    assert rows == {"diameter < 8 px": (0.0, "0 of 1 lesions"),
                    "diameter 16-32 px": (1.0, "1 of 1 lesions")}
    text = segmentation_markdown([raw, post], "Segmentation")
    assert "| Lesion-level sensitivity, diameter 8-16 px | 33.3 % (" in text
    document = found.to_dict()
    assert document["lesion_sensitivity_by_size"]["diameter < 8 px"]["estimate"] == 0.0
    assert document["cases"][0]["lesions"]["ground_truth"] == [[4, False], [400, True]]


LABELS = np.array([1, 1, 0, 0, 1, 0])
PROBABILITIES = np.array([0.9, 0.4, 0.35, 0.1, 0.8, 0.6])
TRUE_PROBABILITIES = np.array([0.7, 0.6, 0.5, 0.2, 0.9, 0.3])


def test_response_metrics_match_hand_computed_values() -> None:
    result = evaluate_response("model", LABELS, PROBABILITIES, 0.5, TRUE_PROBABILITIES,
                               n_resamples=200)
    # 8 of the 9 (responder, non-responder) pairs are ordered right: 0.4 < 0.6.
    assert result.metrics["auc"].estimate == pytest.approx(8 / 9)
    # At 0.5: TP 2 (0.9, 0.8), FP 1 (0.6), TN 2, FN 1 (0.4).
    for rate in ("sensitivity", "specificity", "ppv", "npv"):
        assert result.metrics[rate].estimate == pytest.approx(2 / 3)
    assert result.metrics["accuracy"].estimate == pytest.approx(4 / 6)
    assert result.metrics["bayes_auc"].estimate == pytest.approx(1.0)
    assert (result.n_cases, result.n_responders) == (6, 3)
    low, high = result.metrics["auc"].low, result.metrics["auc"].high
    assert 0.0 <= low <= 8 / 9 <= high <= 1.0
    assert math.isfinite(result.to_dict()["expected_calibration_error"])
    # One case a bin either way: the mean |true - predicted| and the true probabilities'
    # own |outcome - true| (0.3 + 0.4 + 0.5 + 0.2 + 0.1 + 0.3).
    assert result.calibration_error_to_truth == pytest.approx(1.05 / 6)
    assert result.ece_of_truth == pytest.approx(1.8 / 6)
    text = response_markdown([result])
    assert "| Calibration error against the true probabilities | 0.175 |" in text
    assert evaluate_response("m", LABELS, PROBABILITIES, n_resamples=20).ece_of_truth is None


def test_delong_compares_two_models_on_the_same_cases() -> None:
    same = compare_models(LABELS, PROBABILITIES, PROBABILITIES)
    assert same.p_value == 1.0 and same.auc_a == pytest.approx(8 / 9)
    better = compare_models(LABELS, PROBABILITIES, TRUE_PROBABILITIES)
    assert better.auc_b == pytest.approx(1.0) and better.z < 0
    text = response_markdown([evaluate_response("m", LABELS, PROBABILITIES, n_resamples=50)],
                             [("m", "truth", better)])
    assert "| AUC | 88.9 % (" in text and "DeLong" in text


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    roc = draw_roc(tmp_path / "roc.png", [("m", roc_curve(LABELS, PROBABILITIES), 8 / 9)], 1.0)
    calibration = draw_calibration(tmp_path / "cal.png",
                                   [("m", calibration_bins(LABELS, PROBABILITIES))])
    model_colour = tuple(int(COLOURS[0][i:i + 2], 16) for i in (5, 3, 1))  # as BGR
    for path in (roc, calibration):
        image = cv2.imread(str(path))
        assert 500 <= image.shape[0] <= 800 and 500 <= image.shape[1] <= 800
        near = np.abs(image.astype(int) - model_colour).max(axis=2) < 30
        assert near.sum() > 100  # the model's curve is drawn
