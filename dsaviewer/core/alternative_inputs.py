"""The classic motion channels DSA-LTDNet compares its temporal inputs against (Table 2):
dense optical flow and background subtraction, each giving one [0, 1] map per key frame.

Inputs are model-size float32 frames in [0, 1] (after preprocessing). Both methods run on
8-bit images, the depth OpenCV documents for them.
"""

from __future__ import annotations

import cv2
import numpy as np

from dsaviewer.core.difference import FD_GAP, frame_difference
from dsaviewer.core.preprocess import as_frame_stack
from dsaviewer.errors import InputError

# Farnebäck parameters: OpenCV's documented example values (3-level pyramid, 15-pixel window).
_FARNEBACK = dict(
    pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0
)
# Below one pixel of motion the flow is mostly noise; not stretching it to full scale keeps a
# still run dark instead of turning its jitter into a bright map.
_MIN_FLOW_SCALE_PX = 1.0


def optical_flow_magnitude(prev: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Farnebäck flow from ``prev`` (frame k−9) to ``key`` (frame k); its magnitude as
    ``float32`` in [0, 1], divided by the largest magnitude (or by 1 pixel if that is less)."""
    _check_frame(prev, "prev")
    _check_frame(key, "key")
    if prev.shape != key.shape:
        raise InputError(f"frame shapes differ: prev {prev.shape}, key {key.shape}", "key")
    flow = cv2.calcOpticalFlowFarneback(_to_uint8(prev), _to_uint8(key), None, **_FARNEBACK)
    magnitude = np.hypot(flow[..., 0], flow[..., 1])
    return (magnitude / max(float(magnitude.max()), _MIN_FLOW_SCALE_PX)).astype(np.float32)


def background_subtraction(frames: np.ndarray, key_index: int) -> np.ndarray:
    """MOG2 background model fed ``frames[0..key_index]`` of a ``(T, H, W)`` stack; the key
    frame's foreground mask as ``float32`` 0/1.

    MOG2 gives a hard mask, not a probability. At least one frame must come before the key
    frame: on its first frame MOG2 marks everything foreground.
    """
    stack = as_frame_stack(frames)
    if not 1 <= key_index < stack.shape[0]:
        raise InputError(
            f"key frame index {key_index} must be in 1..{stack.shape[0] - 1}: background "
            "subtraction needs at least one frame before the key frame",
            "key_index",
        )
    fed = stack[: key_index + 1]
    _check_model_pixels(fed, "frames")
    subtractor = cv2.createBackgroundSubtractorMOG2(detectShadows=False)
    for frame in fed:
        mask = subtractor.apply(_to_uint8(frame))
    return (mask > 0).astype(np.float32)


def temporal_channel(mode: str, frames01: np.ndarray, index: int) -> np.ndarray | None:
    """The hand-made temporal channel of frame ``index`` that a KF+FD, KF+optical-flow or
    KF+background-subtraction model reads, float32 ``(S, S)``; None for the other modes.

    Training and the viewer's pipeline both call this, so the models see the same input:
    frame k-9 -> k for FD and optical flow, MOG2 over frames 0..k, an empty map at frame 0
    (MOG2 needs a frame before the key frame, and nothing has moved yet).
    """
    if mode == "fd":
        return frame_difference(frames01, index)
    if mode == "optical_flow":
        return optical_flow_magnitude(frames01[max(0, index - FD_GAP)], frames01[index])
    if mode == "background_subtraction":
        if index == 0:
            return np.zeros_like(frames01[0])
        return background_subtraction(frames01, index)
    return None


def _check_frame(frame: np.ndarray, name: str) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 2:
        raise InputError(f"expected a 2-D greyscale frame, got {np.shape(frame)}", name)
    _check_model_pixels(frame, name)


def _check_model_pixels(frame: np.ndarray, name: str) -> None:
    if not np.issubdtype(frame.dtype, np.floating):
        raise InputError(f"expected float frames in [0, 1], got dtype {frame.dtype}", name)
    if not np.isfinite(frame).all():
        raise InputError("frame contains NaN or infinite values", name)


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.round(np.clip(frame, 0.0, 1.0) * 255.0).astype(np.uint8)
