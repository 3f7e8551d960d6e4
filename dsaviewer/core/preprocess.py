"""DSA-Net preprocessing with an exact way back: find the exposed field, crop, normalise, resize.

The paper removes the black border around the collimated field (median filter, then a
threshold), min-max normalises and resizes to 256 x 256. Everything the models predict lives
in that cropped, resized space, so :class:`ModelGeometry` keeps the crop box and the model size
and the mask functions here map between model space and original frame pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field

import cv2
import numpy as np

from dsaviewer.core.polarity import contrast_is_dark
from dsaviewer.errors import InputError

MODEL_SIZE = 256

# The border is black whatever the display polarity: a filtered pixel at or below this
# fraction of the white level counts as black even when no darker pixel exists.
_NEAR_BLACK = 0.10
# The field starts this far up from the black level towards the bright level: low enough that
# a dark field background (inverted display) stays in, high enough to clear border noise.
_FIELD_STEP = 0.15
# Below these the clip has no field to find.
_MIN_CONTRAST = 0.02
_MIN_FIELD_FRACTION = 0.01
_MEDIAN_KERNEL = 5
# The opening that cuts rulers and text strokes (a few pixels wide) off the field; the field
# itself, hundreds of pixels across, loses nothing but sub-pixel collimator corners.
_MIN_OPENING = 7
_OPENING_FRACTION = 0.015
# Rows (columns) of the field region narrower than this fraction of its widest are left out
# of the box. On a round collimator that trims well under a pixel.
_MIN_SPAN_FRACTION = 0.05
# Model input is clipped to these percentiles of the clip's field pixels, not its raw min and
# max: burned-in markers, a bright catheter tip or a dead pixel would otherwise set the range
# and squash the tissue contrast. At most 1 % of pixels saturate.
_WINDOW_PERCENTILES = (0.5, 99.5)


@dataclass(frozen=True)
class FieldBox:
    """The exposed field: rows ``y0:y1`` and columns ``x0:x1`` (half-open), original pixels."""

    y0: int
    y1: int
    x0: int
    x1: int

    def __post_init__(self) -> None:
        if not (0 <= self.y0 < self.y1 and 0 <= self.x0 < self.x1):
            raise ValueError(f"empty or negative field box {self}")

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index the last two axes of a frame or frame stack: ``frames[..., *box.slices]``."""
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


@dataclass(frozen=True)
class ModelGeometry:
    """Everything needed to go between original frames and the square model input.

    ``outside`` marks the model pixels of the box that lie outside the exposed field (the
    corners of a round collimator), which :func:`to_model` keeps black; None when the field
    fills its box.
    """

    field: FieldBox
    frame_shape: tuple[int, int]
    size: int = MODEL_SIZE
    outside: np.ndarray | None = dataclass_field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        height, width = self.frame_shape
        if self.field.y1 > height or self.field.x1 > width:
            raise ValueError(f"field {self.field} lies outside frames of shape {self.frame_shape}")
        if self.size < 1:
            raise ValueError(f"model size must be positive, not {self.size}")
        if self.outside is not None and self.outside.shape != (self.size, self.size):
            raise ValueError(f"outside mask shape {self.outside.shape} is not the model size")

    @property
    def scale(self) -> tuple[float, float]:
        """Model pixels per original pixel, (rows, columns)."""
        return self.size / self.field.height, self.size / self.field.width


def as_frame_stack(frames: np.ndarray, name: str = "frames") -> np.ndarray:
    """``frames`` as a non-empty ``(T, H, W)`` array (a single ``(H, W)`` frame gets T = 1)."""
    stack = np.asarray(frames)
    if stack.ndim == 2:
        stack = stack[np.newaxis]
    if stack.ndim != 3 or 0 in stack.shape:
        raise InputError(
            f"expected grey frames shaped (T, H, W) or (H, W), got shape {stack.shape}", name
        )
    if not (np.issubdtype(stack.dtype, np.integer) or np.issubdtype(stack.dtype, np.floating)):
        raise InputError(f"expected integer or float pixels, got {stack.dtype}", name)
    return stack


def find_field(frames: np.ndarray, white_level: float | None = None) -> FieldBox:
    """The bounding box of the exposed (collimated) field of a clip or a single frame.

    The frames' temporal maximum is median filtered (the paper's step: it wipes out border
    noise) and thresholded a little above the black level; thin bridges (burned-in text
    touching the field) are cut by a small opening, and the box is that of the largest bright
    connected region, so text, markers and round collimators do not widen it. The maximum
    over time keeps a dark frame, or dark contrast, from carving holes in the field.

    ``white_level`` is the value of full white (``Video.max_value``); by default the dtype's
    (1.0 for floats, the smallest ``2**n - 1`` holding the data for 16-bit). Raises InputError
    for a blank clip or one that is all border.
    """
    box, _ = _field_region(as_frame_stack(frames), white_level)
    return box


