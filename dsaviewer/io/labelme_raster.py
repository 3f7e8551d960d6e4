"""Labelme shapes to pixels, exactly as labelme paints them (Pillow's ImageDraw, called as
``labelme.utils.shape_to_mask`` calls it), and the base64/PNG decoding they need. Qt-free;
:mod:`dsaviewer.io.labelme` validates the documents and calls these."""

from __future__ import annotations

import base64
import binascii
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from dsaviewer.errors import InputError
from dsaviewer.io.image_header import check_image_header

AREALESS_SHAPE_TYPES = ("line", "linestrip", "point", "points")


class Canvas:
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


def rasterise_polygon(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    canvas = Canvas(shape)
    canvas.polygon(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    return canvas.mask()


def outline_length(points: np.ndarray) -> float:
    if len(points) < 2:
        return 0.0
    closed = np.vstack([points, points[:1]])
    return float(np.hypot(*np.diff(closed, axis=0).T).sum())


def paint_shape(canvas: Canvas, shape_type: str, points: np.ndarray, path: Path, where: str):
    """Paint a polygon, rectangle or circle as labelme rasterises it; False for no area."""
    if shape_type in ("polygon", "oriented_rectangle"):
        need_points(points, 3, shape_type, path, where, at_least=True)
        canvas.polygon(points)
    elif shape_type == "rectangle":
        need_points(points, 2, shape_type, path, where)
        canvas.rectangle(points)
    elif shape_type == "circle":
        need_points(points, 2, shape_type, path, where)
        canvas.circle(points)
    elif shape_type in AREALESS_SHAPE_TYPES:
        return False
    else:
        raise InputError(f"{where}: unknown shape type '{shape_type}'", path)
    return True


def need_points(
    points: np.ndarray, count: int, shape_type: str, path: Path, where: str, at_least=False
) -> None:
    if (len(points) < count) if at_least else (len(points) != count):
        wanted = f"at least {count}" if at_least else f"{count}"
        raise InputError(
            f"{where}: a {shape_type} needs {wanted} points, it has {len(points)}", path
        )


def paste_mask(
    pixels: np.ndarray, shape: dict, points: np.ndarray, path: Path, where: str
) -> None:
    encoded = shape.get("mask")
    if not isinstance(encoded, str) or not encoded:
        raise InputError(f"{where}: a mask shape needs 'mask', a base64 PNG", path)
    crop = decode_image(b64decode(encoded, path, f"{where}: 'mask'"), path)
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


def b64decode(text: str, path: Path, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as error:
        raise InputError(f"{what} is not valid base64: {error}", path) from error


def decode_image(data: bytes, source: Path | None = None) -> np.ndarray | None:
    """The image in ``data``; None when it is not one. InputError naming ``source`` when its
    header declares a size beyond the limit."""
    if not data:
        return None
    check_image_header(data, source or "image")
    try:
        return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
