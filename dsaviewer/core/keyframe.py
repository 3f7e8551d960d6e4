"""Key-frame selection, the rule of DSA-LTDNet (Jiang et al.).

Over the last 15 frames, sum the absolute difference image of each pair of adjacent frames; a
frame's score is the mean of the sums just before and just after it; the key frame is the one
with the lowest score: the most stable, complete tumour stain.

One addition to the papers' rule: a frame the contrast has not reached yet is no candidate.
The papers' runs are long enough that their last 15 frames all follow the injection; in a
short low-rate run (8-16 frames at 1-2 frames/s) the window starts at the first frames, and
the frames before the contrast arrives, which change least of all, would win.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.preprocess import FieldBox, as_frame_stack
from dsaviewer.errors import InputError

KEY_FRAME_WINDOW = 15
# A frame differs from frame 0 by its noise alone until the contrast arrives. Where the run's
# largest difference from frame 0 exceeds the smallest by CONTRAST_DYNAMICS x (the contrast
# came: in a still noisy run they are about equal), frames within PRE_CONTRAST_FRACTION of the
# way from the smallest to the largest are frames before it.
CONTRAST_DYNAMICS = 1.5
PRE_CONTRAST_FRACTION = 0.25

# Where a key frame comes from: the one vocabulary of the pipeline, its results, the viewer,
# the command line and the saved state. The names are stored in result.json and state.json.
KEY_FRAME_AUTO = "auto"  # chosen by select_key_frame
KEY_FRAME_OVERRIDE = "override"  # chosen by a person (the viewer, --key-frame N)
KEY_FRAME_LABELS = "labels"  # flagged in the case's labels (io.key_frame_labels)
KEY_FRAME_SOURCES = (KEY_FRAME_AUTO, KEY_FRAME_OVERRIDE, KEY_FRAME_LABELS)
KEY_FRAME_SOURCE_TEXT = {  # how people read them
    KEY_FRAME_OVERRIDE: "set by you",
    KEY_FRAME_LABELS: "from the case's labels",
    KEY_FRAME_AUTO: "automatic",
}


@dataclass(frozen=True, eq=False)
class KeyFrameChoice:
    """The chosen key frame and how every candidate scored.

    ``index`` and ``candidates`` are frame indices into the whole video; ``scores[i]`` is the
    score of frame ``candidates[i]``: the mean of the absolute differences, summed over the
    pixels, of the pairs just before and just after it (NaN for a frame without a neighbour
    on each side; see :func:`select_key_frame` for two- and one-frame videos). ``index`` is
    the lowest-scoring candidate the contrast has reached, so not always the lowest score.
    """

    index: int
    candidates: np.ndarray
    scores: np.ndarray
    # Per candidate: passed over because the contrast had not reached it (see the module).
    before_contrast: np.ndarray

    def score_of(self, frame_index: int) -> float:
        """The score of one candidate frame; KeyError for a frame outside the window."""
        where = np.flatnonzero(self.candidates == frame_index)
        if where.size == 0:
            raise KeyError(f"frame {frame_index} is not a key-frame candidate")
        return float(self.scores[where[0]])


def select_key_frame(
    frames: np.ndarray, window: int = KEY_FRAME_WINDOW, field: FieldBox | None = None
) -> KeyFrameChoice:
    """Choose the key frame among the last ``window`` frames of ``(T, H, W)`` frames.

    A frame's score is the mean of the two adjacent sums around it, so a frame needs a
    neighbour on each side to have one: the first candidate uses the pair just before the
    window when the video has one, and the video's last frame (and its first, when the video
    is no longer than the window) gets no score (NaN) and is not chosen — the last frame is
    never the key frame of a video of three frames or more, which also leaves room for the
    labelled frames k+1, k+2. A two-frame video has no such frame; there each frame is scored
    on its one pair and ties go to the earliest (frame 0), as does a one-frame video (NaN
    score). A shorter video than ``window`` uses all its frames. ``field`` limits the sums to
    the exposed field, so a frame counter burned into the border cannot add motion. Full
    resolution: an L1 norm per pair costs well under a millisecond, so a downscaled copy
    would buy nothing.
    """
    stack = as_frame_stack(frames)
    if window < 1:
        raise InputError(f"key-frame window must be at least 1 frame, not {window}", "window")
    if field is not None:
        stack = stack[(slice(None), *field.slices)]
    count = stack.shape[0]
    first = max(0, count - window)
    candidates = np.arange(first, count)
    if count == 1:
        return KeyFrameChoice(index=0, candidates=candidates, scores=np.array([np.nan]),
                              before_contrast=np.zeros(1, dtype=bool))

    # pair_sums[j] = sum |F[j+1] - F[j]| for the pairs touching a candidate: j from first-1.
    pairs_from = max(0, first - 1)
    pair_sums = np.array(
        [_l1_difference(stack[j + 1], stack[j]) for j in range(pairs_from, count - 1)]
    )
    before = np.full(candidates.size, np.nan)
    after = np.full(candidates.size, np.nan)
    has_before = candidates >= 1
    has_after = candidates <= count - 2
    before[has_before] = pair_sums[candidates[has_before] - 1 - pairs_from]
    after[has_after] = pair_sums[candidates[has_after] - pairs_from]
    scores = (before + after) / 2.0
    if np.isnan(scores).all():  # two frames: no frame has neighbours on both sides
        scores = np.nanmean(np.stack([before, after]), axis=0)
    before_contrast = _before_contrast(stack, candidates)
    eligible = np.where(before_contrast, np.nan, scores)
    if np.isnan(eligible).all():
        eligible, before_contrast = scores, np.zeros_like(before_contrast)
    return KeyFrameChoice(
        index=int(candidates[np.nanargmin(eligible)]), candidates=candidates, scores=scores,
        before_contrast=before_contrast,
    )


def _before_contrast(stack: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Which candidates come before the contrast arrives (see PRE_CONTRAST_FRACTION)."""
    if stack.shape[0] < 3:
        return np.zeros(candidates.size, dtype=bool)
    # On an 8x coarser copy: the noise averages out, the vessels and the blush stay.
    coarse = [_coarse(frame) for frame in stack]
    from_first = np.array([_l1_difference(frame, coarse[0]) for frame in coarse[1:]])
    least, most = float(from_first.min()), float(from_first.max())
    if most <= CONTRAST_DYNAMICS * least:
        return np.zeros(candidates.size, dtype=bool)
    reached = np.zeros(stack.shape[0])
    reached[1:] = (from_first - least) / (most - least)
    return reached[candidates] < PRE_CONTRAST_FRACTION


def _coarse(frame: np.ndarray) -> np.ndarray:
    """8 x 8 block means; the frame cropped to whole blocks (cv2's fast path for an exact
    factor: a 1021 x 788 frame in well under a millisecond, not 8)."""
    height, width = (max(1, side // 8) for side in frame.shape)
    blocks = frame[: height * 8, : width * 8]
    if blocks.dtype not in (np.uint8, np.uint16, np.float32):  # what cv2.resize takes as it is
        blocks = blocks.astype(np.float32)
    return cv2.resize(blocks, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def _l1_difference(a: np.ndarray, b: np.ndarray) -> float:
    if a.dtype in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        return float(cv2.norm(a, b, cv2.NORM_L1))
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).sum())