def make_geometry(
    frames: np.ndarray, size: int = MODEL_SIZE, white_level: float | None = None
) -> ModelGeometry:
    """The model geometry of a clip: its field box, frame shape, model size and the model
    pixels outside a round field."""
    stack = as_frame_stack(frames)
    box, region = _field_region(stack, white_level)
    # The median filter cuts a few pixels off each corner of a rectangular field; the opening
    # drops such slivers and keeps the true corners outside a round field.
    kernel = np.ones((_MEDIAN_KERNEL, _MEDIAN_KERNEL), dtype=np.uint8)
    outside_box = cv2.morphologyEx((~region).astype(np.uint8), cv2.MORPH_OPEN, kernel)
    resized = cv2.resize(outside_box.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    outside = resized > 0.5
    height, width = stack.shape[1:]
    return ModelGeometry(
        field=box,
        frame_shape=(height, width),
        size=size,
        outside=outside if outside.any() else None,
    )


def _field_region(stack: np.ndarray, white_level: float | None) -> tuple[FieldBox, np.ndarray]:
    """The field box and, inside it, the field's own pixels (holes filled)."""
    brightest = stack.max(axis=0)
    white = _white_level(brightest, white_level)
    summary = _to_uint8(brightest, white)
    filtered = cv2.medianBlur(summary, _MEDIAN_KERNEL)

    black_level, bright_level = _percentiles_uint8(filtered, (1.0, 99.5))
    near_black = _NEAR_BLACK * 255
    if bright_level <= near_black:
        raise InputError(
            f"frames are all border: no region brighter than near-black "
            f"(brightest filtered value {bright_level * white / 255:.4g} of white {white:.4g})",
            "frames",
        )
    if bright_level - black_level < _MIN_CONTRAST * 255:
        raise InputError(
            f"frames are blank: every pixel is about {bright_level * white / 255:.4g}", "frames"
        )
    # Without a black border the darkest pixels are field, so the black level is capped.
    black_level = min(black_level, near_black)
    threshold = black_level + _FIELD_STEP * (bright_level - black_level)
    bright = (filtered > threshold).astype(np.uint8)
    kernel_size = max(_MIN_OPENING, round(_OPENING_FRACTION * min(bright.shape))) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (kernel_size, kernel_size))
    bright = cv2.morphologyEx(bright, cv2.MORPH_OPEN, kernel)

    count, labels, stats, _ = cv2.connectedComponentsWithStats(bright, connectivity=8)
    if count < 2:
        raise InputError("no exposed field found: nothing is left above the border", "frames")
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, width, height, area = (int(value) for value in stats[largest])
    if area < _MIN_FIELD_FRACTION * bright.size:
        raise InputError(
            f"no exposed field found: the largest bright region covers only "
            f"{100 * area / bright.size:.2g} % of the frame",
            "frames",
        )
    region = labels[y : y + height, x : x + width] == largest
    rows = _span(region.sum(axis=1))
    columns = _span(region.sum(axis=0))
    box = FieldBox(y0=y + rows[0], y1=y + rows[1], x0=x + columns[0], x1=x + columns[1])
    region = region[rows[0] : rows[1], columns[0] : columns[1]]
    return box, _filled(region)


def _filled(region: np.ndarray) -> np.ndarray:
    """``region`` with its holes filled: whatever the border cannot reach is field (a metal
    clip or a dense bone dark in every frame is still inside the exposed field)."""
    padded = np.pad(region.astype(np.uint8), 1)
    cv2.floodFill(padded, None, (0, 0), 2)
    return (padded != 2)[1:-1, 1:-1]


def _span(counts: np.ndarray) -> tuple[int, int]:
    """The half-open range of rows (or columns) that are a real part of the field: where a
    ruler or text stroke joins the field, the median filter leaves a small fillet that the
    opening cannot remove; its rows hold a few pixels against hundreds in the field's."""
    kept = np.flatnonzero(counts >= _MIN_SPAN_FRACTION * counts.max())
    return int(kept[0]), int(kept[-1]) + 1


def to_model(
    frames: np.ndarray, geometry: ModelGeometry, contrast_bright: bool | None = None
) -> np.ndarray:
    """Crop to the field, normalise to [0, 1] and resize (INTER_AREA) to the model size.

    One intensity window for the whole clip, so differences between frames keep their size
    (pass the whole clip, not one frame at a time). The output always shows contrast bright
    on dark: ``contrast_bright`` says whether the input already does; None detects it
    (:func:`~dsaviewer.core.polarity.contrast_is_dark`). The intensity window is taken inside
    the field only, and what lies outside a round field stays 0. Returns float32 ``(T, S, S)``
    for a stack, ``(S, S)`` for a single frame.
    """
    single = np.asarray(frames).ndim == 2
    stack = as_frame_stack(frames)
    _check_frame_shape(stack.shape[1:], geometry, "frames")
    if contrast_bright is None:
        contrast_bright = not contrast_is_dark(stack, geometry.field)

    crop = stack[(slice(None), *geometry.field.slices)]
    size = (geometry.size, geometry.size)
    # Resizing first and normalising the small result is the same affine map (INTER_AREA
    # weights sum to one) at a fraction of the memory of a float copy of the clip.
    model = np.empty((stack.shape[0], *size), dtype=np.float32)
    for index, frame in enumerate(crop):
        model[index] = cv2.resize(
            frame.astype(np.float32, copy=False), size, interpolation=cv2.INTER_AREA
        )

    sample = model[:, ::2, ::2]
    if geometry.outside is not None:
        sample = sample[:, ~geometry.outside[::2, ::2]]
    low, high = np.percentile(sample, _WINDOW_PERCENTILES)
    if high > low:
        model -= np.float32(low)
        model *= np.float32(1.0 / (high - low))
        np.clip(model, 0.0, 1.0, out=model)
    else:
        model.fill(0.0)
    if not contrast_bright:
        np.subtract(1.0, model, out=model)
    if geometry.outside is not None:
        model[:, geometry.outside] = 0.0  # the border stays black whatever the polarity
    return model[0] if single else model


