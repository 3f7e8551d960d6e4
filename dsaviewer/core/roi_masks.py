"""Regions of interest drawn on an image, as boolean masks of the image's size: rectangles,
ellipses and polygons in pixel coordinates (x to the right, y down)."""

from __future__ import annotations

import cv2
import numpy as np

from dsaviewer.errors import InputError

ROI_KINDS = ("rectangle", "ellipse", "polygon")


def roi_mask(kind: str, points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The ``(H, W)`` mask of a region.

    ``rectangle`` and ``ellipse``: ``points`` are two opposite corners of the (bounding) box;
    ``polygon``: three or more vertices. Parts outside the image are cut off.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if kind not in ROI_KINDS:
        raise InputError(f"unknown region kind {kind!r}; expected one of {ROI_KINDS}", "region")
    canvas = np.zeros(shape, np.uint8)
    if kind == "polygon":
        if len(points) < 3:
            raise InputError(f"a polygon needs 3 or more vertices, got {len(points)}", "region")
        cv2.fillPoly(canvas, [np.rint(points).astype(np.int32)], 1)
        return canvas.astype(bool)
    if len(points) != 2:
        raise InputError(f"a {kind} is given by two corners, got {len(points)} points", "region")
    (x0, y0), (x1, y1) = np.sort(points, axis=0)
    if kind == "rectangle":
        rows = slice(max(0, int(np.ceil(y0))), max(0, int(np.floor(y1)) + 1))
        columns = slice(max(0, int(np.ceil(x0))), max(0, int(np.floor(x1)) + 1))
        canvas[rows, columns] = 1
        return canvas.astype(bool)
    yy, xx = np.ogrid[: shape[0], : shape[1]]
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, max((x1 - x0) / 2, 0.5), max((y1 - y0) / 2, 0.5)
    return ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
