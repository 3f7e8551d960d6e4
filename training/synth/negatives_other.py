"""Generated multi-frame images that are not angiography at all, the kinds a user may open by
mistake: an ultrasound cine (a sector of speckle with beating dark chambers), a plain
radiograph (one static exposure, only noise changes) and a cross-sectional series (MR or CT
slices stepping through a body). Negatives for the scope check only."""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.curves import blob_polygon

OTHER_KINDS = ("ultrasound", "radiograph", "cross_section")


def other_run(
    kind: str, rng: np.random.Generator, width: int, height: int, count: int
) -> tuple[np.ndarray, float]:
    """``count`` uint8 frames ``(T, H, W)`` of ``kind`` and their frame rate."""
    if kind == "ultrasound":
        return _ultrasound(rng, width, height, count), float(rng.uniform(15, 50))
    if kind == "radiograph":
        return _radiograph(rng, width, height, count), float(rng.uniform(1, 15))
    if kind == "cross_section":
        return _cross_section(rng, width, height, count), float(rng.uniform(1, 10))
    raise ValueError(f"kind must be one of {OTHER_KINDS}, not {kind!r}")


def _ultrasound(rng: np.random.Generator, width: int, height: int, count: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    apex = np.array([width / 2 + rng.normal(0, width * 0.03), -0.05 * height])
    radius = np.hypot(xs - apex[0], ys - apex[1])
    angle = np.arctan2(xs - apex[0], ys - apex[1])
    half = rng.uniform(0.55, 0.8)
    sector = ((np.abs(angle) < half) & (radius < 0.95 * height)).astype(np.float32)
    chambers = [
        (np.array([width / 2 + rng.normal(0, 0.15) * width, rng.uniform(0.3, 0.75) * height]),
         rng.uniform(0.06, 0.14) * width, rng.uniform(0.5, 1.6))
        for _ in range(int(rng.integers(1, 4)))
    ]
    period = rng.uniform(6, 14)  # frames per beat
    speckle = _speckle(rng, height, width)
    gain = rng.uniform(120, 200)
    frames = np.empty((count, height, width), np.uint8)
    for f in range(count):
        speckle = 0.7 * speckle + 0.3 * _speckle(rng, height, width)  # decorrelates slowly
        tissue = np.ones((height, width), np.float32)
        beat = 1.0 + 0.15 * np.sin(2 * np.pi * f / period)
        for centre, size, aspect in chambers:
            axes = (int(size * beat * np.sqrt(aspect)), int(size * beat / np.sqrt(aspect)))
            cv2.ellipse(tissue, (int(centre[0]), int(centre[1])), axes, 0, 0, 360, 0.1, -1)
        depth_gain = np.exp(-radius / (rng.uniform(1.5, 3.0) * height))
        image = gain * tissue * speckle * depth_gain * sector
        frames[f] = np.clip(cv2.GaussianBlur(image, (0, 0), 1.0), 0, 255).astype(np.uint8)
    return frames


def _speckle(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    rayleigh = rng.rayleigh(0.6, (height // 2, width // 2)).astype(np.float32)
    small = cv2.GaussianBlur(rayleigh, (0, 0), 0.8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _radiograph(rng: np.random.Generator, width: int, height: int, count: int) -> np.ndarray:
    scale = width / 1021.0
    attenuation = np.full((height, width), 0.2, np.float32)
    body = blob_polygon(rng, np.array([width / 2, height / 2]), 0.45 * width, 1.2, 0.03)
    cv2.fillPoly(attenuation, [body.astype(np.int32)], 0.8)
    for side in (-1, 1):  # lungs or bowel gas: darker fields either side of the spine
        centre = np.array([width / 2 + side * 0.2 * width, 0.35 * height])
        lung = blob_polygon(rng, centre, 0.15 * width, 0.5, 0.05)
        cv2.fillPoly(attenuation, [lung.astype(np.int32)], float(rng.uniform(0.3, 0.5)))
    spine_x = int(width / 2 + rng.normal(0, 0.03) * width)
    cv2.line(attenuation, (spine_x, 0), (spine_x, height), 1.4, max(1, int(80 * scale)))
    for k in range(int(rng.integers(6, 12))):
        y = int((k * rng.uniform(70, 90) + 20) * scale)
        cv2.ellipse(attenuation, (spine_x, y), (int(420 * scale), int(120 * scale)), 0, 0, 180,
                    1.1, max(1, int(18 * scale)))
    attenuation = cv2.GaussianBlur(attenuation, (0, 0), 4.0 * scale)
    bright_bone = rng.random() < 0.7  # radiographs usually show bone white
    base = 40 + 140 * attenuation if bright_bone else 230 - 140 * attenuation
    frames = np.empty((count, height, width), np.uint8)
    for f in range(count):
        noisy = base + rng.normal(0, rng.uniform(1.5, 4.0), base.shape).astype(np.float32)
        frames[f] = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    return frames


def _cross_section(rng: np.random.Generator, width: int, height: int, count: int) -> np.ndarray:
    centre = np.array([width / 2, height / 2]) + rng.normal(0, 0.02, 2) * width
    body_radius = rng.uniform(0.3, 0.45) * min(width, height)
    organs = [
        (centre + rng.normal(0, 0.35, 2) * body_radius, rng.uniform(0.1, 0.35) * body_radius,
         float(rng.uniform(40, 230)), rng.uniform(0, 2 * np.pi))
        for _ in range(int(rng.integers(3, 7)))
    ]
    body = blob_polygon(rng, centre, body_radius, rng.uniform(1.0, 1.5), 0.03)
    tissue_grey = float(rng.uniform(80, 160))
    frames = np.empty((count, height, width), np.uint8)
    for f in range(count):
        image = np.zeros((height, width), np.float32)
        cv2.fillPoly(image, [body.astype(np.int32)], tissue_grey)
        for organ_centre, radius, grey, phase in organs:
            # Stepping through slices: each organ grows and shrinks with slice position.
            size = radius * (0.6 + 0.4 * np.sin(phase + 2 * np.pi * f / count))
            cv2.circle(image, tuple(int(v) for v in organ_centre), max(1, int(size)), grey, -1)
        image = cv2.GaussianBlur(image, (0, 0), 1.5)
        image += rng.normal(0, 3.0, image.shape).astype(np.float32)
        frames[f] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return frames
