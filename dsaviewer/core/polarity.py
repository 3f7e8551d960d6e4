"""Which way iodine shows in a clip: dark on light (the usual DSA display) or inverted.

A DSA run starts before the contrast arrives, and iodine only ever moves a pixel one way from
that baseline: darker in the usual display, brighter in the inverted one. Noise and motion
move pixels both ways about equally. So the sign of the strongest changes from the first
frames tells the polarity, without any assumption about the background's grey level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dsaviewer.core.preprocess import FieldBox

# A coarse grid is plenty for a sign decision and keeps this to a few milliseconds.
_GRID_SIDE = 128
# The strongest-changing pixels vote: vessels and stain, not the noise floor.
_TOP_FRACTION = 0.01
# Inverted only on clear evidence: a catheter or the patient moving darkens some pixels and
# brightens others about equally, and such a clip is shown the usual way.
_INVERTED_EVIDENCE = 2.0


def contrast_is_dark(frames: np.ndarray, field: FieldBox) -> bool:
    """True when contrast darkens the image (the usual display), False when it brightens it.

    Looks inside ``field`` only (the border never changes). The baseline is the mean of the
    first tenth of the frames (at least one); each pixel's change is its largest excursion
    from the baseline over the later frames, in whichever direction is larger, so contrast
    that washes out again late in the run still counts. Among the top 1 % of pixels by size
    of change, the clip is inverted (False) only when the brightening outweighs the
    darkening two to one; otherwise, and with fewer than two frames or no change at all,
    the usual display (True) is assumed.
    """
    stack = np.asarray(frames)
    if stack.ndim != 3 or stack.shape[0] < 2:
        return True
    stride = max(1, min(field.height, field.width) // _GRID_SIDE)
    rows, columns = field.slices
    grid = stack[:, rows, columns][:, ::stride, ::stride]

    n_baseline = max(1, grid.shape[0] // 10)
    baseline = grid[:n_baseline].astype(np.float32).mean(axis=0)
    rise = np.zeros_like(baseline)
    fall = np.zeros_like(baseline)
    # Frame by frame, so memory stays at a few grid-sized images whatever the clip's length.
    for frame in grid[n_baseline:]:
        change = frame.astype(np.float32) - baseline
        np.maximum(rise, change, out=rise)
        np.minimum(fall, change, out=fall)
    strongest = np.where(rise >= -fall, rise, fall).ravel()

    n_top = max(1, int(_TOP_FRACTION * strongest.size))
    top = strongest[np.argpartition(np.abs(strongest), -n_top)[-n_top:]]
    brightening = float(top[top > 0].sum())
    darkening = -float(top[top < 0].sum())
    return not brightening > _INVERTED_EVIDENCE * darkening
