"""Image formation: from the layers of a case to the frames a DSA system exports.

Per frame, in log attenuation (what log subtraction recovers):

1. iodine = vessels x bolus curve + catheter + parenchyma x blush + tumor stamps (cross-faded
   core / diffuse / sharp) + bowel stamps (shifted by peristalsis), in the mask's pose;
2. motion: iodine plus the moving background (lung edge, bowel gas) is shifted by the
   abdomen's displacement, ribs and spine by theirs, the heart scaled by its pulsation;
   subtracting the mask's background leaves misregistration wherever things moved;
3. quantum noise: Gaussian with SD ~ exp(attenuation / 2) (Poisson statistics in the log
   domain: fewer photons through bone and iodine, more noise), drawn from a 256-level
   quantised normal table (a byte per pixel, ~15x cheaper than drawing normals; after
   detector blur the quantisation is invisible); the mask's own noise (lower: masks average
   several exposures) is subtracted from every frame; the collimator's border enters as the
   attenuation that displays as its black level, with its own detector noise;
4. detector blur (Gaussian), then display: grey = level - gain x attenuation (dark contrast
   on light, or inverted), vignetting, quantisation to 8 or 10-12 bits, burned-in text.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np

from training.synth.background import Background
from training.synth.border import BurnedInText, Collimator
from training.synth.layers import SparseLayer, Stamp
from training.synth.motion import Motion
from training.synth.timing import (
    Heartbeat,
    Injection,
    Parenchyma,
    StainTiming,
    arterial_opacity,
    catheter_opacity,
    parenchymal_level,
)

_NORMAL_TABLE = np.array(
    [NormalDist().inv_cdf((i + 0.5) / 256.0) for i in range(256)], dtype=np.float32
)
_NORMAL_TABLE /= np.float32(np.sqrt(np.mean(_NORMAL_TABLE**2)))
_STABILITY_STEP = 4  # the noiseless change is measured on every 4th pixel: no noise to average
_MASK_NOISE_FRACTION = 0.5
VISIBLE_CHANGE = (
    1.5  # 8-bit grey levels  # mask SD relative to a live frame's (averaged mask exposures)
)


@dataclass(frozen=True)
class Display:
    level: float  # 8-bit grey of the empty field
    gain: float  # 8-bit grey levels per unit of log attenuation
    inverted: bool  # contrast bright on dark
    bits: int  # 8, 10 or 12 stored bits
    detector_blur: float  # Gaussian SD, px
    edge_enhance: float = 0.0  # unsharp-mask amount some systems apply (0: none)

    @property
    def white(self) -> int:
        return (1 << self.bits) - 1


@dataclass(frozen=True)
class Scene:
    vessels: SparseLayer
    catheter: SparseLayer
    parenchyma: np.ndarray
    tumors: tuple[tuple[Stamp, StainTiming], ...]
    bowel: tuple[tuple[Stamp, StainTiming], ...]
    background: Background
    collimator: Collimator
    text: BurnedInText | None
    injection: Injection
    heartbeat: Heartbeat
    blush: Parenchyma
    # Broad mix: extra-hepatic blushes and shunts, one layer each (moved with the abdomen).
    organs: tuple[tuple[Stamp, StainTiming], ...] = ()


@dataclass(frozen=True)
class RenderedVideo:
    frames: np.ndarray  # (T, H, W) uint8 or uint16, display polarity MONOCHROME2
    change: np.ndarray  # (T - 1,) visible change between adjacent noiseless frames: mean over
    #                     the field of |difference| beyond VISIBLE_CHANGE, 8-bit grey levels


def tumor_weights(timing: StainTiming, t: float) -> tuple[float, float, float]:
    """Weights of the (core, diffuse, sharp) layers: the stain spreads from the centre,
    darkens and sharpens."""
    level = float(timing.level(t))
    spread = float(timing.spread_fraction(t))
    sharp = float(timing.sharpness(t))
    return level * (1.0 - spread), level * spread * (1.0 - sharp), level * spread * sharp


def render_video(
    scene: Scene, times: np.ndarray, motion: Motion, display: Display, rng: np.random.Generator
) -> RenderedVideo:
    background = scene.background
    collimator = scene.collimator
    height, width = background.abdomen.shape
    count = len(times)
    white = display.white
    frames = np.empty((count, height, width), np.uint8 if display.bits == 8 else np.uint16)

    mask_noise = background.noise_sd * _normal_field(rng, height, width)
    mask_noise *= np.float32(_MASK_NOISE_FRACTION)
    mask_noise = cv2.GaussianBlur(mask_noise, (0, 0), display.detector_blur)
    step = _STABILITY_STEP
    field_small = collimator.alpha[::step, ::step]
    noiseless_small = np.empty((count, *field_small.shape), np.float32)

    # stored = slope x (attenuation - mask noise) + intercept, i.e. level -/+ gain x
    # attenuation under the vignette. The collimator's border enters as the attenuation that
    # displays as its black level (whatever the polarity), its detector noise as a noise SD
    # that the detector blur brings down to ``border_noise`` grey levels.
    sign = 1.0 if display.inverted else -1.0
    offset = 255.0 - display.level if display.inverted else display.level
    border = 1.0 - collimator.alpha
    border_level = (collimator.border_level - offset) / (sign * display.gain)
    border_attenuation = border * np.float32(border_level)
    # The noise below grows by exp(attenuation / 2) and shrinks by the detector blur.
    blur_noise_factor = 1.0 / (2.0 * np.sqrt(np.pi) * max(display.detector_blur, 0.6))
    border_noise_sd = collimator.border_noise / (
        display.gain * blur_noise_factor * np.exp(0.5 * border_level)
    )
    noise_sd = collimator.alpha * background.noise_sd + border * np.float32(border_noise_sd)
    to_stored = white / 255.0
    slope = collimator.vignette * np.float32(sign * display.gain * to_stored)
    intercept = collimator.vignette * np.float32(offset * to_stored) - slope * mask_noise
    moving_background = background.abdomen + background.bones

    buffer = np.zeros((height, width), np.float32)
    noise = np.empty((height, width), np.float32)
    for f, t in enumerate(times):
        moves = bool(np.any(np.abs(motion.abdomen[f]) > 1e-3))
        if moves:
            buffer.fill(0.0)
        else:  # nothing moves: start from the border and add the iodine in place
            np.copyto(buffer, border_attenuation)
        _add_iodine(scene, buffer, float(t), motion, f)
        subtracted = _apply_motion(buffer, background, moving_background, motion, f)
        if moves:
            subtracted += border_attenuation
        noiseless_small[f] = subtracted[::step, ::step]

        # Quantum noise, Poisson in the log domain: SD ~ exp(attenuation / 2), the
        # anatomy's share in ``noise_sd``, the iodine's (fewer photons through contrast) here.
        cv2.multiply(_normal_field(rng, height, width), noise_sd, dst=noise)
        cv2.multiply(noise, cv2.exp(cv2.multiply(subtracted, 0.5)), dst=noise)
        cv2.add(subtracted, noise, dst=subtracted)
        blurred = cv2.GaussianBlur(subtracted, (0, 0), display.detector_blur)
        if display.edge_enhance > 0:  # unsharp mask: blurred + a x (blurred - smoother)
            smoother = cv2.GaussianBlur(blurred, (0, 0), 3.0 * display.detector_blur)
            blurred = cv2.addWeighted(
                blurred, 1.0 + display.edge_enhance, smoother, -display.edge_enhance, 0.0
            )
        stored = cv2.add(cv2.multiply(blurred, slope), intercept)
        if display.bits == 8:
            frames[f] = cv2.convertScaleAbs(cv2.max(stored, 0.0))  # rounds, saturates at 255
        else:
            frames[f] = np.rint(np.clip(stored, 0.0, float(white))).astype(np.uint16)
        if scene.text is not None:
            scene.text.draw(frames[f], f, count, white)

    # Visible change only: a pixel that changes by less than VISIBLE_CHANGE grey levels from
    # one frame to the next is lost in the noise for any observer.
    difference = np.abs(np.diff(noiseless_small, axis=0)) * np.float32(display.gain)
    visible = np.maximum(difference - np.float32(VISIBLE_CHANGE), 0.0) * field_small
    change = visible.sum(axis=(1, 2)) / max(float(field_small.sum()), 1.0)
    return RenderedVideo(frames=frames, change=change)


def _add_iodine(scene: Scene, buffer: np.ndarray, t: float, motion: Motion, f: int) -> None:
    """Add frame ``f``'s iodine (time ``t``) to ``buffer``, in the mask's pose."""
    flat = buffer.reshape(-1)
    injection = scene.injection
    vessels = scene.vessels
    since = np.float32(t) - vessels.arrival
    # Arterial opacity swings with each heartbeat (pulsatile inflow of contrast).
    pulse = 1.0 + injection.pulsatility * float(scene.heartbeat.wave(t))
    flat[vessels.index] += vessels.value * (arterial_opacity(since, injection) * np.float32(pulse))
    catheter = scene.catheter
    flat[catheter.index] += catheter.value * np.float32(catheter_opacity(t))
    blush = float(parenchymal_level(t, scene.blush))
    if blush > 0:
        cv2.scaleAdd(scene.parenchyma, blush, buffer, dst=buffer)
    for stamp, timing in scene.tumors:
        weights = tumor_weights(timing, t)
        if max(weights) <= 0:
            continue
        region = buffer[stamp.slices]
        for layer, weight in zip(stamp.layers, weights, strict=True):
            if weight > 0:
                cv2.scaleAdd(layer, weight, region, dst=region)
    for i, (stamp, timing) in enumerate(scene.bowel):
        stain, gas = stamp.layers
        shift = motion.bowel[f, i]
        moved_stain, moved_gas = (_translate(layer, shift) for layer in (stain, gas))
        region = buffer[stamp.slices]
        region += float(timing.level(t)) * moved_stain + (moved_gas - gas)
    for stamp, timing in scene.organs:
        level = float(timing.level(t))
        if level > 0:
            region = buffer[stamp.slices]
            cv2.scaleAdd(stamp.layers[0], level, region, dst=region)


def _apply_motion(
    iodine: np.ndarray,
    background: Background,
    moving_background: np.ndarray,
    motion: Motion,
    f: int,
) -> np.ndarray:
    """Iodine in the frame's pose minus the mask's background: the subtracted image (``iodine``
    itself, changed in place, when the abdomen did not move). ``moving_background`` is
    abdomen + bones, warped once when both move alike (drift only)."""
    shift = motion.abdomen[f]
    bone_shift = motion.bones[f]
    abdomen_moves = bool(np.any(np.abs(shift) > 1e-3))
    if abdomen_moves and np.allclose(shift, bone_shift, atol=1e-3):
        subtracted = _translate(iodine + moving_background, shift)
        subtracted -= moving_background
    else:
        if abdomen_moves:
            subtracted = _translate(iodine + background.abdomen, shift)
            subtracted -= background.abdomen
        else:
            subtracted = iodine
        if np.any(np.abs(bone_shift) > 1e-3):
            subtracted += _translate(background.bones, bone_shift)
            subtracted -= background.bones
    heart = background.heart
    if heart is not None and abs(motion.heart[f] - 1.0) > 1e-4:
        scale = float(motion.heart[f])
        cx, cy = heart.centre
        matrix = np.float32([[scale, 0, (1 - scale) * cx], [0, scale, (1 - scale) * cy]])
        h, w = heart.layer.shape
        pulsed = cv2.warpAffine(
            heart.layer, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        region = subtracted[heart.y0 : heart.y0 + h, heart.x0 : heart.x0 + w]
        region += pulsed - heart.layer
    return subtracted


def _translate(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    if not np.any(np.abs(shift) > 1e-3):
        return image
    height, width = image.shape
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def _normal_field(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Unit normal noise, quantised to 256 levels: one random byte per pixel."""
    codes = np.frombuffer(rng.bytes(height * width), np.uint8).reshape(height, width)
    return cv2.LUT(codes, _NORMAL_TABLE.reshape(1, 256))
