"""Pixel overlap and surface-distance metrics against hand-computed values."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest

from dsaviewer.core.metrics_segmentation import (
    average_symmetric_surface_distance,
    dice,
    hausdorff_distance,
    hd95,
    iou,
    mean_of_finite,
    pixel_accuracy,
    rand_index,
    surface_distances,
    surface_mask,
)
from dsaviewer.errors import InputError


def square(shape=(40, 40), top=10, left=10, size=20) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    mask[top : top + size, left : left + size] = True
    return mask


def random_blobs(seed: int, shape=(64, 64), count=4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    canvas = np.zeros(shape, dtype=np.uint8)
    for _ in range(count):
        centre = (int(rng.integers(12, shape[1] - 12)), int(rng.integers(12, shape[0] - 12)))
        axes = (int(rng.integers(3, 10)), int(rng.integers(3, 10)))
        cv2.ellipse(canvas, centre, axes, float(rng.integers(0, 180)), 0, 360, 1, -1)
    return canvas.astype(bool)


def test_dice_iou_and_accuracy_of_half_overlapping_squares():
    a = square((20, 20), top=0, left=0, size=10)
    b = square((20, 20), top=0, left=5, size=10)  # shares 10x5 = 50 of 100 pixels
    assert dice(a, b) == pytest.approx(2 * 50 / 200)
    assert iou(a, b) == pytest.approx(50 / 150)
    assert pixel_accuracy(a, b) == pytest.approx(1 - 100 / 400)  # 50 + 50 disagree


def test_empty_masks_agree_perfectly_and_one_empty_scores_zero():
    empty = np.zeros((8, 8), dtype=bool)
    assert dice(empty, empty) == 1.0
    assert iou(empty, empty) == 1.0
    assert dice(square((8, 8), 2, 2, 3), empty) == 0.0
    assert iou(empty, square((8, 8), 2, 2, 3)) == 0.0


def test_uint8_masks_count_any_non_zero_as_foreground():
    a = square((20, 20), 0, 0, 10)
    assert dice(a.astype(np.uint8) * 255, a) == 1.0


def test_probability_maps_and_mismatched_shapes_are_refused():
    with pytest.raises(InputError, match="threshold"):
        dice(np.full((4, 4), 0.7), np.ones((4, 4), bool))
    with pytest.raises(InputError, match="does not match"):
        iou(np.ones((4, 4), bool), np.ones((4, 5), bool))


def test_rand_index_hand_example():
    # Pairs of 4 pixels: (0,1) together in both, (0,3) and (1,3) apart in both -> 3 of 6 agree.
    assert rand_index(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1])) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rand_index_equals_brute_force_pair_count(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, size=(8, 10))
    b = np.where(rng.random((8, 10)) < 0.7, a, rng.integers(0, 3, size=(8, 10)))
    flat_a, flat_b = a.ravel(), b.ravel()
    agree = sum(
        (flat_a[i] == flat_a[j]) == (flat_b[i] == flat_b[j])
        for i, j in itertools.combinations(range(flat_a.size), 2)
    )
    assert rand_index(a, b) == pytest.approx(agree / math.comb(flat_a.size, 2))


def test_rand_index_ignores_label_names():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    assert rand_index(labels, (labels + 1) % 3 + 7) == 1.0


def test_surface_of_a_square_is_its_ring_and_the_image_edge_counts_as_outside():
    assert surface_mask(square((9, 9), 2, 2, 5)).sum() == 16
    full = np.ones((5, 5), dtype=bool)
    assert surface_mask(full).sum() == 16  # 5x5 image, all foreground: the outer ring


def test_hausdorff_of_squares_shifted_by_3_4_5_triangle():
    a = square((50, 50), top=10, left=10, size=20)
    b = square((50, 50), top=14, left=13, size=20)
    # Only the far corners are 5 apart (sqrt(4² + 3²)); every other point is nearer.
    assert hausdorff_distance(a, b) == pytest.approx(5.0)
    # With 2 mm rows the corner gap becomes sqrt(8² + 3²), still the largest.
    assert hausdorff_distance(a, b, spacing_mm=(2.0, 1.0)) == pytest.approx(math.sqrt(73.0))


def test_line_shifted_along_itself_gives_known_hd95_and_assd():
    a = np.zeros((12, 30), dtype=bool)
    a[5, 0:20] = True
    b = np.roll(a, 3, axis=1)
    # Each direction: distances 3, 2, 1 at the free ends, 0 for the 17 shared pixels.
    assert hausdorff_distance(a, b) == pytest.approx(3.0)
    # 95th percentile of [0]*17 + [1, 2, 3] by linear interpolation: 2 + 0.05 * (3 - 2).
    assert hd95(a, b) == pytest.approx(2.05)
    assert average_symmetric_surface_distance(a, b) == pytest.approx((6 + 6) / 40)


def test_line_shifted_across_itself_scales_with_row_spacing():
    a = np.zeros((12, 30), dtype=bool)
    a[2, 5:25] = True
    b = np.roll(a, 4, axis=0)
    assert hd95(a, b) == pytest.approx(4.0)
    assert average_symmetric_surface_distance(a, b) == pytest.approx(4.0)
    assert hd95(a, b, spacing_mm=(2.0, 0.5)) == pytest.approx(8.0)
    assert average_symmetric_surface_distance(a, b, spacing_mm=(2.0, 0.5)) == pytest.approx(8.0)


def test_concentric_discs_are_their_radius_difference_apart():
    small = cv2.circle(np.zeros((80, 80), np.uint8), (40, 40), 15, 1, -1).astype(bool)
    large = cv2.circle(np.zeros((80, 80), np.uint8), (40, 40), 22, 1, -1).astype(bool)
    assert hausdorff_distance(small, large) == pytest.approx(7.0, abs=1.0)
    assert average_symmetric_surface_distance(small, large) == pytest.approx(7.0, abs=1.0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_anisotropic_path_agrees_with_the_distance_transform_path(seed):
    # A hair of anisotropy sends the call through the exact point-set search instead of
    # cv2.distanceTransform; both must give the same distances.
    a, b = random_blobs(seed), random_blobs(seed + 100)
    iso_forward, iso_backward = surface_distances(a, b)
    aniso_forward, aniso_backward = surface_distances(a, b, spacing_mm=(1.0, 1.0 + 1e-9))
    np.testing.assert_allclose(aniso_forward, iso_forward, atol=1e-4)
    np.testing.assert_allclose(aniso_backward, iso_backward, atol=1e-4)
    assert hd95(a, b, spacing_mm=(0.5, 0.5)) == pytest.approx(0.5 * hd95(a, b), rel=1e-6)


def test_distances_are_nan_for_two_empty_masks_and_inf_for_one():
    empty = np.zeros((10, 10), dtype=bool)
    present = square((10, 10), 2, 2, 4)
    for metric in (hausdorff_distance, hd95, average_symmetric_surface_distance):
        assert math.isnan(metric(empty, empty))
        assert metric(present, empty) == math.inf
        assert metric(empty, present) == math.inf


def test_mean_of_finite_skips_and_counts_undefined_cases():
    summary = mean_of_finite([1.0, 3.0, math.nan, math.inf, math.inf])
    assert (summary.mean, summary.n_used, summary.n_nan, summary.n_inf) == (2.0, 2, 1, 2)
    assert math.isnan(mean_of_finite([math.nan]).mean)


def test_bad_spacing_is_refused():
    a = square((10, 10), 2, 2, 4)
    with pytest.raises(InputError, match="pixel spacing"):
        hd95(a, a, spacing_mm=(0.0, 1.0))


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_monai_when_installed(seed):
    monai_metrics = pytest.importorskip(
        "monai.metrics", reason="monai is not installed (not a project dependency)"
    )
    import torch

    a, b = random_blobs(seed), random_blobs(seed + 50)

    def one_hot(mask: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.stack([~mask, mask])[None].astype(np.float32))

    spacing = (0.7, 1.3)
    monai_hd95 = monai_metrics.compute_hausdorff_distance(
        one_hot(a), one_hot(b), percentile=95, spacing=spacing
    )
    monai_assd = monai_metrics.compute_average_surface_distance(
        one_hot(a), one_hot(b), symmetric=True, spacing=spacing
    )
    monai_dice = monai_metrics.compute_dice(one_hot(a), one_hot(b))
    assert hd95(a, b, spacing) == pytest.approx(float(monai_hd95.squeeze()), rel=1e-4)
    assert average_symmetric_surface_distance(a, b, spacing) == pytest.approx(
        float(monai_assd.squeeze()), rel=1e-4
    )
    assert dice(a, b) == pytest.approx(float(monai_dice.squeeze()), rel=1e-5)
