"""The frame difference (FD) and the temporal stack that DSA-LTDNet feeds its TDL module.

FD is |F_k - F_(k-9)|, absolute rather than signed: the papers compute it with the classic
frame-difference method they cite (Singla 2014, an absolute difference), the key-frame rule
beside it sums absolute differences too, and an absolute map does not depend on the display
polarity, so the same FD comes out of a clip and of its inverted copy. It is the TDL target
(an L1 loss) and a model input channel; the viewer shows it as a heat map.

There is one FD function for both sizes: the model-size FD is ``frame_difference`` of the
frames after :func:`~dsaviewer.core.preprocess.to_model` (already in [0, 1]); the display FD
is ``frame_difference`` of the original frames, in their own grey units.
"""

from __future__ import annotations

import numpy as np

from dsaviewer.core.preprocess import as_frame_stack
from dsaviewer.errors import InputError

FD_GAP = 9
TEMPORAL_STACK_DEPTH = 10


def frame_difference(frames: np.ndarray, key_index: int, gap: int = FD_GAP) -> np.ndarray:
    """|frames[k] - frames[k - gap]| as float32 ``(H, W)``; k - gap is clamped at frame 0.

    The key frame itself (k = 0) therefore gives an all-zero map: there is no earlier frame.
    """
    stack = as_frame_stack(frames)
    key = _checked_key(key_index, stack.shape[0])
    if gap < 1:
        raise InputError(f"frame-difference gap must be at least 1, not {gap}", "gap")
    earlier = max(0, key - gap)
    return np.abs(stack[key].astype(np.float32) - stack[earlier].astype(np.float32))


def temporal_stack(
    frames_model: np.ndarray, key_index: int, n: int = TEMPORAL_STACK_DEPTH
) -> np.ndarray:
    """The ``n`` frames k-n+1 .. k as float32 ``(n, S, S)``, oldest first (the TDL input).

    Where the video starts later than k-n+1 the first frame is repeated to fill the front,
    so the key frame is always last and the depth always ``n``.
    """
    stack = as_frame_stack(frames_model, "frames_model")
    key = _checked_key(key_index, stack.shape[0])
    if n < 1:
        raise InputError(f"temporal stack depth must be at least 1, not {n}", "n")
    indices = np.clip(np.arange(key - n + 1, key + 1), 0, None)
    return np.asarray(stack[indices], dtype=np.float32)


def _checked_key(key_index: int, count: int) -> int:
    key = int(key_index)
    if not 0 <= key < count:
        raise InputError(f"key frame {key_index} is outside the video's {count} frames", "key")
    return key
