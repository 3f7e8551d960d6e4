"""The generator's answers: which frame is the key frame, and the masks on the labelled frames.

Key frame (the papers' definition: the frame where the tumor stain is the clearest, most
complete and most stable): among the frames the DSA-LTDNet rule considers (the last 15),
at least 9 frames in (so the 10-frame temporal stack k-9..k exists; in runs shorter than 12
frames from frame 1, see :func:`first_key_frame_candidate`) and at least 2 before
the end (k+1 and k+2 are labelled too), not moving, and with the stain at least 90 % as
complete as it gets among them (the least complete tumor stain; in a run where no tumor stains,
the perfused liver's parenchymal blush, see :func:`key_frame_completeness`), the *stable* ones
are those whose image changes visibly
from its neighbours (noiseless change beyond what noise hides, see
:data:`training.synth.render.VISIBLE_CHANGE`) by at most ``STABLE_TOLERANCE`` x the least
change plus ``STABLE_MARGIN``; of those the latest, where the stain is most complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.layers import liver_mask, polygon_mask
from training.synth.liver import Liver
from training.synth.timing import Parenchyma, StainTiming, parenchymal_level
from training.synth.tumors import Tumor
from training.synth.view import View

KEY_FRAME_WINDOW = 15  # DSA-LTDNet looks at the last 15 frames
TEMPORAL_FRAMES = 10  # the TDL input k-9..k
LABELLED_AFTER_KEY = 2  # the papers' augmentation: k+1 and k+2
# The shortest run with a whole stack k-9..k before the key frame and k+1, k+2 after it.
WHOLE_STACK_RUN = TEMPORAL_FRAMES + LABELLED_AFTER_KEY
STABLE_TOLERANCE = 1.3
STABLE_MARGIN = 0.02  # mean visible change, grey levels per pixel of the field


@dataclass(frozen=True)
class FrameLabels:
    frame_index: int
    tumor: np.ndarray  # bool (H, W)
    liver: np.ndarray  # bool (H, W)


def choose_key_frame(change: np.ndarray, completeness: np.ndarray, moving: np.ndarray) -> int:
    """``change[j]``: visible change between frames j and j+1; ``completeness[f]``: how
    complete the stain is in frame f (0..1); ``moving[f]``: the anatomy moves at frame f."""
    count = len(completeness)
    candidates = np.arange(first_key_frame_candidate(count), count - LABELLED_AFTER_KEY)
    if candidates.size == 0:
        raise ValueError(f"a run of {count} frames is too short for a key frame")
    if count < WHOLE_STACK_RUN:
        # A short run's candidates include the frames before the stain: keep those where it
        # is at least half as complete as it gets, so that a breath late in the run cannot
        # push the key frame back to before the stain.
        reached = completeness[candidates]
        candidates = candidates[reached >= 0.5 * reached.max()]
    still = candidates[~moving[candidates]]
    if still.size:
        candidates = still
    best = float(completeness[candidates].max())
    candidates = candidates[completeness[candidates] >= min(0.9, best - 0.02)]
    scores = 0.5 * (change[candidates - 1] + change[candidates])
    stable = candidates[scores <= STABLE_TOLERANCE * scores.min() + STABLE_MARGIN]
    return int(stable.max())


def key_frame_completeness(
    times: np.ndarray, stains: list[StainTiming], blush: Parenchyma
) -> np.ndarray:
    """How complete, 0..1, the stain the key frame is chosen for is in each frame at ``times``:
    the least complete tumor stain, or in a run without a tumor stain in view (no tumor, or
    none in the injected territory) the liver's parenchymal blush against its peak. Counting
    such a run as complete everywhere made the stillest frames, those before the contrast
    arrives, its key frame, with a liver label over a field that shows no liver.
    """
    if not stains:
        return parenchymal_level(times, blush) / blush.amplitude
    completeness = np.ones(len(times))
    for timing in stains:
        completeness = np.minimum(completeness, timing.completeness(times))
    return completeness


def first_key_frame_candidate(count: int) -> int:
    """The earliest frame of a ``count``-frame run that may be the key frame.

    Where the run allows a whole temporal stack before the key frame and the two labelled
    frames after it (12 frames or more), 9 frames in, within the rule's last 15. Low-rate
    programmes stop after 8-11 frames: there any frame from 1 (it needs a frame before it to
    score its stability), and the stack k-9..k is padded by repeating frame 0 and the frame
    difference taken against frame 0, the one padding rule of the viewer, the pipeline and
    the training reader (:func:`dsaviewer.core.difference.temporal_stack`,
    :func:`~dsaviewer.core.difference.frame_difference`).
    """
    if count >= WHOLE_STACK_RUN:
        return max(TEMPORAL_FRAMES - 1, count - KEY_FRAME_WINDOW)
    return 1


def frame_labels(
    frame_index: int,
    liver: Liver,
    tumors: list[Tumor],
    view: View,
    field: np.ndarray,
    shift: np.ndarray,
    perfused: np.ndarray | None = None,
) -> FrameLabels:
    """Masks of one frame: the outlines moved by the abdomen's displacement ``shift`` (image
    px), clipped to the exposed field; tumors also to the liver. ``perfused`` (mask pose):
    the liver label is only the territory the injection perfuses (broad mix)."""
    liver_pixels = liver_mask(liver, view, (float(shift[0]), float(shift[1]))) & field
    tumor_pixels = np.zeros_like(liver_pixels)
    for tumor in tumors:
        tumor_pixels |= polygon_mask(view.to_image(tumor.outline) + shift, liver_pixels.shape)
    tumor_pixels &= liver_pixels
    if perfused is not None:  # a stained tumor reaching over the territory's edge stays liver
        matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        height, width = perfused.shape
        moved = cv2.warpAffine(
            perfused.astype(np.uint8), matrix, (width, height), flags=cv2.INTER_NEAREST
        )
        liver_pixels = (liver_pixels & moved.astype(bool)) | tumor_pixels
    return FrameLabels(frame_index=frame_index, tumor=tumor_pixels, liver=liver_pixels)
