"""Lesion-level and patient-level detection metrics on constructed masks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsaviewer.core.metrics_detection import (
    GroundTruthLesion,
    LesionDetection,
    lesion_detection,
    patient_level_confusion,
    pool_lesion_detections,
    sensitivity_by_size,
)
from dsaviewer.errors import InputError


def boxes(shape, *rects) -> np.ndarray:
    """Mask with the given (row0, col0, row1, col1) rectangles (ends exclusive) set."""
    mask = np.zeros(shape, dtype=bool)
    for row0, col0, row1, col1 in rects:
        mask[row0:row1, col0:col1] = True
    return mask


# Three ground-truth lesions of 10x10 pixels.
GT = boxes((60, 60), (5, 5, 15, 15), (5, 30, 15, 40), (40, 5, 50, 15))


def test_hit_miss_and_spurious_components_are_counted():
    pred = boxes(
        (60, 60),
        (14, 14, 18, 18),  # touches lesion 1 in one pixel (14, 14): IoU 1/115
        (5, 31, 15, 41),  # covers most of lesion 2
        (30, 50, 33, 53),  # spurious
        (55, 30, 57, 32),  # spurious
    )  # lesion 3 is missed
    result = lesion_detection(pred, GT)
    counts = (result.n_gt, result.n_detected, result.n_predicted, result.n_false_positive)
    assert counts == (3, 2, 4, 2)
    # Lesions in label order (row-major scan): 1 and 2 are hit, 3 is missed.
    assert result.lesions == (GroundTruthLesion(100, True), GroundTruthLesion(100, True),
                              GroundTruthLesion(100, False))
    assert result.sensitivity == pytest.approx(2 / 3)
    assert result.false_positive_ratio == pytest.approx(2 / 4)


def test_iou_rule_turns_a_touching_component_into_a_miss_and_a_false_positive():
    pred = boxes((60, 60), (14, 14, 18, 18), (5, 31, 15, 41))
    result = lesion_detection(pred, GT, min_iou=0.1)
    assert (result.n_detected, result.n_false_positive) == (1, 1)


def test_one_component_spanning_two_lesions_detects_both():
    pred = boxes((60, 60), (8, 8, 12, 35))
    result = lesion_detection(pred, GT)
    assert (result.n_detected, result.n_predicted, result.n_false_positive) == (2, 1, 0)


def test_lesions_touching_at_a_corner_are_one_lesion():
    gt = boxes((20, 20), (2, 2, 6, 6), (6, 6, 10, 10))
    assert lesion_detection(gt, gt).n_gt == 1


def test_undefined_rates_are_nan_and_empty_prediction_detects_nothing():
    empty = np.zeros((60, 60), dtype=bool)
    nothing = lesion_detection(empty, empty)
    assert math.isnan(nothing.sensitivity) and math.isnan(nothing.false_positive_ratio)
    missed = lesion_detection(empty, GT)
    assert missed.sensitivity == 0.0 and math.isnan(missed.false_positive_ratio)
    spurious = lesion_detection(GT, empty)
    assert spurious.false_positive_ratio == 1.0 and math.isnan(spurious.sensitivity)


def test_lesions_are_listed_when_nothing_is_predicted():
    small_and_large = boxes((60, 60), (2, 2, 4, 4), (20, 20, 40, 40))
    missed = lesion_detection(np.zeros((60, 60), dtype=bool), small_and_large)
    assert missed.lesions == (GroundTruthLesion(4, False), GroundTruthLesion(400, False))


def test_sensitivity_by_size_splits_lesions_by_equivalent_diameter():
    # Discs of equal area: 4 px -> d 2.26, 50 px -> 7.98, 51 px -> 8.06, 400 px -> 22.6.
    lesions = [GroundTruthLesion(4, False), GroundTruthLesion(50, True),
               GroundTruthLesion(51, False), GroundTruthLesion(400, True),
               GroundTruthLesion(400, True)]
    small, middle, large = sensitivity_by_size(lesions, [8.0, 16.0])
    assert (small.n_gt, small.n_detected) == (2, 1)
    assert (middle.n_gt, middle.n_detected) == (1, 0)
    assert (large.n_gt, large.n_detected) == (2, 2)
    assert math.isnan(sensitivity_by_size([], [8.0])[0].sensitivity)


@pytest.mark.parametrize("edges", [[8.0, 8.0], [16.0, 8.0], [0.0, 8.0]])
def test_sensitivity_by_size_refuses_edges_that_are_not_increasing(edges):
    with pytest.raises(InputError, match="lesion size classes"):
        sensitivity_by_size([], edges)


def test_pooling_counts_over_all_lesions():
    a = LesionDetection(n_gt=3, n_detected=2, n_predicted=4, n_false_positive=2)
    b = LesionDetection(n_gt=1, n_detected=1, n_predicted=1, n_false_positive=0)
    pooled = pool_lesion_detections([a, b])
    assert pooled.sensitivity == pytest.approx(3 / 4)  # not the mean of 2/3 and 1
    assert pooled.false_positive_ratio == pytest.approx(2 / 5)


def test_patient_level_confusion_from_tumour_presence():
    shape = (20, 20)
    tumour = boxes(shape, (2, 2, 6, 6))
    tiny = boxes(shape, (10, 10, 11, 13))  # 3 pixels
    none = np.zeros(shape, dtype=bool)
    # (prediction, ground truth): 3 TP, 1 FN, 2 FP (one of them tiny), 4 TN.
    cases = [(tumour, tumour)] * 3 + [(none, tumour)] + [(tumour, none), (tiny, none)]
    cases += [(none, none)] * 4
    confusion = patient_level_confusion([p for p, _ in cases], [g for _, g in cases])
    assert (confusion.tp, confusion.fn, confusion.fp, confusion.tn) == (3, 1, 2, 4)
    assert confusion.sensitivity == pytest.approx(3 / 4)
    assert confusion.specificity == pytest.approx(4 / 6)
    assert confusion.ppv == pytest.approx(3 / 5)
    assert confusion.npv == pytest.approx(4 / 5)
    # A 5-pixel minimum turns the tiny false positive into a true negative.
    strict = patient_level_confusion([p for p, _ in cases], [g for _, g in cases], min_area_px=5)
    assert (strict.fp, strict.tn) == (1, 5)


def test_patient_level_rates_are_nan_without_positive_cases():
    none = np.zeros((5, 5), dtype=bool)
    confusion = patient_level_confusion([none, none], [none, none])
    assert confusion.specificity == 1.0
    assert math.isnan(confusion.sensitivity) and math.isnan(confusion.ppv)


def test_mismatched_case_counts_are_refused():
    none = np.zeros((5, 5), dtype=bool)
    with pytest.raises(InputError, match="predicted masks"):
        patient_level_confusion([none], [none, none])
