"""Patient motion over the run, as per-frame displacements in image pixels.

DSA subtracts the mask (frame 0) from every frame, so anatomy that does not move cancels
exactly; what moves leaves misregistration. Breathing shifts the abdomen (liver, arteries,
tumors, diaphragm, bowel) mostly craniocaudally for a few frames, either returning (a
breath) or staying in a new position (a step); ribs and spine (one layer) follow with a
tenth to a third of it.
Patients who held their breath often breathe again in the last frames. A slow drift moves
everything a few pixels over the run. The bowel adds its own peristaltic sway and the heart
border pulsates, sampled at the frame times (so the beat looks random frame to frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.timing import Heartbeat

# A frame whose abdomen position differs from a neighbour's by more than this (image px)
# counts as a motion frame.
MOVING_THRESHOLD_PX = 0.75


@dataclass(frozen=True)
class Motion:
    abdomen: np.ndarray  # (T, 2) image px
    bones: np.ndarray  # (T, 2) image px
    bowel: np.ndarray  # (T, n_segments, 2) image px, on top of the abdomen's displacement
    heart: np.ndarray  # (T,) relative size of the heart shadow (1 = as in the mask)

    def moving(self) -> np.ndarray:
        """Per frame: does the abdomen move between it and a neighbour?"""
        step = np.hypot(*np.diff(self.abdomen, axis=0).T) > MOVING_THRESHOLD_PX
        moving = np.zeros(len(self.abdomen), bool)
        moving[1:] |= step
        moving[:-1] |= step
        return moving


def sample_motion(
    rng: np.random.Generator,
    times: np.ndarray,
    scale: float,
    peristalsis: list[tuple[float, float]],
    breath: bool,
    end_breath: bool,
    drift: bool,
    heartbeat: Heartbeat,
) -> Motion:
    """``times``: frame times (s); ``scale``: image px per world unit; ``peristalsis``: each
    bowel segment's sway (amplitude in world units, period in s)."""
    count = len(times)
    frames = np.arange(count, dtype=np.float64)
    abdomen = np.zeros((count, 2))
    # Ribs and spine share one layer: it follows the diaphragm a little (the ribs' share).
    rib_share = rng.uniform(0.1, 0.3)
    if breath:
        length = int(rng.integers(2, 6))
        start = int(rng.integers(2, max(3, count - length)))
        abdomen += _breath_profile(frames, start, length, returning=rng.random() < 0.6)[
            :, None
        ] * _breath_vector(rng, scale)
    if end_breath:
        start = count - int(rng.integers(1, 4))
        abdomen += _breath_profile(frames, start, count - start + 1, returning=False)[
            :, None
        ] * _breath_vector(rng, scale)
    bones = rib_share * abdomen
    if drift:
        direction = rng.normal(0, 1, 2)
        direction /= np.hypot(*direction) or 1.0
        total = rng.uniform(0.3, 2.0) * scale
        trend = (frames / max(count - 1, 1))[:, None] * direction * total
        abdomen = abdomen + trend
        bones = bones + trend

    bowel = np.zeros((count, len(peristalsis), 2))
    for i, (amplitude_world, period) in enumerate(peristalsis):
        amplitude = amplitude_world * scale
        phase = rng.uniform(0, 2 * np.pi, 2)
        angle = 2 * np.pi * times / period
        bowel[:, i, 0] = amplitude * (np.sin(angle + phase[0]) - np.sin(phase[0]))
        bowel[:, i, 1] = 0.6 * amplitude * (np.sin(angle + phase[1]) - np.sin(phase[1]))

    heart = 1.0 + 0.008 * (heartbeat.wave(times) - heartbeat.wave(times[:1]))
    return Motion(abdomen=abdomen, bones=bones, bowel=bowel, heart=heart)


def _breath_vector(rng: np.random.Generator, scale: float) -> np.ndarray:
    amplitude = rng.uniform(4.0, 18.0) * scale
    return amplitude * np.array([rng.normal(0.0, 0.25), rng.choice([-1.0, 1.0])])


def _breath_profile(frames: np.ndarray, start: int, length: int, returning: bool) -> np.ndarray:
    """0 before ``start``; over ``length`` frames either up and back (sin^2) or a smooth
    step to 1 that stays."""
    x = np.clip((frames - start + 1) / max(length, 1), 0.0, 1.0)
    if returning:
        return np.sin(np.pi * x) ** 2
    return x * x * (3.0 - 2.0 * x)
