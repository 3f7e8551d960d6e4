"""How a broad-mix case's family values change its acquisition, background and extra
blushes (the pieces :func:`training.synth.case.generate_case` asks for)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from training.synth.acquisition import Acquisition
from training.synth.background import Background
from training.synth.distractors import BLUSH_DISTRACTORS, DENSE_DISTRACTORS, dense_objects
from training.synth.liver import Liver
from training.synth.variety import FAST_FPS, FAST_FRAMES, SLOW_FPS, SLOW_FRAMES, Variety
from training.synth.view import View

FPS_STANDARD = (1.5, 6.0)


def vary_acquisition(
    rng: np.random.Generator, acquisition: Acquisition, variety: Variety, frames: tuple[int, int]
) -> Acquisition:
    """Dose (noise x 1.6-2.4 low, x 0.4-0.6 high), run length (fast 30-40 frames, slow 8-16,
    else ``frames``), the GI blush a territory implies (none from the proper hepatic artery,
    always from the SMA), and a breath whenever a dense distractor or bone residue must show
    its misregistration."""
    changes: dict[str, object] = {}
    kind = variety.acquisition
    if kind == "low_dose":
        changes["noise_level"] = acquisition.noise_level * float(rng.uniform(1.6, 2.4))
    elif kind == "high_dose":
        changes["noise_level"] = acquisition.noise_level * float(rng.uniform(0.4, 0.6))
    low, high = {"fast": FAST_FRAMES, "slow": SLOW_FRAMES}.get(kind, frames)
    changes["frame_count"] = int(rng.integers(low, high + 1))
    if kind == "slow":
        changes["frames_after_complete"] = float(rng.uniform(1.0, 2.0))
    if variety.territory in ("proper_hepatic", "left_hepatic", "segmental"):
        changes["gi"] = False
    elif variety.territory == "replaced_right_sma":
        changes["gi"] = True
    if variety.distractor in (*DENSE_DISTRACTORS, "bone_residue"):
        changes["breath"] = True
    return replace(acquisition, **changes)  # type: ignore[arg-type]


def fps_range_for(variety: Variety) -> tuple[float, float]:
    return {"fast": FAST_FPS, "slow": SLOW_FPS}.get(variety.acquisition, FPS_STANDARD)


def organ_kinds(variety: Variety) -> list[str]:
    """The single-layer blushes of a case: its distractor, the spleen in a celiac run, the
    early portal branches of an arterioportal shunt."""
    kinds = [variety.distractor] if variety.distractor in BLUSH_DISTRACTORS else []
    if variety.territory == "celiac" and "splenic" not in kinds:
        kinds.append("splenic")
    if variety.phenotype == "ap_shunt":
        kinds.append("portal")
    return kinds


def vary_background(
    rng: np.random.Generator, background: Background, variety: Variety, liver: Liver, view: View
) -> Background:
    """Dense objects join the abdomen's background (they move with it); bone residue makes
    ribs and spine 2.5-4x as dense (an obese patient, a high-kV mask mismatch)."""
    if variety.distractor in DENSE_DISTRACTORS:
        extra = dense_objects(rng, variety.distractor, liver, view)
        return replace(background, abdomen=background.abdomen + extra)
    if variety.distractor == "bone_residue":
        return replace(background, bones=background.bones * np.float32(rng.uniform(2.5, 4.0)))
    return background
