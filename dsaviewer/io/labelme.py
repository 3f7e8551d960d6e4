"""Labelme JSON annotation files: the ``labels/NNNN.json`` of a case folder (DESIGN.md).

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

Reading: polygon, rectangle, circle and mask shapes are rasterised exactly as labelme does it
(``labelme.utils.shape_to_mask``): with Pillow's ``ImageDraw``, filled with ``outline=1,
fill=1``, so a file reads to the same pixels in both programs. Shapes with no area
(line, linestrip, point) are reported in ``unsupported_shapes``, never silently dropped, and
labels other than ``tumor``/``liver`` (compared case-insensitively) in ``unknown_labels``.

Reading is bounded (:mod:`dsaviewer.io.limits`): the JSON's size, depth and numbers; at most
:data:`MAX_SHAPE_POINTS` points per shape and :data:`MAX_OUTLINE_PX` pixels of outline per file
(rasterising costs time in proportion to it; real outlines run to thousands of pixels); every
point within one image size of the image. ``imagePath`` must stay inside the case folder.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.image_header import check_image_header
from dsaviewer.io.limits import MAX_IMAGE_SIDE, MAX_LABELME_BYTES, check_no_null, read_json
from dsaviewer.io.writers import replace_atomically

LABELS = ("liver", "tumor")
KEY_FRAME_FLAG = "key_frame"
# The labelme release whose reader our compatibility tests load these files with.
LABELME_FORMAT_VERSION = "5.9.1"

_MIN_SIMPLIFIED_IOU = 0.99
# Tried from the largest down; the passing one with the fewest corners is kept.
_AUTO_TOLERANCES_PX = (8.0, 5.6, 4.0, 2.8, 2.0, 1.4, 1.0, 0.7, 0.5)
_MIN_POLYGON_EXTENT_PX = 3
_AREALESS_SHAPE_TYPES = ("line", "linestrip", "point", "points")
# Far beyond any image, small enough for exact int64 and float32 arithmetic below.
_MAX_COORDINATE = 1e6
_MAX_IMAGE_SIDE = MAX_IMAGE_SIDE
MAX_SHAPE_POINTS = 100_000
MAX_OUTLINE_PX = 2_000_000


@dataclass(frozen=True)
class LabelmeAnnotation:
    """One Labelme file as read.

    ``masks`` maps every label of :data:`LABELS` to a ``(H, W)`` bool mask at image size (all
    False when the file has no shape of that label), the union of that label's shapes.
    ``image_path`` is the image named by ``imagePath``, resolved beside the JSON file (None
    when the file names none). ``unknown_labels`` are the other labels found, as written;
    ``unsupported_shapes`` describes each shape that could not be turned into pixels.
    """

    masks: dict[str, np.ndarray]
    flags: dict[str, bool]
    image_shape: tuple[int, int]
    image_path: Path | None
    unknown_labels: tuple[str, ...] = ()
    unsupported_shapes: tuple[str, ...] = ()

    @property
    def is_key_frame(self) -> bool:
        return bool(self.flags.get(KEY_FRAME_FLAG, False))


# --------------------------------------------------------------------------------------------
# Writing


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
    count, components, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    shapes = []
    for index in range(1, count):
        left, top, width, height = (int(v) for v in stats[index, :4])
        crop = components[top : top + height, left : left + width] == index
        shapes.append(_component_shape(label, crop, (left, top), tolerance_px))
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
        if len(simplified) >= 3 and _iou(_rasterise_polygon(crop.shape, simplified), crop) >= (
            _MIN_SIMPLIFIED_IOU
        ):
            best = simplified
            if tolerance_px is not None:
                break
    if best is not None:
        return best
    if len(contour) >= 3 and np.array_equal(_rasterise_polygon(crop.shape, contour), crop):
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


# --------------------------------------------------------------------------------------------
# Reading


def read_labelme(json_path: str | Path) -> LabelmeAnnotation:
    """Read a Labelme file (any 5.x or 6.x, and older files without ``shape_type``).

    Raises :class:`InputError` naming the file and the problem for unreadable JSON, missing
    or mistyped keys, and shapes whose points cannot make that shape.
    """
    path = Path(json_path)
    with reader_boundary(path, "Labelme file"):
        return _read_labelme(path, read_labelme_json(path))


def read_labelme_json(path: Path) -> Any:
    """The parsed JSON of a Labelme file, read under the size, depth and number limits."""
    with reader_boundary(path, "Labelme file"):
        return read_json(path, MAX_LABELME_BYTES)


def _read_labelme(path: Path, document: Any) -> LabelmeAnnotation:
    if not isinstance(document, dict):
        raise InputError("a Labelme file holds a JSON object at the top level", path)

    shapes = _required(document, "shapes", list, path)
    flags = document.get("flags") or {}
    if not isinstance(flags, dict) or not all(
        isinstance(name, str) and isinstance(value, bool) for name, value in flags.items()
    ):
        raise InputError(f"'flags' must map names to true/false, not {flags!r}", path)
    image_path = _image_path(document, path)
    image_shape = _image_shape(document, image_path, path)

    canvases = {label: _Canvas(image_shape) for label in LABELS}
    pasted = {label: np.zeros(image_shape, dtype=bool) for label in LABELS}
    unknown_labels: list[str] = []
    unsupported: list[str] = []
    outline_px = 0.0
    for number, shape in enumerate(shapes):
        where = f"shape {number}"
        if not isinstance(shape, dict):
            raise InputError(f"{where} must be a JSON object, not {shape!r}", path)
        label = _required(shape, "label", str, path, where)
        shape_type = shape.get("shape_type") or "polygon"
        if not isinstance(shape_type, str):
            raise InputError(f"{where} ('{label}'): 'shape_type' must be a string", path)
        known = label.strip().lower()
        if known not in LABELS:
            if label not in unknown_labels:
                unknown_labels.append(label)
            continue
        where = f"{where} ('{label}')"
        points = _points(shape, path, where, image_shape)
        outline_px += _outline_length(points)
        if outline_px > MAX_OUTLINE_PX:
            raise InputError(
                f"{where}: the shapes' outlines add up to more than {MAX_OUTLINE_PX} pixels; "
                "the file is damaged or not hand-drawn annotation",
                path,
            )
        if shape_type == "mask":
            _need_points(points, 2, shape_type, path, where)
            _paste_mask(pasted[known], shape, points, path, where)
        elif not _paint_shape(canvases[known], shape_type, points, path, where):
            unsupported.append(f"{where}: shape type '{shape_type}' has no area")
    return LabelmeAnnotation(
        masks={label: canvases[label].mask() | pasted[label] for label in LABELS},
        flags=dict(flags),
        image_shape=image_shape,
        image_path=image_path,
        unknown_labels=tuple(unknown_labels),
        unsupported_shapes=tuple(unsupported),
    )


def _required(mapping: dict, key: str, kind: type, path: Path, where: str = "") -> Any:
    prefix = f"{where}: " if where else ""
    if key not in mapping:
        raise InputError(f"{prefix}the key '{key}' is missing", path)
    value = mapping[key]
    if not isinstance(value, kind):
        raise InputError(
            f"{prefix}'{key}' must be a {kind.__name__}, not {type(value).__name__}", path
        )
    return value


def _image_path(document: dict, path: Path) -> Path | None:
    name = document.get("imagePath")
    if name is None or name == "":
        return None
    if not isinstance(name, str):
        raise InputError(f"'imagePath' must be a string, not {name!r}", path)
    check_no_null(name, "'imagePath'", path)
    # Files saved on Windows name the image with backslashes.
    relative = PureWindowsPath(name)
    if relative.is_absolute() or relative.drive or name.startswith("/"):
        raise InputError(f"'imagePath' {name!r} must be relative to the Labelme file", path)
    # labels/NNNN.json may name ../frames/NNNN.png, but nothing outside the case folder.
    inside = os.path.normpath(os.path.join("labels", relative.as_posix()))
    if inside == ".." or inside.startswith("../"):
        raise InputError(f"'imagePath' {name!r} points outside the case folder", path)
    return path.parent / relative.as_posix()


def _image_shape(document: dict, image_path: Path | None, path: Path) -> tuple[int, int]:
    height, width = document.get("imageHeight"), document.get("imageWidth")
    if height is not None or width is not None:
        for key, value in (("imageHeight", height), ("imageWidth", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"'{key}' must be a positive integer, not {value!r}", path)
            if value > _MAX_IMAGE_SIDE:
                raise InputError(f"'{key}' {value} is beyond {_MAX_IMAGE_SIDE} pixels", path)
        return height, width
    image_data = document.get("imageData")
    if image_data:
        if not isinstance(image_data, str):
            raise InputError("'imageData' must be a base64 string", path)
        image = _decode_image(_b64decode(image_data, path, "'imageData'"), path)
        if image is None:
            raise InputError("'imageData' does not hold a readable image", path)
        return image.shape[0], image.shape[1]
    if image_path is None:
        raise InputError("no image size: imageHeight/imageWidth, imageData, imagePath absent", path)
    try:
        image = _decode_image(np.fromfile(image_path, dtype=np.uint8).tobytes(), image_path)
    except OSError as error:
        raise InputError(
            f"cannot read the image {image_path} for its size: {error}", path
        ) from error
    if image is None:
        raise InputError(f"the image {image_path} cannot be decoded", path)
    return image.shape[0], image.shape[1]


def _points(shape: dict, path: Path, where: str, image_shape: tuple[int, int]) -> np.ndarray:
    points = _required(shape, "points", list, path, where)
    if len(points) > MAX_SHAPE_POINTS:
        raise InputError(
            f"{where}: {len(points)} points; a shape may have at most {MAX_SHAPE_POINTS}", path
        )
    valid = all(
        isinstance(point, list | tuple)
        and len(point) == 2
        and all(
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and abs(value) <= _MAX_COORDINATE
            for value in point
        )
        for point in points
    )
    if not valid:
        raise InputError(
            f"{where}: 'points' must be a list of [x, y] numbers within ±{_MAX_COORDINATE:g}", path
        )
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    # A point may lie a little outside the image (dragged past the edge), not far beyond it:
    # drawing a circle a million pixels wide would take minutes.
    height, width = image_shape
    beyond = (array[:, 0] < -width) | (array[:, 0] > 2 * width)
    beyond |= (array[:, 1] < -height) | (array[:, 1] > 2 * height)
    if beyond.any():
        x, y = array[np.argmax(beyond)]
        raise InputError(
            f"{where}: the point ({x:g}, {y:g}) lies more than an image size outside the "
            f"{width}×{height} image",
            path,
        )
    return array


def _outline_length(points: np.ndarray) -> float:
    if len(points) < 2:
        return 0.0
    closed = np.vstack([points, points[:1]])
    return float(np.hypot(*np.diff(closed, axis=0).T).sum())


def _paint_shape(canvas: _Canvas, shape_type: str, points: np.ndarray, path: Path, where: str):
    """Paint a polygon, rectangle or circle as labelme rasterises it; False for no area."""
    if shape_type in ("polygon", "oriented_rectangle"):
        _need_points(points, 3, shape_type, path, where, at_least=True)
        canvas.polygon(points)
    elif shape_type == "rectangle":
        _need_points(points, 2, shape_type, path, where)
        canvas.rectangle(points)
    elif shape_type == "circle":
        _need_points(points, 2, shape_type, path, where)
        canvas.circle(points)
    elif shape_type in _AREALESS_SHAPE_TYPES:
        return False
    else:
        raise InputError(f"{where}: unknown shape type '{shape_type}'", path)
    return True


def _need_points(
    points: np.ndarray, count: int, shape_type: str, path: Path, where: str, at_least=False
) -> None:
    if (len(points) < count) if at_least else (len(points) != count):
        wanted = f"at least {count}" if at_least else f"{count}"
        raise InputError(
            f"{where}: a {shape_type} needs {wanted} points, it has {len(points)}", path
        )


def _paste_mask(
    pixels: np.ndarray, shape: dict, points: np.ndarray, path: Path, where: str
) -> None:
    encoded = shape.get("mask")
    if not isinstance(encoded, str) or not encoded:
        raise InputError(f"{where}: a mask shape needs 'mask', a base64 PNG", path)
    crop = _decode_image(_b64decode(encoded, path, f"{where}: 'mask'"), path)
    if crop is None:
        raise InputError(f"{where}: 'mask' does not hold a readable image", path)
    if crop.ndim == 3:
        crop = crop.any(axis=2)
    # labelme: (x1, y1), (x2, y2) = points.astype(int); label[y1:y2 + 1, x1:x2 + 1] = mask
    (x1, y1), (x2, y2) = np.trunc(points).astype(np.int64)
    height, width = pixels.shape
    if not (0 <= x1 <= x2 < width and 0 <= y1 <= y2 < height):
        raise InputError(f"{where}: the mask box {points.tolist()} is outside the image", path)
    if crop.shape[:2] != (y2 - y1 + 1, x2 - x1 + 1):
        raise InputError(
            f"{where}: the mask is {crop.shape[1]}x{crop.shape[0]} pixels but its box is "
            f"{x2 - x1 + 1}x{y2 - y1 + 1}",
            path,
        )
    pixels[y1 : y2 + 1, x1 : x2 + 1] |= crop != 0


def _b64decode(text: str, path: Path, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as error:
        raise InputError(f"{what} is not valid base64: {error}", path) from error


def _decode_image(data: bytes, source: Path | None = None) -> np.ndarray | None:
    """The image in ``data``; None when it is not one. InputError naming ``source`` when its
    header declares a size beyond the limit."""
    if not data:
        return None
    check_image_header(data, source or "image")
    try:
        return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None


# --------------------------------------------------------------------------------------------
# Rasterisation: Pillow's ImageDraw, called as labelme.utils.shape_to_mask calls it.


class _Canvas:
    """One label's shapes drawn on a Pillow image, as labelme draws them."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self._image = Image.new("L", (shape[1], shape[0]), 0)
        self._draw = ImageDraw.Draw(self._image)

    def polygon(self, points: np.ndarray) -> None:
        self._draw.polygon([tuple(point) for point in points.tolist()], outline=1, fill=1)

    def rectangle(self, points: np.ndarray) -> None:
        # Corners in either order: labelme >= 6 sorts them, Pillow refuses unsorted ones.
        (x0, y0), (x1, y1) = np.sort(points, axis=0).tolist()
        self._draw.rectangle([x0, y0, x1, y1], outline=1, fill=1)

    def circle(self, points: np.ndarray) -> None:
        """labelme's circle: the centre and a point on the rim."""
        (cx, cy), (px, py) = points.tolist()
        radius = math.hypot(cx - px, cy - py)
        self._draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=1, fill=1)

    def mask(self) -> np.ndarray:
        return np.asarray(self._image, dtype=np.uint8) != 0


def _rasterise_polygon(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    canvas = _Canvas(shape)
    canvas.polygon(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    return canvas.mask()


def shape_mask(shape: dict, image_shape: tuple[int, int]) -> np.ndarray | None:
    """The pixels of one ``tumor``/``liver`` shape dict as labelme paints it on an image of
    ``image_shape``; None for a shape without area. InputError for a malformed shape."""
    where = f"shape '{shape.get('label')}'"
    source = Path("<shape>")
    points = _points(shape, source, where, image_shape)
    shape_type = shape.get("shape_type") or "polygon"
    if shape_type == "mask":
        _need_points(points, 2, shape_type, source, where)
        pixels = np.zeros(image_shape, dtype=bool)
        _paste_mask(pixels, shape, points, source, where)
        return pixels
    canvas = _Canvas(image_shape)
    if not _paint_shape(canvas, shape_type, points, source, where):
        return None
    return canvas.mask()
