"""Post-embolisation control runs, paired with the run before, with a known truth.

After chemoembolisation the operator injects again: the tumor blush is reduced or gone, the
embolised arteries fill more slowly, and at the endpoint the contrast stands still (stasis).
A pair here is one generated case (the pre-run) and the same patient's anatomy rendered again
with:

- the tumor stains scaled by ``stain_remaining`` (0: no blush left);
- ``flow`` "normal", "slowed" (arterial arrival and stain onset later by ``slowing``, washout
  slower by it) or "stasis" (slowed, and the contrast does not wash out during the run);
- its own quantum noise;
- the patient moved between the runs: the whole post-run turned by ``rotation_deg`` about the
  frame centre and shifted by ``shift_px``, which a comparison must register away.

The truth is the generator's noiseless iodine (log attenuation, what log subtraction
recovers) averaged over the pre-run's key-frame tumor mask, frame by frame, in both runs:
its peak and area ratios post/pre are what a measured blush reduction should find.
``stain_remaining`` alone is not that truth: the parenchyma and vessels under the tumor keep
their contrast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from dsaviewer.core.time_density import curve_area, curve_peak
from training.synth.case import SyntheticCase, generate_case
from training.synth.layers import SparseLayer, Stamp
from training.synth.motion import Motion
from training.synth.options import SynthOptions
from training.synth.render import Scene, _add_iodine, _translate

FLOWS = ("normal", "slowed", "stasis")
_STASIS_WASHOUT_S = 1000.0  # s: no washout within any run
# A seed stream of its own, beside the case's (SeedSequence([seed, index])).
_STREAM_KEY = 0x0E3B


@dataclass(frozen=True)
class Embolisation:
    stain_remaining: float  # fraction of the tumor stain left, 0..1
    flow: str  # one of FLOWS
    slowing: float  # >= 1: arrival times and washout are this much slower ("normal": 1)
    shift_px: tuple[float, float]  # (x, y) patient shift between the runs, image px
    rotation_deg: float  # patient rotation between the runs, about the frame centre

    def __post_init__(self) -> None:
        if not 0.0 <= self.stain_remaining <= 1.0:
            raise ValueError(f"stain_remaining must be in [0, 1], not {self.stain_remaining}")
        if self.flow not in FLOWS:
            raise ValueError(f"flow must be one of {FLOWS}, not {self.flow!r}")
        if self.slowing < 1.0:
            raise ValueError(f"slowing must be >= 1, not {self.slowing}")


@dataclass(frozen=True)
class EmbolisationPair:
    pre: SyntheticCase
    post: SyntheticCase  # frames moved by ``transform``; its labels are the pre-run's, moved
    embolisation: Embolisation
    transform: np.ndarray  # 2 x 3 affine: pre-run pixel (x, y, 1) -> post-run pixel
    times: np.ndarray  # (T,) s from the first frame, both runs
    pre_curve: np.ndarray  # (T,) noiseless tumor-region iodine of the pre-run
    post_curve: np.ndarray  # (T,) the same region (moved with the patient) in the post-run
    vessel_mask: np.ndarray  # (H, W) bool: the arterial tree's pixels in the pre-run

    @property
    def peak_ratio(self) -> float:
        return curve_peak(self.post_curve) / curve_peak(self.pre_curve)

    @property
    def auc_ratio(self) -> float:
        return curve_area(self.post_curve, self.times) / curve_area(self.pre_curve, self.times)

    @property
    def blush_reduction(self) -> float:
        """The truth a measured blush reduction (1 - peak ratio) is compared with, 0..1."""
        return 1.0 - self.peak_ratio


def sample_embolisation(rng: np.random.Generator, frame_shape: tuple[int, int]) -> Embolisation:
    """A plausible control run: the blush gone in a quarter of runs, else 20-90 % reduced; the
    flow normal, slowed or stopped alike; the patient shifted by up to 3 % of the frame and
    turned by up to 3 degrees."""
    remaining = 0.0 if rng.uniform() < 0.25 else float(rng.uniform(0.1, 0.8))
    flow = FLOWS[int(rng.integers(len(FLOWS)))]
    slowing = 1.0 if flow == "normal" else float(rng.uniform(1.2, 2.0))
    reach = 0.03 * min(frame_shape)
    return Embolisation(
        stain_remaining=remaining,
        flow=flow,
        slowing=slowing,
        shift_px=(float(rng.uniform(-reach, reach)), float(rng.uniform(-reach, reach))),
        rotation_deg=float(rng.uniform(-3.0, 3.0)),
    )


def embolised_scene(scene: Scene, embolisation: Embolisation) -> Scene:
    """The scene of the control run (before the patient's move)."""
    factor = embolisation.stain_remaining
    tumors = tuple(
        (Stamp(stamp.y0, stamp.x0, tuple(layer * np.float32(factor) for layer in stamp.layers)),
         dataclasses.replace(timing, onset=timing.onset * embolisation.slowing))
        for stamp, timing in scene.tumors
    )
    vessels = SparseLayer(
        scene.vessels.index,
        scene.vessels.value,
        scene.vessels.arrival * np.float32(embolisation.slowing),
    )
    washout = scene.injection.washout * embolisation.slowing
    if embolisation.flow == "stasis":
        washout = _STASIS_WASHOUT_S
    injection = dataclasses.replace(scene.injection, washout=washout)
    return dataclasses.replace(scene, tumors=tumors, vessels=vessels, injection=injection)


def patient_move(embolisation: Embolisation, frame_shape: tuple[int, int]) -> np.ndarray:
    """The 2 x 3 affine taking a pre-run pixel to where it lies in the post-run."""
    height, width = frame_shape
    centre = ((width - 1) / 2.0, (height - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, embolisation.rotation_deg, 1.0)
    matrix[:, 2] += embolisation.shift_px
    return matrix


def generate_pair(
    seed: int,
    index: int = 0,
    options: SynthOptions | None = None,
    embolisation: Embolisation | None = None,
) -> EmbolisationPair:
    """Case ``index`` of dataset ``seed`` and its control run; ``embolisation`` drawn from
    the pair's own stream unless given."""
    scenes: list[Scene] = []
    clocks: list[np.ndarray] = []  # the scene's clock: s after contrast leaves the tip
    motions: list[Motion] = []

    def keep(scene: Scene, times: np.ndarray, motion: Motion) -> Scene:
        scenes.append(scene)
        clocks.append(times)
        motions.append(motion)
        return scene

    pre = generate_case(seed, index, options, scene_edit=keep)
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, _STREAM_KEY]))
    shape = pre.frames.shape[1:]
    embolisation = embolisation or sample_embolisation(rng, shape)

    def embolise(scene: Scene, times: np.ndarray, motion: Motion) -> Scene:
        scenes.append(embolised_scene(scene, embolisation))
        return scenes[-1]

    post = generate_case(seed, index, options, scene_edit=embolise, noise_rng=rng)
    transform = patient_move(embolisation, shape)
    moved = _moved_case(post, pre, transform)

    clock, motion = clocks[0], motions[0]
    tumor = pre.labels[0].tumor
    vessel_mask = np.zeros(shape, bool)
    vessel_mask.ravel()[scenes[0].vessels.index] = True
    return EmbolisationPair(
        pre=pre,
        post=moved,
        embolisation=embolisation,
        transform=transform,
        times=np.asarray(clock - clock[0], dtype=np.float64),
        pre_curve=region_iodine(scenes[0], clock, motion, tumor),
        post_curve=region_iodine(scenes[1], clock, motion, tumor),
        vessel_mask=vessel_mask,
    )


