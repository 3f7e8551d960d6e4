"""How opacification evolves over the run: the time curves that weight each image layer.

Times are seconds after the contrast leaves the catheter tip (frames before it have
negative times: the mask and the first frames of the run show no contrast). The injection
lasts ``duration`` s; a point of the arterial tree fills ``arrival`` s after time 0 (its
path length over flow speed), stays opaque while the injection lasts, its opacity swinging
a little with each heartbeat, and washes out exponentially afterwards. The liver
parenchyma blushes later and slowly (a gamma-variate). A tumor stain starts when its
feeder fills, then spreads from the centre, darkens and sharpens, each with its own time
constant, and stays (hypervascular HCC keeps its stain through the run; a slow washout is
allowed). Bowel mucosa stains the same way with its own, usually later, timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Injection:
    duration: float  # s of injection
    rise: float  # s for an artery to go from empty to full
    washout: float  # s, time constant of arterial washout after the injection
    pulsatility: float  # relative swing of arterial opacity over a heartbeat


@dataclass(frozen=True)
class Heartbeat:
    period: float  # s
    phase: float  # rad at time 0

    def wave(self, t: np.ndarray) -> np.ndarray:
        """sin of the cardiac phase; sampled at 1.5-6 frames/s it looks random frame to frame."""
        return np.sin(2 * np.pi * np.asarray(t, dtype=np.float64) / self.period + self.phase)


@dataclass(frozen=True)
class Parenchyma:
    onset: float  # s
    peak: float  # s from onset to the maximum
    shape: float  # gamma-variate exponent
    amplitude: float  # log attenuation at the maximum


@dataclass(frozen=True)
class StainTiming:
    onset: float  # s: the stain starts
    rise: float  # s, time constant of darkening
    spread: float  # s, time constant of spreading from the centre
    sharpen_lag: float  # s after onset before the edge starts to sharpen
    washout_rate: float  # 1/s, slow fading once complete

    def level(self, t: np.ndarray) -> np.ndarray:
        """Stain strength, 0 before onset, towards 1 at the plateau."""
        since = np.maximum(np.asarray(t, dtype=np.float64) - self.onset, 0.0)
        fading = np.exp(-self.washout_rate * np.maximum(since - 3.0 * self.rise, 0.0))
        return (1.0 - np.exp(-since / self.rise)) * fading

    def spread_fraction(self, t: np.ndarray) -> np.ndarray:
        since = np.maximum(np.asarray(t, dtype=np.float64) - self.onset, 0.0)
        return 1.0 - np.exp(-since / self.spread)

    def sharpness(self, t: np.ndarray) -> np.ndarray:
        since = np.maximum(np.asarray(t, dtype=np.float64) - self.onset - self.sharpen_lag, 0.0)
        return 1.0 - np.exp(-since / self.rise)

    def completeness(self, t: np.ndarray) -> np.ndarray:
        """How complete the stain is, 0..1: both dark enough and spread out."""
        since = np.maximum(np.asarray(t, dtype=np.float64) - self.onset, 0.0)
        return np.minimum(1.0 - np.exp(-since / self.rise), self.spread_fraction(t))

    @property
    def complete_at(self) -> float:
        """When the stain reaches 95 % of its plateau."""
        return self.onset + 3.0 * max(self.rise, self.spread)


def sample_injection(rng: np.random.Generator) -> Injection:
    return Injection(
        duration=float(rng.uniform(2.0, 3.5)),
        rise=float(rng.uniform(0.25, 0.5)),
        washout=float(rng.uniform(1.5, 3.0)),
        pulsatility=float(rng.uniform(0.04, 0.12)),
    )


def sample_heartbeat(rng: np.random.Generator) -> Heartbeat:
    return Heartbeat(period=float(rng.uniform(0.7, 1.1)), phase=float(rng.uniform(0, 2 * np.pi)))


def sample_parenchyma(rng: np.random.Generator) -> Parenchyma:
    return Parenchyma(
        onset=float(rng.uniform(0.8, 1.6)),
        peak=float(rng.uniform(3.0, 6.0)),
        shape=float(rng.uniform(1.5, 3.0)),
        amplitude=float(rng.uniform(0.05, 0.14)),
    )


def sample_stain_timing(
    rng: np.random.Generator, fill_time: float, rich: bool, late: bool = False
) -> StainTiming:
    """``fill_time``: when the feeding artery fills. Hypovascular tumors (``rich`` False)
    and bowel mucosa (``late``) stain more slowly."""
    rise = rng.uniform(1.2, 2.2) if rich else rng.uniform(2.0, 3.2)
    if late:
        rise = rng.uniform(1.0, 2.5)
    onset = fill_time + rng.uniform(0.15, 0.6) + (rng.uniform(0.3, 1.5) if late else 0.0)
    return StainTiming(
        onset=float(onset),
        rise=float(rise),
        spread=float(rise * rng.uniform(0.5, 0.9)),
        sharpen_lag=float(rise * rng.uniform(0.3, 0.8)),
        washout_rate=float(rng.uniform(0.0, 0.03) if not late else rng.uniform(0.02, 0.08)),
    )


def arterial_opacity(since_arrival: np.ndarray, injection: Injection) -> np.ndarray:
    """Opacity (0..1) of an artery ``since_arrival`` s after the contrast front reached it."""
    tau = np.asarray(since_arrival, dtype=np.float32)
    x = np.clip(tau / np.float32(injection.rise), 0.0, 1.0)
    rising = x * x * (3.0 - 2.0 * x)
    decay = np.exp(
        -np.maximum(tau - np.float32(injection.duration), 0.0) / np.float32(injection.washout)
    )
    return (rising * decay).astype(np.float32)


def catheter_opacity(t: np.ndarray) -> np.ndarray:
    """The catheter lumen fills just before the tip and stays full of contrast (its dead
    space is not flushed during the run)."""
    x = np.clip((np.asarray(t, dtype=np.float64) + 0.3) / 0.3, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def parenchymal_level(t: np.ndarray, parenchyma: Parenchyma) -> np.ndarray:
    x = np.maximum(np.asarray(t, dtype=np.float64) - parenchyma.onset, 0.0) / parenchyma.peak
    a = parenchyma.shape
    return parenchyma.amplitude * x**a * np.exp(a * (1.0 - x))
