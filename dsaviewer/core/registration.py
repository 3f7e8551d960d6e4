"""Rigid registration of two images of the same patient's vessels (two runs' opacity images).

Coarse to fine: phase correlation finds the shift on a downscaled, blurred pair (robust to a
shift of a tenth of the frame), then OpenCV's ECC refines a Euclidean (rotation + shift)
or affine warp on the same images and then at a finer scale. The images are opacity images
(contrast positive, background 0), so the static collimator border and burned-in text,
which subtract to nothing, do not pull the warp towards staying put.
"""

from __future__ import annotations

import cv2
import numpy as np

from dsaviewer.errors import InputError

_COARSE_SIDE = 256
_FINE_SIDE = 512
_BLUR_FRACTION = 0.006  # Gaussian SD per pixel of the side: vessels become ridges ECC can follow
_ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)


def register_rigid(fixed: np.ndarray, moving: np.ndarray, affine: bool = False) -> np.ndarray:
    """The 2 x 3 warp taking a pixel (x, y, 1) of ``fixed`` to the matching pixel of
    ``moving`` (same shape, float images). Euclidean unless ``affine``. Raises InputError when
    the shapes differ or an image is blank; when ECC cannot converge the phase-correlation
    shift alone is returned."""
    if fixed.shape != moving.shape or fixed.ndim != 2:
        raise InputError(
            f"images of shape {fixed.shape} and {moving.shape} cannot be registered", "images"
        )
    if not (np.nanmax(np.abs(fixed)) > 0 and np.nanmax(np.abs(moving)) > 0):
        raise InputError("an image to register is blank", "images")
    warp = np.eye(2, 3, dtype=np.float32)
    motion = cv2.MOTION_AFFINE if affine else cv2.MOTION_EUCLIDEAN
    for index, side in enumerate((_COARSE_SIDE, _FINE_SIDE)):
        scale = min(1.0, side / max(fixed.shape))
        small_fixed, small_moving = (_prepared(image, scale) for image in (fixed, moving))
        if index == 0:
            (dx, dy), _ = cv2.phaseCorrelate(small_fixed, small_moving)
            warp[:, 2] = (dx / scale, dy / scale)
        scaled = warp.copy()
        scaled[:, 2] *= scale
        try:
            _, scaled = cv2.findTransformECC(
                small_fixed, small_moving, scaled, motion, _ECC_CRITERIA, None, 5
            )
        except cv2.error:
            continue  # keep the estimate so far
        warp = scaled.copy()
        warp[:, 2] /= scale
    return warp.astype(np.float64)


def warp_mask(mask: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """``mask`` (of the fixed image) carried to the moving image by ``warp`` (nearest)."""
    height, width = mask.shape
    moved = cv2.warpAffine(
        mask.astype(np.uint8), warp.astype(np.float32), (width, height), flags=cv2.INTER_NEAREST
    )
    return moved.astype(bool)


def rigid_parameters(warp: np.ndarray) -> dict[str, float]:
    """Rotation (degrees, counter-clockwise as displayed), shift (px) and scale of a warp."""
    angle = float(np.degrees(np.arctan2(warp[1, 0], warp[0, 0])))
    scale = float(np.sqrt(abs(np.linalg.det(warp[:, :2]))))
    return {"rotation_deg": -angle, "shift_x_px": float(warp[0, 2]),
            "shift_y_px": float(warp[1, 2]), "scale": scale}


def _prepared(image: np.ndarray, scale: float) -> np.ndarray:
    clean = np.nan_to_num(image.astype(np.float32), nan=0.0)
    if scale < 1.0:
        size = (max(1, round(clean.shape[1] * scale)), max(1, round(clean.shape[0] * scale)))
        clean = cv2.resize(clean, size, interpolation=cv2.INTER_AREA)
    sigma = max(1.0, _BLUR_FRACTION * max(clean.shape))
    return cv2.GaussianBlur(clean, (0, 0), sigma)
