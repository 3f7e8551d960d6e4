"""Generated liver angiography that was never subtracted: the negative kind "unsubtracted".

A native run shows the patient's whole anatomy (soft-tissue shadows, spine, ribs, gas) under
the vessels, and that anatomy moves with breathing. The models were made for DSA, where the
first frame is the mask and the anatomy is gone; the scope check must flag a native run (the
DICOM flag for it is often absent, as in the real cardiac run of ``shared/data``).

The anatomy is drawn at random, not from one template, so the scope classifier learns "a
structured background under the run" rather than the look of a particular chest: smooth
low-frequency fields at several scales, large soft organ shadows, a spine band and rib arcs at
random angles, added in display grey to a liver run of the generator and shifted by breathing.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.synth.case import generate_case
from training.synth.options import SynthOptions


def unsubtracted_run(
    rng: np.random.Generator, width: int, height: int, count: int
) -> tuple[np.ndarray, float]:
    """``count`` uint8 frames ``(T, H, W)`` of a native liver run, and its frame rate."""
    options = SynthOptions(sizes=(((width, height), 1.0),), formats=(("avi", 1.0),),
                           frames=(count, count), variety=bool(rng.random() < 0.5))
    case = generate_case(int(rng.integers(1 << 30)), 0, options)
    frames = case.frames.astype(np.float32)
    # Anatomy only where X-rays reach the detector: the collimator's border stays dark.
    exposed = cv2.blur((cv2.medianBlur(case.frames[0].astype(np.uint8), 5) > 24).astype(
        np.float32), (9, 9))
    anatomy = _anatomy(rng, width, height)
    # Breathing moves the anatomy under the fixed detector: a slow up-and-down shift.
    amplitude = rng.uniform(0.0, 0.02) * height
    period = rng.uniform(8, 30)  # frames
    phase = rng.uniform(0, 2 * np.pi)
    out = np.empty(frames.shape, np.uint8)
    for t, frame in enumerate(frames):
        dy = amplitude * np.sin(2 * np.pi * t / period + phase)
        moved = cv2.warpAffine(anatomy, np.float32([[1, 0, 0], [0, 1, dy]]), (width, height),
                               borderMode=cv2.BORDER_REFLECT)
        out[t] = np.clip(np.rint(frame + moved * exposed), 0, 255).astype(np.uint8)
    return out, float(case.fps)


def _anatomy(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A random anatomical background in display grey, about zero mean."""
    side = max(width, height)
    field = np.zeros((height, width), np.float32)
    for scale in (0.3, 0.12, 0.04):  # smooth fields from organ size down to texture
        sigma = scale * side
        noise = rng.normal(0, 1, (height, width)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), sigma)
        field += rng.uniform(10, 45) * smooth / (smooth.std() + 1e-6) * (scale ** 0.3)
    for _ in range(int(rng.integers(1, 4))):  # organ shadows: heart, liver, kidneys, bladder
        centre = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        axes = (int(rng.uniform(0.1, 0.45) * side), int(rng.uniform(0.1, 0.45) * side))
        shadow = np.zeros_like(field)
        cv2.ellipse(shadow, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        field += rng.uniform(-60, 60) * cv2.GaussianBlur(shadow, (0, 0), 0.03 * side)
    bones = np.zeros_like(field)
    angle = rng.normal(0, 0.25)
    x = rng.uniform(0.2, 0.8) * width
    top = (int(x - np.tan(angle) * height / 2), 0)
    bottom = (int(x + np.tan(angle) * height / 2), height)
    cv2.line(bones, top, bottom, 1.0, max(1, int(rng.uniform(0.05, 0.1) * side)))
    for _ in range(int(rng.integers(0, 10))):  # rib arcs
        centre = (int(rng.uniform(-0.2, 1.2) * width), int(rng.uniform(-0.2, 1.2) * height))
        axes = (int(rng.uniform(0.3, 0.8) * side), int(rng.uniform(0.1, 0.3) * side))
        start = rng.uniform(0, 360)
        cv2.ellipse(bones, centre, axes, float(rng.uniform(-40, 40)), start,
                    start + rng.uniform(40, 120), 1.0, max(1, int(0.015 * side)))
    field += rng.uniform(-50, 50) * cv2.GaussianBlur(bones, (0, 0), 0.004 * side + 0.5)
    return field - field.mean()
