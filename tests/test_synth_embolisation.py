"""Generated pre/post-embolisation pairs: the runs' physiology as measured from their frames
(hypervascular tumors out-peak the parenchyma, arteries peak before it) and the pair's truth."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dsaviewer.core.parametric import parametric_maps
from dsaviewer.core.time_density import curve_peak, region_curves
from training.synth import SynthOptions
from training.synth.embolisation import Embolisation, generate_pair

OPTIONS = SynthOptions(sizes=(((512, 512), 1.0),), frames=(20, 22), p_rich_blood=1.0, max_tumors=2)
SEED = 11


@pytest.fixture(scope="module")
def pairs():
    return [generate_pair(SEED, index, OPTIONS) for index in range(4)]


def test_hypervascular_tumor_curves_peak_above_the_parenchyma(pairs) -> None:
    checked = 0
    for pair in pairs:
        case = pair.pre
        labels = case.labels[0]
        if not labels.tumor.any():
            continue
        parenchyma = labels.liver & ~_dilated(labels.tumor | pair.vessel_mask, 5)
        white = (1 << case.bits_stored) - 1
        dark = not case.truth.inverted
        curves = region_curves(case.frames, {"tumor": labels.tumor, "liver": parenchyma},
                               contrast_dark=dark, white_level=white)
        assert curve_peak(curves["tumor"]) > 1.5 * curve_peak(curves["liver"]), case.case_id
        checked += 1
    assert checked >= 3


def test_arteries_reach_their_peak_before_the_parenchyma(pairs) -> None:
    for pair in pairs:
        case = pair.pre
        labels = case.labels[0]
        maps = parametric_maps(case.frames, fps=case.fps, white_level=(1 << case.bits_stored) - 1)
        arteries = pair.vessel_mask & labels.liver & np.isfinite(maps.ttp)
        parenchyma = labels.liver & ~_dilated(labels.tumor | pair.vessel_mask, 5)
        parenchyma &= np.isfinite(maps.ttp)
        assert arteries.sum() > 50 and parenchyma.sum() > 50, case.case_id
        assert np.median(maps.ttp[arteries]) < np.median(maps.ttp[parenchyma]), case.case_id


def test_the_truth_follows_the_embolisation() -> None:
    gone = Embolisation(stain_remaining=0.0, flow="stasis", slowing=1.5, shift_px=(6.0, -4.0),
                        rotation_deg=2.0)
    unchanged = Embolisation(stain_remaining=1.0, flow="normal", slowing=1.0, shift_px=(0.0, 0.0),
                             rotation_deg=0.0)

    after = generate_pair(SEED, 0, OPTIONS, gone)
    same = generate_pair(SEED, 0, OPTIONS, unchanged)

    assert after.blush_reduction > 0.3
    assert same.blush_reduction == pytest.approx(0.0, abs=1e-6)
    assert np.array_equal(same.post.labels[0].tumor, same.pre.labels[0].tumor)
    # The post-run's own noise: the frames of an unchanged run still differ.
    assert not np.array_equal(same.post.frames, same.pre.frames)
    # The post-run's labels moved with the patient.
    moved = after.post.labels[0].tumor
    centre = np.argwhere(after.pre.labels[0].tumor).mean(axis=0)[::-1]
    expected = after.transform @ np.append(centre, 1.0)
    assert np.allclose(np.argwhere(moved).mean(axis=0)[::-1], expected, atol=1.0)


def test_an_impossible_embolisation_is_refused() -> None:
    with pytest.raises(ValueError, match="stain_remaining"):
        Embolisation(1.5, "normal", 1.0, (0.0, 0.0), 0.0)
    with pytest.raises(ValueError, match="flow"):
        Embolisation(0.5, "reversed", 1.0, (0.0, 0.0), 0.0)


def _dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
