"""The image part of the scope decision: a score from the models' own outputs.

AVI and PNG runs carry no metadata, so every run is also judged by how much the liver network's
mask and the run's contrast dynamics look like those of a hepatic DSA run: the size,
position, confidence and connectedness of the liver mask, the tumor map's extent, where and how
much the contrast enhances (a liver blush inside the mask) and how the image moves and is
textured. A logistic regression on these features, fitted by ``python -m training fit-scope``
on generated liver runs against generated non-liver angiography and non-angiographic images,
turns them into a probability; its coefficients are in :mod:`dsaviewer.inference.scope_fit`.

Everything is computed at half the model size (128 x 128): about a millisecond per run.
"""

from __future__ import annotations

import cv2
import numpy as np

from dsaviewer.inference import scope_fit

FEATURES = (
    "liver_fraction",  # share of the field the liver mask covers
    "liver_confidence",  # mean |2p - 1| of the liver probability over the field
    "liver_main_share",  # the largest liver component's share of the mask
    "liver_components",  # liver components larger than 1 % of the field
    "liver_x",  # the mask's centroid in the field, 0 (left) .. 1 (right)
    "liver_y",  # 0 (top) .. 1 (bottom)
    "tumor_fraction",  # share of the field above 0.5 tumor probability
    "tumor_confidence",  # mean tumor probability over those pixels
    "blush_liver",  # key frame minus first frame inside the liver mask (model grey units)
    "blush_outside",  # the same outside it
    "change_fraction",  # field share changing by > 0.1 between k-9 and the key frame
    "peak_time",  # when the field's mean enhancement peaks, 0 (first) .. 1 (last frame)
    "motion",  # mean |difference| of adjacent frames over the field, at 1/8 the model size
    "texture",  # mean gradient magnitude of the smoothed key frame over the field
)
_STEP = 2  # features at half the model size
_DIFFERENCE_GAP = 9  # the method's frame difference: k - 9 .. k


def scope_features(
    frames: np.ndarray,
    key_frame: int,
    liver: np.ndarray,
    tumor: np.ndarray,
    outside: np.ndarray | None = None,
) -> np.ndarray:
    """The :data:`FEATURES` of one run: ``frames`` the model-size clip ``(T, S, S)`` in [0, 1]
    (contrast bright), ``liver`` and ``tumor`` the model-size probability maps, ``outside``
    the model pixels outside a round field (or None)."""
    clip = np.asarray(frames, dtype=np.float32)[:, ::_STEP, ::_STEP]
    liver = np.asarray(liver, dtype=np.float32)[::_STEP, ::_STEP]
    tumor = np.asarray(tumor, dtype=np.float32)[::_STEP, ::_STEP]
    field = np.ones(liver.shape, bool) if outside is None else ~outside[::_STEP, ::_STEP]
    n_field = max(int(field.sum()), 1)

    liver_mask = (liver >= 0.5) & field
    liver_area = int(liver_mask.sum())
    count, _, stats, centroids = cv2.connectedComponentsWithStats(
        liver_mask.astype(np.uint8), connectivity=8
    )
    areas = stats[1:, cv2.CC_STAT_AREA]
    main_share = float(areas.max()) / liver_area if liver_area else 0.0
    components = int((areas > 0.01 * n_field).sum())
    if liver_area:
        rows, columns = np.nonzero(liver_mask)
        liver_x = float(columns.mean()) / liver.shape[1]
        liver_y = float(rows.mean()) / liver.shape[0]
    else:
        liver_x = liver_y = 0.5
    tumor_mask = (tumor >= 0.5) & field
    tumor_area = int(tumor_mask.sum())

    key = clip[key_frame]
    enhancement = key - clip[0]
    outside_liver = field & ~liver_mask
    blush_liver = float(enhancement[liver_mask].mean()) if liver_area else 0.0
    blush_outside = float(enhancement[outside_liver].mean()) if outside_liver.any() else 0.0
    earlier = clip[max(0, key_frame - _DIFFERENCE_GAP)]
    change_fraction = float((np.abs(key - earlier)[field] > 0.1).mean())
    frame_means = clip.reshape(len(clip), -1) @ field.ravel().astype(np.float32)
    peak_time = float(np.argmax(frame_means - frame_means[0])) / max(len(clip) - 1, 1)
    # Motion and texture on averaged pixels: the run's movement and structure, not its
    # quantum noise (which differs between detectors and doses, not between regions).
    motion = _motion(clip, field)
    smooth = cv2.GaussianBlur(key, (0, 0), 2.0)
    gradient_x = cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3)
    gradient_y = cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3)
    texture = float(np.hypot(gradient_x, gradient_y)[field].mean())

    return np.array(
        [
            liver_area / n_field,
            float(np.abs(2.0 * liver[field] - 1.0).mean()),
            main_share,
            components,
            liver_x,
            liver_y,
            tumor_area / n_field,
            float(tumor[tumor_mask].mean()) if tumor_area else 0.0,
            blush_liver,
            blush_outside,
            change_fraction,
            peak_time,
            motion,
            texture,
        ],
        dtype=np.float64,
    )


def _motion(clip: np.ndarray, field: np.ndarray) -> float:
    """Mean |difference| of adjacent frames in 4 x 4 blocks of the field (1/8 model size)."""
    if len(clip) < 2:
        return 0.0
    height, width = field.shape
    size = (width // 4, height // 4)
    blocks = np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in clip])
    inside = cv2.resize(field.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.99
    if not inside.any():
        return 0.0
    return float(np.abs(np.diff(blocks, axis=0))[:, inside].mean())


def scope_score(features: np.ndarray) -> float | None:
    """P(hepatic DSA run) from :func:`scope_features`, by the fitted logistic regression;
    None while no fit for these features exists."""
    if tuple(scope_fit.FEATURES) != FEATURES:
        return None
    return logistic(
        np.asarray(features, dtype=np.float64),
        scope_fit.MEAN,
        scope_fit.SCALE,
        scope_fit.COEFFICIENTS,
        scope_fit.INTERCEPT,
    )


def logistic(
    features: np.ndarray,
    mean: tuple[float, ...],
    scale: tuple[float, ...],
    coefficients: tuple[float, ...],
    intercept: float,
) -> float:
    """sigmoid(w . (x - mean) / scale + b); also used by the fitting to check itself."""
    z = (features - np.asarray(mean)) / np.asarray(scale)
    logit = float(np.dot(np.asarray(coefficients), z) + intercept)
    return float(1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0))))


def threshold() -> float:
    """Scores below this are out of scope (chosen when fitting: see docs/evaluation.md)."""
    return float(scope_fit.THRESHOLD)
