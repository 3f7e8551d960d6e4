"""The generator's key frame against the DSA-LTDNet rule (dsaviewer.core.keyframe).

The generator defines the key frame from the noiseless scene (stain complete, no visible
change, no motion, k+2 inside the run); the rule sees only the noisy frames. Over 200 cases
at 512 x 512 (5 seeds x 40) the rule landed within 2 frames of it in 85 % (75-90 % per
seed; 75 % of 80 cases at 1021 x 788). The misses are mostly runs whose still phase a breath
splits (the rule may take the still frames after it, the generator those before, both
defensible). The floor sits 2.4 standard errors under 85 % for 24 cases.
"""

from __future__ import annotations

import numpy as np
from slow_run_options import slow_run_options

from dsaviewer.core.keyframe import select_key_frame
from dsaviewer.core.preprocess import find_field
from training.synth import SynthOptions, generate_case

AGREEMENT_FLOOR = 0.65


def test_rule_agrees_with_the_generators_key_frame_on_most_cases() -> None:
    options = SynthOptions(sizes=(((512, 512), 1.0),), formats=(("avi", 1.0),))
    offsets = []
    for index in range(24):
        case = generate_case(0, index, options)
        choice = select_key_frame(case.frames, field=find_field(case.frames))
        offsets.append(choice.index - case.key_frame)
    within_two = float(np.mean(np.abs(offsets) <= 2))
    assert within_two >= AGREEMENT_FLOOR, f"offsets rule - generator: {offsets}"


def test_the_rule_waits_for_the_contrast_in_short_low_rate_runs() -> None:
    # 8-16 frames at 1-2 frames/s: the window of 15 reaches back to the frames before the
    # contrast arrives (frame contrast_frame), which the papers' rule alone often took.
    options = slow_run_options(phenotype="none")
    for index in range(8):
        case = generate_case(7, index, options)
        choice = select_key_frame(case.frames, field=find_field(case.frames))
        assert choice.index > case.truth.contrast_frame, (index, choice.index)
