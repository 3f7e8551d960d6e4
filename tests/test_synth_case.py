"""One synthetic case in memory: reproducibility, image formation, ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from training.synth import SynthOptions, generate_case
from training.synth.ground_truth import frame_labels
from training.synth.liver import sample_liver
from training.synth.tumors import place_tumors, sample_tumor_specs
from training.synth.view import sample_view

SMALL = SynthOptions(sizes=(((256, 256), 1.0),), formats=(("avi", 1.0),))
FLAT = SynthOptions(
    sizes=(((384, 384), 1.0),),
    formats=(("avi", 1.0),),
    p_inverted=0.0,
    p_breath=0.0,
    p_end_breath=0.0,
    p_drift=0.0,
    p_gi=0.0,
    p_heart=0.0,
    p_text=0.0,
)


@pytest.fixture(scope="module")
def small_cases():
    return [generate_case(5, i, SMALL) for i in range(6)]


def test_same_seed_same_case_bytes() -> None:
    first, second = generate_case(2, 4, SMALL), generate_case(2, 4, SMALL)
    assert first.frames.tobytes() == second.frames.tobytes()
    assert first.key_frame == second.key_frame
    for a, b in zip(first.labels, second.labels, strict=True):
        assert a.frame_index == b.frame_index
        assert a.tumor.tobytes() == b.tumor.tobytes() and a.liver.tobytes() == b.liver.tobytes()
    assert first.patient == second.patient
    other = generate_case(2, 5, SMALL)
    assert other.frames.tobytes() != first.frames.tobytes()


def test_case_matches_its_options(small_cases) -> None:
    for case in small_cases:
        count, height, width = case.frames.shape
        assert (width, height) == (256, 256) and 20 <= count <= 30
        assert case.frames.dtype == np.uint8 and case.bits_stored == 8
        assert case.video_format == "avi"
        assert 1.5 <= case.fps <= 6.0
        assert case.case_id == f"synth_s5_{case.index:05d}"


def test_key_frame_follows_the_papers_constraints(small_cases) -> None:
    for case in small_cases:
        count = len(case.frames)
        k = case.key_frame
        assert max(9, count - 15) <= k <= count - 3  # k-9 exists, k+2 exists, rule window
        assert k not in case.truth.moving_frames
        assert [labels.frame_index for labels in case.labels] == [k, k + 1, k + 2]


def test_masks_are_in_the_field_and_tumors_in_the_liver(small_cases) -> None:
    for case in small_cases:
        for labels in case.labels:
            assert labels.liver.any()
            assert not (labels.tumor & ~labels.liver).any()
            # The border (first and last rows and columns) is outside the collimator.
            assert not labels.liver[0].any() and not labels.liver[:, 0].any()
        assert case.truth.n_tumors_visible >= 1
        assert case.labels[0].tumor.any()


def test_tumors_are_placed_wholly_inside_the_liver() -> None:
    for seed in range(40):
        rng = np.random.default_rng(seed)
        liver = sample_liver(rng)
        tumors = place_tumors(rng, sample_tumor_specs(rng, 10, 0.72), liver, lambda p, m: True)
        raster = liver.raster
        for tumor in tumors:
            cells = np.floor((tumor.outline - raster.origin) / raster.cell).astype(int)
            assert raster.inside[cells[:, 1], cells[:, 0]].all()


def test_tumor_sizes_scale_with_the_image() -> None:
    full = generate_case(8, 1, SynthOptions(sizes=(((1021, 788), 1.0),), p_zoom=0.0))
    half = generate_case(8, 1, SynthOptions(sizes=(((512, 512), 1.0),), p_zoom=0.0))
    assert full.patient == half.patient
    ratio = np.array(half.truth.tumor_diameters_px) / np.array(full.truth.tumor_diameters_px)
    np.testing.assert_allclose(ratio, 512 / 1021, rtol=0.02)


def test_stain_and_vessels_darken_the_subtracted_image() -> None:
    for index in range(4):
        case = generate_case(1, index, FLAT)
        labels = case.labels[0]
        key = case.frames[case.key_frame].astype(float)
        first = case.frames[0].astype(float)
        liver_only = labels.liver & ~labels.tumor
        # The mask frame is blank: nothing to subtract yet.
        assert first[labels.liver].std() < 12
        # Tumors stain darker than the liver around them; the liver blushes.
        assert key[labels.tumor].mean() < key[liver_only].mean()
        assert key[liver_only].mean() < first[liver_only].mean()


def test_labels_move_with_the_anatomy() -> None:
    rng = np.random.default_rng(0)
    liver = sample_liver(rng)
    view = sample_view(rng, (400, 300), zoomed=False, focus=liver.centroid)
    tumors = place_tumors(rng, sample_tumor_specs(rng, 3, 1.0), liver, lambda p, m: True)
    field = np.ones((300, 400), bool)
    still = frame_labels(0, liver, tumors, view, field, np.array([0.0, 0.0]))
    moved = frame_labels(1, liver, tumors, view, field, np.array([6.0, -4.0]))
    shifted = np.roll(still.liver, (-4, 6), axis=(0, 1))
    inner = (slice(10, -10), slice(10, -10))
    np.testing.assert_array_equal(moved.liver[inner], shifted[inner])
    np.testing.assert_array_equal(
        moved.tumor[inner], np.roll(still.tumor, (-4, 6), axis=(0, 1))[inner]
    )
