"""Short low-rate runs (8-11 frames) of the broad mix's ``slow`` acquisition: generated with
their key frame and labels k..k+2, read by training's reader without being skipped, and
analysed by ``dsaviewer analyze``, with the temporal stack padded by repeating frame 0."""

from __future__ import annotations

import json

import numpy as np
import pytest
from slow_run_options import slow_run_options
from test_inference_fixtures import write_tiny_weights

from dsaviewer.analyze_cli import main as analyze_main
from dsaviewer.core.difference import TEMPORAL_STACK_DEPTH
from training.dataset import make_samples, read_dataset
from training.synth import generate_case
from training.synth.acquisition import sample_acquisition
from training.synth.case_writer import write_case
from training.synth.ground_truth import choose_key_frame, first_key_frame_candidate
from training.synth.variety import sample_variety
from training.synth.variety_case import fps_range_for, vary_acquisition

SHORT = slow_run_options()
EIGHT_FRAME_INDEX = 18  # case 18 of seed 4 with SHORT is an 8-frame run


@pytest.fixture(scope="module")
def eight_frames():
    case = generate_case(4, EIGHT_FRAME_INDEX, SHORT)
    assert len(case.frames) == 8
    return case


def test_slow_runs_reach_down_to_8_frames_at_1_to_2_frames_per_second():
    rng = np.random.default_rng(0)
    acquisition = sample_acquisition(rng, SHORT)
    slow = sample_variety(rng, {"acquisition": "slow"})
    counts = {vary_acquisition(rng, acquisition, slow, SHORT.frames).frame_count
              for _ in range(200)}
    assert counts == set(range(8, 17))
    assert fps_range_for(slow) == (1.0, 2.0)


def test_an_8_frame_run_has_its_key_frame_and_labels_k_to_k_plus_2(eight_frames):
    k = eight_frames.key_frame
    assert 1 <= k <= 5  # a frame before it to score stability, k+2 the last frame or before
    assert [label.frame_index for label in eight_frames.labels] == [k, k + 1, k + 2]
    key = eight_frames.labels[0]
    assert key.tumor.any() and key.liver.any() and not (key.tumor & ~key.liver).any()
    assert 1.0 <= eight_frames.fps <= 2.0


def test_the_key_frame_rule_keeps_runs_of_12_frames_and_more_as_before():
    assert [first_key_frame_candidate(n) for n in (8, 11, 12, 20, 30)] == [1, 1, 9, 9, 15]
    # In a short run a breath over the stained frames does not push the key frame back to
    # the still frames before the stain.
    completeness = np.array([0, 0, 0.05, 0.4, 0.7, 0.85, 0.9, 0.95])
    moving = np.array([False] * 3 + [True] * 5)
    assert choose_key_frame(np.full(7, 1.0), completeness, moving) >= 3


def test_training_reads_a_short_run_and_pads_its_stack_with_frame_0(eight_frames, tmp_path):
    write_case(eight_frames, tmp_path / "data")
    report = read_dataset(tmp_path / "data", size=64, workers=1)
    assert not report.rejected and len(report.records) == 1
    record = report.records[0]
    assert record.key_frame == eight_frames.key_frame
    samples = make_samples(record)
    assert len(samples) == 3 and samples[0].is_key_frame
    k = record.key_frame
    frames01 = record.frames01()
    stack = samples[0].frames
    assert stack.shape == (TEMPORAL_STACK_DEPTH, 64, 64)
    padding = TEMPORAL_STACK_DEPTH - (k + 1)
    assert all(np.array_equal(stack[i], frames01[0]) for i in range(padding + 1))
    assert np.array_equal(stack[-1], frames01[k])
    np.testing.assert_allclose(samples[0].fd, np.abs(frames01[k] - frames01[0]))


def test_dsaviewer_analyze_accepts_a_short_run(eight_frames, tmp_path):
    folder = write_case(eight_frames, tmp_path / "data")
    weights = write_tiny_weights(tmp_path / "weights")
    out = tmp_path / "out"
    status = analyze_main([str(folder), "--out", str(out), "--weights", str(weights),
                           "--key-frame", "labels"])
    assert status == 0
    document = json.loads((out / folder.name / "result.json").read_text())
    assert document["key_frame"]["used"] == eight_frames.key_frame
    assert any("frame 0 was repeated" in note for note in document["notes"])
