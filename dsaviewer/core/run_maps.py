"""Maps of a whole run that a liver network can read beside the frames up to the key frame.

The liver label is the perfused liver: the parenchyma that blushes at some time in the run.
The key frame is chosen for the tumor stain, which persists, so it often comes late, and the
frames k-9..k then miss the parenchymal phase: in the broad test set the liver-to-field
contrast peaks before that window in 66 of 300 runs and after the key frame in 56 (the liver
network's Dice there 0.83 and 0.76, against 0.88 when the peak lies inside). Two maps of the
enhancement over the first frame carry the whole run, whatever its length:

- the maximum: where contrast went at any time;
- the mean: the same averaged over the run, which a faint blush in a noisy (low-dose) run
  needs, since the noise falls with the number of frames and the blush does not.
"""

from __future__ import annotations

import numpy as np

from dsaviewer.core.preprocess import as_frame_stack

RUN_MAPS = ("max_enhancement", "mean_enhancement")


def run_maps(frames_model: np.ndarray) -> np.ndarray:
    """``(len(RUN_MAPS), S, S)`` float32 from the model-size clip ``(T, S, S)`` in [0, 1]
    (contrast bright): each frame's enhancement over frame 0, its maximum and its mean over
    the run. A one-frame run has no enhancement: both maps are zero."""
    clip = as_frame_stack(frames_model, "frames_model").astype(np.float32, copy=False)
    baseline = clip[0]
    maximum = np.zeros_like(baseline)
    total = np.zeros_like(baseline)
    for frame in clip[1:]:  # frame by frame: a (T, S, S) enhancement copy is not needed
        enhancement = frame - baseline
        np.maximum(maximum, enhancement, out=maximum)
        total += enhancement
    return np.stack([maximum, total / np.float32(len(clip))])