def region_iodine(
    scene: Scene, times: np.ndarray, motion: Motion, mask: np.ndarray
) -> np.ndarray:
    """The noiseless iodine averaged over ``mask`` at each of ``times`` (the scene's clock),
    moved with the abdomen frame by frame as the rendered frames are (the key frame's labels
    are drawn in its pose: drift and breathing move small tumors off them in other frames)."""
    quiet = dataclasses.replace(scene, bowel=())  # bowel stains are not the tumor's
    buffer = np.zeros(mask.shape, np.float32)
    curve = np.empty(len(times))
    for frame, t in enumerate(times):
        buffer.fill(0.0)
        _add_iodine(quiet, buffer, float(t), motion, frame)
        moved = _translate(buffer, motion.abdomen[frame])
        curve[frame] = float(moved[mask].mean()) if mask.any() else np.nan
    return curve


def _moved_case(post: SyntheticCase, pre: SyntheticCase, transform: np.ndarray) -> SyntheticCase:
    """``post`` with its frames moved by the patient's move, and the pre-run's labels moved
    with them (the control run's truth masks)."""
    height, width = post.frames.shape[1:]
    frames = np.empty_like(post.frames)
    for index, frame in enumerate(post.frames):
        frames[index] = cv2.warpAffine(
            frame, transform, (width, height), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    labels = tuple(
        dataclasses.replace(
            labels,
            frame_index=post.key_frame + offset,
            tumor=_moved_mask(pre.labels[0].tumor, transform),
            liver=_moved_mask(pre.labels[0].liver, transform),
        )
        for offset, labels in enumerate(post.labels)
    )
    return dataclasses.replace(post, frames=frames, labels=labels,
                               case_id=f"{post.case_id}_post")


def _moved_mask(mask: np.ndarray, transform: np.ndarray) -> np.ndarray:
    height, width = mask.shape
    moved = cv2.warpAffine(mask.astype(np.uint8), transform, (width, height),
                           flags=cv2.INTER_NEAREST)
    return moved.astype(bool)
