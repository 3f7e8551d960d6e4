"""What the scope classifier sees of a run: a few small maps of its contrast dynamics.

The scope classifier (``dsaviewer/models/scope_net.py``) decides whether a run looks like a
hepatic DSA run from the images alone, not from the segmentation network's maps: the decision
then stays the same when the segmentation weights change (a new version, a hospital's
fine-tune), and a liver network that learned to leave kidneys and spleens out cannot make a
renal run look like a small liver.

The maps, at a quarter of the model size (64 x 64), zero outside the exposed field:

- the key frame, the frame the masks are drawn on;
- its enhancement over the first frame (the blush at the key frame);
- the run's maximum enhancement over the first frame (where contrast went at any time);
- the enhancement's standard deviation over time (how much it comes and goes);
- when each pixel peaks, 0 (first frame) .. 1 (last), where it enhances at all (the arterial,
  parenchymal and venous phases are in different places);
- the exposed field itself.
"""

from __future__ import annotations

import cv2
import numpy as np

SCOPE_INPUT_SIZE = 64
SCOPE_CHANNELS = (
    "key_frame",
    "key_enhancement",
    "max_enhancement",
    "enhancement_std",
    "peak_time",
    "field",
)
# Enhancement (model grey units) at which a pixel's peak time counts fully: fainter pixels'
# peaks are noise.
_PEAK_SIGNAL = 0.1


def scope_input(
    frames: np.ndarray, key_frame: int, outside: np.ndarray | None = None
) -> np.ndarray:
    """The classifier's input ``(len(SCOPE_CHANNELS), 64, 64)`` float32 from the model-size
    clip ``frames`` ``(T, S, S)`` in [0, 1] (contrast bright), the key frame's index and the
    model pixels outside a round field (or None)."""
    clip = np.asarray(frames, dtype=np.float32)
    if clip.ndim != 3 or not 0 <= key_frame < len(clip):
        raise ValueError(f"need a (T, S, S) clip and a key frame in it, got {clip.shape}, "
                         f"{key_frame}")
    size = (SCOPE_INPUT_SIZE, SCOPE_INPUT_SIZE)
    small = np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in clip])
    field_full = np.ones(clip.shape[1:], np.float32) if outside is None else (~outside).astype(
        np.float32)
    field = (cv2.resize(field_full, size, interpolation=cv2.INTER_AREA) > 0.5).astype(np.float32)

    enhancement = small - small[0]
    key_enhancement = enhancement[key_frame]
    max_enhancement = enhancement.max(axis=0)
    spread = enhancement.std(axis=0)
    peak = enhancement.argmax(axis=0).astype(np.float32) / max(len(clip) - 1, 1)
    peak *= np.clip(max_enhancement / _PEAK_SIGNAL, 0.0, 1.0)
    maps = np.stack([small[key_frame], key_enhancement, max_enhancement, spread, peak, field])
    return (maps * field).astype(np.float32)
