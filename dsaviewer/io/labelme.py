"""Labelme JSON annotation files: the ``labels/NNNN.json`` of a case folder (DESIGN.md).

Writing (:mod:`dsaviewer.io.labelme_write`): one shape per connected component of a mask,
the liver before the tumor; see that module.

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

import os
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.labelme_format import KEY_FRAME_FLAG, LABELME_FORMAT_VERSION, LABELS
from dsaviewer.io.labelme_raster import (
    Canvas,
    b64decode,
    decode_image,
    need_points,
    outline_length,
    paint_shape,
    paste_mask,
)
from dsaviewer.io.labelme_write import component_shapes, encode_png, masks_to_shapes, write_labelme
from dsaviewer.io.limits import MAX_IMAGE_SIDE, MAX_LABELME_BYTES, check_no_null, read_json

__all__ = [  # the writer's and the format's names are part of this module's interface
    "KEY_FRAME_FLAG", "LABELME_FORMAT_VERSION", "LABELS", "MAX_OUTLINE_PX", "MAX_SHAPE_POINTS",
    "LabelmeAnnotation", "component_shapes", "encode_png", "masks_to_shapes", "read_labelme",
    "read_labelme_json", "shape_mask", "write_labelme",
]

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

    canvases = {label: Canvas(image_shape) for label in LABELS}
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
        outline_px += outline_length(points)
        if outline_px > MAX_OUTLINE_PX:
            raise InputError(
                f"{where}: the shapes' outlines add up to more than {MAX_OUTLINE_PX} pixels; "
                "the file is damaged or not hand-drawn annotation",
                path,
            )
        if shape_type == "mask":
            need_points(points, 2, shape_type, path, where)
            paste_mask(pasted[known], shape, points, path, where)
        elif not paint_shape(canvases[known], shape_type, points, path, where):
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
        image = decode_image(b64decode(image_data, path, "'imageData'"), path)
        if image is None:
            raise InputError("'imageData' does not hold a readable image", path)
        return image.shape[0], image.shape[1]
    if image_path is None:
        raise InputError("no image size: imageHeight/imageWidth, imageData, imagePath absent", path)
    try:
        image = decode_image(np.fromfile(image_path, dtype=np.uint8).tobytes(), image_path)
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


def shape_mask(shape: dict, image_shape: tuple[int, int]) -> np.ndarray | None:
    """The pixels of one ``tumor``/``liver`` shape dict as labelme paints it on an image of
    ``image_shape``; None for a shape without area. InputError for a malformed shape."""
    where = f"shape '{shape.get('label')}'"
    source = Path("<shape>")
    points = _points(shape, source, where, image_shape)
    shape_type = shape.get("shape_type") or "polygon"
    if shape_type == "mask":
        need_points(points, 2, shape_type, source, where)
        pixels = np.zeros(image_shape, dtype=bool)
        paste_mask(pixels, shape, points, source, where)
        return pixels
    canvas = Canvas(image_shape)
    if not paint_shape(canvas, shape_type, points, source, where):
        return None
    return canvas.mask()
