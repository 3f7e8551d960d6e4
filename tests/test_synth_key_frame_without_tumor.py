"""A run in which no tumor stains (no tumor, or none in the injected territory) takes its key
frame from the perfused liver's blush, not from the stillest frames, which are those before
the contrast arrives: there the liver label would lie over a field that shows no liver."""

from __future__ import annotations

import numpy as np
import pytest
from slow_run_options import slow_run_options

from training.synth import generate_case
from training.synth.ground_truth import key_frame_completeness
from training.synth.timing import Parenchyma, StainTiming, parenchymal_level

TUMOR_FREE_SLOW = slow_run_options(territory="left_hepatic", phenotype="none")
BLUSH = Parenchyma(onset=1.0, peak=4.0, shape=2.0, amplitude=0.1)


def test_without_a_tumor_stain_completeness_is_the_blush_against_its_peak() -> None:
    times = np.array([-1.0, 0.0, 1.0, 3.0, 5.0, 9.0])
    completeness = key_frame_completeness(times, [], BLUSH)
    np.testing.assert_allclose(completeness, parenchymal_level(times, BLUSH) / 0.1)
    assert completeness[:3].max() == 0.0  # before the blush's onset nothing is complete
    assert completeness[4] == pytest.approx(1.0)  # its peak, 4 s after the onset


def test_with_tumor_stains_completeness_is_the_least_complete_stain() -> None:
    times = np.linspace(0.0, 8.0, 9)
    early = StainTiming(onset=0.5, rise=1.0, spread=0.8, sharpen_lag=0.4, washout_rate=0.0)
    late = StainTiming(onset=2.0, rise=2.0, spread=1.5, sharpen_lag=1.0, washout_rate=0.0)
    np.testing.assert_allclose(
        key_frame_completeness(times, [early, late], BLUSH),
        np.minimum(early.completeness(times), late.completeness(times)),
    )


@pytest.mark.parametrize("index", range(6))
def test_a_tumor_free_short_run_has_its_key_frame_after_the_contrast_arrives(index) -> None:
    case = generate_case(3, index, TUMOR_FREE_SLOW)
    assert case.truth.n_tumors_visible == 0
    # The blush starts 0.8-1.6 s after the contrast leaves the catheter (frame contrast_frame).
    assert case.key_frame >= case.truth.contrast_frame + 0.8 * case.fps
    assert case.labels[0].liver.any()