def mask_to_frame(mask: np.ndarray, geometry: ModelGeometry) -> np.ndarray:
    """A model-size mask or probability map placed on the original frame, zeros outside.

    Any non-boolean array is a probability map, resized linearly into the field box
    (float32). A boolean mask stays
    boolean and maps by pixel centres: each original pixel takes the model pixel its centre
    falls in. That makes :func:`mask_to_model` its exact inverse whenever the field box is at
    least the model size on each side (the usual case, 3-4 original pixels per model pixel),
    which thresholding a linear resize is not: it rounds off corners and single pixels.
    """
    model_mask = _checked_model_mask(mask, geometry)
    field = geometry.field
    box_size = (field.width, field.height)
    if model_mask.dtype == bool:
        frame = np.zeros(geometry.frame_shape, dtype=bool)
        frame[field.slices] = _resize_boolean(model_mask, box_size)
    else:
        frame = np.zeros(geometry.frame_shape, dtype=np.float32)
        frame[field.slices] = cv2.resize(
            model_mask.astype(np.float32), box_size, interpolation=cv2.INTER_LINEAR
        )
    return frame


def mask_to_model(mask: np.ndarray, geometry: ModelGeometry) -> np.ndarray:
    """An original-size mask or probability map in model space; outside the field is dropped.

    Probabilities are area-averaged (float32). A boolean mask stays boolean and is sampled at
    the model pixels' centres, the inverse of :func:`mask_to_frame`: a mask that came from
    model space returns unchanged, any other mask moves by less than one model pixel.
    """
    frame_mask = np.asarray(mask)
    if frame_mask.ndim != 2:
        raise InputError(f"expected a 2-D mask, got shape {frame_mask.shape}", "mask")
    _check_frame_shape(frame_mask.shape, geometry, "mask")
    crop = frame_mask[geometry.field.slices]
    model_size = (geometry.size, geometry.size)
    if frame_mask.dtype == bool:
        return _resize_boolean(crop, model_size)
    return cv2.resize(crop.astype(np.float32), model_size, interpolation=cv2.INTER_AREA)


def _resize_boolean(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    # INTER_NEAREST_EXACT maps pixel centres (plain INTER_NEAREST is off by half a pixel).
    resized = cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST_EXACT)
    return resized.astype(bool)


def _checked_model_mask(mask: np.ndarray, geometry: ModelGeometry) -> np.ndarray:
    model_mask = np.asarray(mask)
    if model_mask.shape != (geometry.size, geometry.size):
        raise InputError(
            f"expected a {geometry.size}x{geometry.size} model mask, got shape {model_mask.shape}",
            "mask",
        )
    return model_mask


def _check_frame_shape(shape: tuple[int, ...], geometry: ModelGeometry, name: str) -> None:
    if tuple(shape) != tuple(geometry.frame_shape):
        raise InputError(
            f"frame size {tuple(shape)} differs from the geometry's {geometry.frame_shape}", name
        )


def _white_level(image: np.ndarray, white_level: float | None) -> float:
    if white_level is not None:
        if not white_level > 0:
            raise InputError(f"white level must be positive, not {white_level}", "white_level")
        return float(white_level)
    if image.dtype == np.uint8:
        return 255.0
    if np.issubdtype(image.dtype, np.floating):
        return 1.0
    # 16-bit containers usually hold 10 to 14 stored bits: white is the top of those.
    largest = max(int(image.max()), 255)
    return float((1 << largest.bit_length()) - 1)


def _to_uint8(image: np.ndarray, white: float) -> np.ndarray:
    if image.dtype == np.uint8 and white == 255.0:
        return image
    scaled = image.astype(np.float32) * np.float32(255.0 / white)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def _percentiles_uint8(image: np.ndarray, percents: tuple[float, ...]) -> list[float]:
    counts = np.bincount(image.ravel(), minlength=256)
    cumulative = np.cumsum(counts) / image.size
    return [float(np.searchsorted(cumulative, percent / 100.0)) for percent in percents]
