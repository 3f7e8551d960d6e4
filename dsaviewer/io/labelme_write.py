"""Writing Labelme JSON files: masks to shapes, and the file beside its PNG.

Writing: each connected component of a label's mask becomes one shape, the containing label
(``liver``) before the contained one (``tumor``): labelme's ``shapes_to_label``, behind its
conversion tools, paints later shapes over earlier ones, so the other order would bury every
tumor under the liver. A hole-free component is traced as a ``polygon`` (OpenCV contour,
simplified with ``approxPolyDP`` to the given tolerance, or by default to the tolerance that
gives the fewest corners still within IoU 0.99 of the component). Labelme polygons cannot
hold holes, so a component with a hole, and one less than 3 pixels across (too small to be a
useful polygon), is written as a ``mask`` shape instead: labelme >= 5.3 stores it as the
inclusive bounding-box corners in ``points`` and a base64 PNG of the box's 0/1 crop in
``mask``. A simplified polygon that does not reproduce its component to
``_MIN_SIMPLIFIED_IOU`` (IoU 0.99) is retried at a smaller tolerance, then replaced by the
exact pixel contour, and a contour that does not reproduce the component exactly by a ``mask``
shape, so nothing is lost on the way to Labelme.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.io.labelme_format import LABELME_FORMAT_VERSION, LABELS
from dsaviewer.io.labelme_raster import rasterise_polygon
from dsaviewer.io.writers import replace_atomically

_MIN_SIMPLIFIED_IOU = 0.99
# Tried from the largest down; the passing one with the fewest corners is kept.
_AUTO_TOLERANCES_PX = (8.0, 5.6, 4.0, 2.8, 2.0, 1.4, 1.0, 0.7, 0.5)
_MIN_POLYGON_EXTENT_PX = 3


def masks_to_shapes(
    masks: Mapping[str, np.ndarray], tolerance_px: float | None = None
) -> list[dict]:
    """Labelme shape dicts for ``masks`` (label -> ``(H, W)`` bool), one per connected
    component (8-connected): the labels in the order of :data:`LABELS` (containing label
    first, whatever the order of ``masks``), then the components in the order of their first
    pixel.

    ``tolerance_px`` is the largest distance a simplified polygon edge may stray from the
    traced pixel boundary (``cv2.approxPolyDP``); 0 keeps every boundary pixel; None (the
    default) takes, per component, the polygon with the fewest corners whose area keeps
    IoU >= 0.99 with the component.
    """
    _checked_tolerance(tolerance_px)
    _checked_masks(masks)
    shapes: list[dict] = []
    for label in LABELS:
        if label in masks:
            shapes.extend(component_shapes(label, masks[label], tolerance_px))
    return shapes


def component_shapes(
    label: str, mask: np.ndarray, tolerance_px: float | None = None
) -> list[dict]:
    """The shapes of one label's ``mask``, one per connected component (see
    :func:`masks_to_shapes`)."""
    pixels = mask.astype(np.uint8)
    # Labelling only the box around the mask: a tumor mask is a small part of the frame.
    x0, y0, box_width, box_height = cv2.boundingRect(pixels)
    if box_width == 0:
        return []  # nothing labelled (and OpenCV crashes on an empty image)
    box = pixels[y0 : y0 + box_height, x0 : x0 + box_width]
    count, components, stats, _ = cv2.connectedComponentsWithStats(box, connectivity=8)
    shapes = []
    for index in range(1, count):
        left, top, width, height = (int(v) for v in stats[index, :4])
        crop = components[top : top + height, left : left + width] == index
        shapes.append(_component_shape(label, crop, (x0 + left, y0 + top), tolerance_px))
    return shapes


def _checked_tolerance(tolerance_px: float | None) -> None:
    if tolerance_px is not None and not (math.isfinite(tolerance_px) and tolerance_px >= 0):
        raise ValueError(f"tolerance_px must be None or a finite number >= 0, not {tolerance_px}")


def write_labelme(
    json_path: str | Path,
    image: np.ndarray,
    masks: Mapping[str, np.ndarray],
    flags: Mapping[str, bool] | None = None,
    tolerance_px: float | None = None,
) -> Path:
    """Write ``image`` as the PNG beside ``json_path`` (same name, ``.png``) and the Labelme
    5.x JSON whose ``imagePath`` names it; return the JSON path.

    ``image`` is ``(H, W)`` uint8 or uint16; ``masks`` maps ``tumor``/``liver`` to ``(H, W)``
    bool masks; ``flags`` are the image-level flags (``{"key_frame": True}`` on the key
    frame). Each file is replaced atomically, the image first, so the JSON never names a
    missing or half-written image.
    """
    target = Path(json_path)
    if target.suffix.lower() != ".json":
        raise ValueError(f"a Labelme file must end in .json, not {target.name!r}")
    image = np.asarray(image)
    if image.ndim != 2 or 0 in image.shape or image.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"image must be a non-empty (H, W) uint8 or uint16 array, not {image.dtype} "
            f"of shape {image.shape}"
        )
    shape = _checked_masks(masks)
    if shape is not None and shape != image.shape:
        raise ValueError(f"masks are {shape} but the image is {image.shape}")
    flags = dict(flags or {})
    for name, value in flags.items():
        if not isinstance(name, str) or not isinstance(value, bool):
            raise ValueError(f"flags must map names to True/False, not {name!r}: {value!r}")

    image_file = target.with_suffix(".png")
    document = {
        "version": LABELME_FORMAT_VERSION,
        "flags": flags,
        "shapes": masks_to_shapes(masks, tolerance_px),
        "imagePath": image_file.name,
        "imageData": None,
        "imageHeight": int(image.shape[0]),
        "imageWidth": int(image.shape[1]),
    }
    with replace_atomically(image_file) as temporary:
        temporary.write_bytes(encode_png(image))
    with replace_atomically(target) as temporary:
        temporary.write_text(
            json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return target


def _checked_masks(masks: Mapping[str, np.ndarray]) -> tuple[int, int] | None:
    shape = None
    for label, mask in masks.items():
        if label not in LABELS:
            raise ValueError(f"label must be one of {LABELS}, not {label!r}")
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.ndim != 2:
            raise ValueError(f"mask {label!r} must be a 2-D bool array")
        if shape is not None and mask.shape != shape:
            raise ValueError(f"mask {label!r} is {mask.shape}, the others are {shape}")
        shape = mask.shape
    return shape


def _component_shape(
    label: str, crop: np.ndarray, origin: tuple[int, int], tolerance_px: float | None
) -> dict:
    """One component (``crop``, its bounding box, at ``origin`` = (x, y)) as a shape dict."""
    height, width = crop.shape
    if min(height, width) >= _MIN_POLYGON_EXTENT_PX:
        polygon = _polygon_for(crop, tolerance_px)
        if polygon is not None:
            return _shape_dict(label, "polygon", polygon + np.asarray(origin))
    corners = np.array([origin, (origin[0] + width - 1, origin[1] + height - 1)])
    return _shape_dict(label, "mask", corners, mask=encode_png(crop.astype(np.uint8)))


def _polygon_for(crop: np.ndarray, tolerance_px: float | None) -> np.ndarray | None:
    """Vertices (x, y) of a polygon that Labelme fills back into ``crop``, or None."""
    # A background border, so a component touching its box is traced like any other.
    padded = np.pad(crop, 1).astype(np.uint8)
    contours, hierarchy = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if len(contours) != 1 or (hierarchy[0, :, 3] >= 0).any():
        return None  # the component has a hole
    contour = contours[0][:, 0, :] - 1
    if tolerance_px is None:
        tolerances = _AUTO_TOLERANCES_PX
    elif tolerance_px > 0:
        # Small components lose too much to the full tolerance; half of it often still pays.
        tolerances = (tolerance_px, tolerance_px / 2)
    else:
        tolerances = ()
    best = None
    for tolerance in tolerances:
        simplified = cv2.approxPolyDP(contours[0], tolerance, closed=True)[:, 0, :] - 1
        if best is not None and len(simplified) >= len(best):
            continue
        if len(simplified) >= 3 and _iou(rasterise_polygon(crop.shape, simplified), crop) >= (
            _MIN_SIMPLIFIED_IOU
        ):
            best = simplified
            if tolerance_px is not None:
                break
    if best is not None:
        return best
    if len(contour) >= 3 and np.array_equal(rasterise_polygon(crop.shape, contour), crop):
        return contour
    return None


def _shape_dict(label: str, shape_type: str, points: np.ndarray, mask: bytes | None = None) -> dict:
    # Key order and defaults as labelme's own "Save" writes them.
    return {
        "label": label,
        "points": [[float(x), float(y)] for x, y in points],
        "group_id": None,
        "description": "",
        "shape_type": shape_type,
        "flags": {},
        "mask": None if mask is None else base64.b64encode(mask).decode("ascii"),
    }


def encode_png(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image))
    if not ok:
        raise OSError("OpenCV could not encode a PNG")
    return encoded.tobytes()


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union
