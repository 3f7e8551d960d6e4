"""How one run was acquired, displayed and exported, and which difficulties it has: the
per-case draws that do not depend on the anatomy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synth.options import SynthOptions


@dataclass(frozen=True)
class Acquisition:
    size: tuple[int, int]  # (width, height)
    video_format: str  # "avi", "dcm" or "png"
    bits: int  # stored bits: 8, or 10/12 for some DICOM cases
    monochrome: str  # DICOM photometric interpretation of a dcm case
    frame_count: int
    frames_after_complete: float  # the operator keeps filming this long after the stain
    contrast_delay_frames: float  # frames before contrast leaves the catheter tip
    zoomed: bool
    round_iris: bool
    inverted: bool
    burned_in_text: bool
    display_level: float  # 8-bit grey of the empty field
    display_gain: float  # grey levels per unit log attenuation
    detector_blur: float  # px at the normal 1021-px scale
    noise_level: float  # quantum noise SD, log units, at the normal scale
    gi: bool
    gi_on_liver_edge: bool
    breath: bool
    end_breath: bool
    drift: bool
    heart: bool


def sample_acquisition(rng: np.random.Generator, options: SynthOptions) -> Acquisition:
    sizes, size_weights = zip(*options.sizes, strict=True)
    formats, format_weights = zip(*options.formats, strict=True)
    size = sizes[rng.choice(len(sizes), p=_normalised(size_weights))]
    video_format = str(formats[rng.choice(len(formats), p=_normalised(format_weights))])
    bits = 8
    monochrome = "MONOCHROME2"
    if video_format == "dcm":
        if rng.random() < options.p_high_bit_dicom:
            bits = int(rng.choice([10, 12]))
        if rng.random() < 0.2:
            monochrome = "MONOCHROME1"
    low, high = options.frames
    return Acquisition(
        size=(int(size[0]), int(size[1])),
        video_format=video_format,
        bits=bits,
        monochrome=monochrome,
        frame_count=int(rng.integers(low, high + 1)),
        frames_after_complete=float(rng.uniform(2.0, 5.0)),
        contrast_delay_frames=float(rng.uniform(0.8, 2.5)),
        zoomed=bool(rng.random() < options.p_zoom),
        round_iris=bool(rng.random() < options.p_round_collimator),
        inverted=bool(rng.random() < options.p_inverted),
        burned_in_text=bool(rng.random() < options.p_text),
        display_level=float(rng.uniform(150, 200)),
        display_gain=float(rng.uniform(110, 160)),
        detector_blur=float(rng.uniform(0.7, 1.1)),
        noise_level=float(rng.uniform(0.06, 0.16)),
        gi=bool(rng.random() < options.p_gi),
        gi_on_liver_edge=bool(rng.random() < options.p_gi_on_liver_edge),
        breath=bool(rng.random() < options.p_breath),
        end_breath=bool(rng.random() < options.p_end_breath),
        drift=bool(rng.random() < options.p_drift),
        heart=bool(rng.random() < options.p_heart),
    )


def _normalised(weights: tuple[float, ...]) -> np.ndarray:
    array = np.asarray(weights, dtype=np.float64)
    total = array.sum()
    if total <= 0:
        raise ValueError(f"weights must have a positive sum, not {weights}")
    return array / total
