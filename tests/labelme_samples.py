"""Labelme documents and masks the Labelme tests share: a frame, every kind of component the
writer must handle, documents written by hand. (No tests here.)"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import cv2
import numpy as np

from dsaviewer.io.labelme import shape_mask

HEIGHT, WIDTH = 160, 200


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / max(np.count_nonzero(a | b), 1)


def hard_masks() -> dict[str, np.ndarray]:
    """Every kind of component the writer must handle: a liver with a hole, a large tumor, a
    thin diagonal one, one pixel, a 2-pixel sliver, a small disc and a ring."""
    liver = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.ellipse(liver, (100, 85), (80, 60), 15, 0, 360, 1, -1)
    cv2.circle(liver, (70, 80), 9, 0, -1)
    tumor = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.circle(tumor, (130, 70), 22, 1, -1)
    cv2.line(tumor, (20, 150), (120, 130), 1, 1)
    tumor[5, 5] = 1
    tumor[10:12, 190] = 1
    cv2.circle(tumor, (30, 30), 3, 1, -1)
    cv2.circle(tumor, (170, 130), 12, 1, 3)
    return {"liver": liver.astype(bool), "tumor": tumor.astype(bool)}


def component_count(mask: np.ndarray) -> int:
    return cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[0] - 1


def frame(dtype=np.uint8) -> np.ndarray:
    top = np.iinfo(dtype).max
    return np.linspace(0, top, HEIGHT * WIDTH).astype(dtype).reshape(HEIGHT, WIDTH)


def write_json(path: Path, document: dict) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def labelme_document(shapes: list[dict], **overrides) -> dict:
    document = {
        "version": "5.9.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": "0000.png",
        "imageData": None,
        "imageHeight": HEIGHT,
        "imageWidth": WIDTH,
    }
    document.update(overrides)
    return document


def png_b64(array: np.ndarray) -> str:
    return base64.b64encode(cv2.imencode(".png", array)[1].tobytes()).decode("ascii")


def read_shape_pixels(shape: dict) -> np.ndarray:
    return shape_mask(shape, (HEIGHT, WIDTH))
