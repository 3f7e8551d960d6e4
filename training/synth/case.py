"""One synthetic DSA case, end to end: patient, anatomy, dynamics, rendering, ground truth.

Case ``index`` of dataset ``seed`` draws from ``SeedSequence([seed, index])``, split into
independent streams (patient, acquisition, anatomy, dynamics, noise), so a case is the same
whatever the dataset size, and the clinical draws do not depend on rendering.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from training.synth.acquisition import Acquisition, sample_acquisition
from training.synth.arteries import catheter_path, grow_feeder, grow_hepatic_tree
from training.synth.background import render_background
from training.synth.border import sample_collimator, sample_text
from training.synth.bowel import sample_bowel
from training.synth.distractors import blush_stamps
from training.synth.ground_truth import (
    LABELLED_AFTER_KEY,
    FrameLabels,
    choose_key_frame,
    frame_labels,
    key_frame_completeness,
)
from training.synth.layers import (
    SparseLayer,
    bowel_stamp,
    liver_mask,
    parenchyma_layer,
    tumor_stamp,
    vessel_layer,
)
from training.synth.liver import sample_liver
from training.synth.motion import Motion, sample_motion
from training.synth.options import SynthOptions
from training.synth.patient import Patient, sample_patient
from training.synth.render import Display, Scene, render_video
from training.synth.response import response_probability
from training.synth.sma_tree import grow_sma_tree, sma_catheter
from training.synth.territory import (
    restrict_vessels,
    territory_in_field,
    transform_liver,
    vary_view,
)
from training.synth.timing import (
    sample_heartbeat,
    sample_injection,
    sample_parenchyma,
    sample_stain_timing,
)
from training.synth.tumors import place_tumors, tumor_burden
from training.synth.variety import Variety, phenotype_specs, sample_variety
from training.synth.variety_case import (
    fps_range_for,
    organ_kinds,
    vary_acquisition,
    vary_background,
)
from training.synth.vessel_walk import Vessel, sample_flow
from training.synth.view import sample_view

# "variety" last: SeedSequence children are keyed by position, so adding it left the first
# five streams (and every case of the default mix) unchanged.
_STREAMS = ("patient", "acquisition", "anatomy", "dynamics", "noise", "variety")
FPS_RANGE = (1.5, 6.0)  # frame rates of abdominal DSA programmes


@dataclass(frozen=True)
class CaseTruth:
    """What the generator knows and a reader of the case folder does not (``truth.csv``)."""

    n_tumors: int  # the patient's tumors
    n_tumors_visible: int  # of those, inside the field of view
    n_rich: int  # hypervascular among the visible
    tumor_diameters_px: tuple[float, ...]  # visible tumors, image pixels
    # The true response probability with the hidden tumors (outside the field or the
    # perfused territory) left out: what the run shows, with the chart complete.
    visible_response_probability: float
    n_gi: int  # gastrointestinal blushes
    gi_on_liver_edge: bool
    moving_frames: tuple[int, ...]  # frames during breathing motion
    contrast_frame: float  # frame index at which contrast leaves the catheter tip
    inverted: bool
    zoom: float
    round_collimator: bool
    burned_in_text: bool
    families: tuple[tuple[str, str], ...] = ()  # broad mix: (family, value) of this case


@dataclass(frozen=True)
class SyntheticCase:
    case_id: str
    seed: int
    index: int
    frames: np.ndarray  # (T, H, W) uint8 or uint16, display polarity (higher is brighter)
    fps: float
    bits_stored: int
    pixel_spacing_mm: tuple[float, float]  # imager (detector) spacing, row and column
    video_format: str  # "avi", "dcm" or "png"
    monochrome: str  # photometric interpretation a DICOM export uses
    key_frame: int
    labels: tuple[FrameLabels, ...]  # key frame first, then k+1, k+2
    patient: Patient
    truth: CaseTruth


def case_id_for(seed: int, index: int) -> str:
    return f"synth_s{seed}_{index:05d}"


def case_streams(seed: int, index: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([seed, index]).spawn(len(_STREAMS))
    return {
        name: np.random.default_rng(child) for name, child in zip(_STREAMS, children, strict=True)
    }


def generate_patient(seed: int, index: int, options: SynthOptions | None = None) -> Patient:
    """The patient of case ``index`` alone (tumors, chart, response), without rendering."""
    options = options or SynthOptions()
    streams = case_streams(seed, index)
    variety = _variety(streams["variety"], options)
    specs = phenotype_specs(streams["variety"], variety.phenotype) if variety else None
    return sample_patient(streams["patient"], options, specs)


def _variety(rng: np.random.Generator, options: SynthOptions) -> Variety | None:
    return sample_variety(rng, dict(options.families)) if options.variety else None


def generate_case(
    seed: int,
    index: int = 0,
    options: SynthOptions | None = None,
    timings: dict[str, float] | None = None,
    scene_edit: Callable[[Scene, np.ndarray, Motion], Scene] | None = None,
    noise_rng: np.random.Generator | None = None,
) -> SyntheticCase:
    """Case ``index`` of the dataset drawn with ``seed``. ``timings``, when given, receives
    the seconds spent per stage (added to what it holds: pass one dict for many cases).
    ``scene_edit(scene, frame_times, motion)`` may change the scene just before rendering and
    ``noise_rng`` replace the case's noise stream: a second run of the same patient (e.g.
    after embolisation) with its own quantum noise."""
    options = options or SynthOptions()
    lap = _Stopwatch(timings)
    streams = case_streams(seed, index)
    wide = streams["variety"]
    variety = _variety(wide, options)
    specs = phenotype_specs(wide, variety.phenotype) if variety else None
    patient = sample_patient(streams["patient"], options, specs)
    acquisition = sample_acquisition(streams["acquisition"], options)
    if variety:
        acquisition = vary_acquisition(wide, acquisition, variety, options.frames)
    lap("patient")

    rng = streams["anatomy"]
    width, height = acquisition.size
    liver = sample_liver(rng)
    if variety:
        liver = transform_liver(wide, liver, variety.liver)
    drawn_view = sample_view(rng, acquisition.size, acquisition.zoomed, focus=liver.centroid)
    view = vary_view(wide, drawn_view, liver, variety.liver) if variety else drawn_view
    collimator = sample_collimator(rng, width, height, acquisition.round_iris)
    flow = sample_flow(rng)
    catheter = catheter_path(rng, liver)
    bowel = sample_bowel(rng, liver, acquisition.gi, acquisition.gi_on_liver_edge)
    tree = grow_hepatic_tree(rng, liver, catheter, flow, bowel[0].center if bowel else None)

    liver_image = liver_mask(liver, view, (0.0, 0.0))
    perfused = None
    own_tree = False  # the tree supplies only the perfused territory
    if variety:
        view, liver_image, perfused, line = territory_in_field(
            wide, variety, liver, drawn_view, view, liver_image, collimator.field
        )
        if variety.territory == "replaced_right_sma" and line is not None:
            # The celiac tree above was still grown so that the anatomy stream, and every
            # draw after it, stays that of the other territories.
            catheter = sma_catheter(wide, catheter)
            tree = grow_sma_tree(wide, liver, catheter, flow, bowel, line)
            own_tree = True

    def visible(point: np.ndarray, margin: float) -> bool:
        # A selective injection targets the tumors' territory: they are placed inside it.
        image_point = view.to_image(point)
        return collimator.contains(image_point, margin * view.scale) and (
            perfused is None or _inside(perfused, image_point)
        )

    tumors = place_tumors(rng, list(patient.tumors), liver, visible)
    feeders = [
        grow_feeder(rng, tree, flow, tumor.center, tumor.spec.diameter / 2, tumor.spec.rich, liver)
        for tumor in tumors
    ]
    lap("anatomy")
    # The aorta runs just left of the spine (image right of it in a frontal view).
    spine_x = float(catheter.points[0][0]) - float(rng.uniform(25.0, 50.0))
    background = render_background(
        rng, view, liver, spine_x, acquisition.heart, acquisition.noise_level
    )
    vessels = vessel_layer(tree + [vessel for feeder in feeders for vessel in feeder], view)
    catheter_layer = vessel_layer([catheter], view)
    parenchyma = parenchyma_layer(rng, liver, view)
    if perfused is not None:
        if not own_tree:  # a tree over the whole liver: branches elsewhere stay empty
            margin = int(12 * view.scale) + 1
            keep = restrict_vessels(vessels.index, liver_image, perfused, margin)
            vessels = SparseLayer(vessels.index[keep], vessels.value[keep], vessels.arrival[keep])
        soft = cv2.GaussianBlur(perfused.astype(np.float32), (0, 0), max(1.0, 4 * view.scale))
        parenchyma = parenchyma * soft
    if variety:
        background = vary_background(wide, background, variety, liver, view)
    tumor_stamps = [tumor_stamp(rng, tumor, view) for tumor in tumors]
    bowel_stamps = [bowel_stamp(rng, segment, view) for segment in bowel]
    lap("layers")

    dynamics = streams["dynamics"]
    injection = sample_injection(dynamics)
    heartbeat = sample_heartbeat(dynamics)
    blush = sample_parenchyma(dynamics)
    stain_timings = [
        sample_stain_timing(dynamics, float(feeder[0].arrival[-1]), tumor.spec.rich)
        for tumor, feeder in zip(tumors, feeders, strict=True)
    ]
    bowel_filled = float(_bowel_artery(tree).arrival[-1])
    bowel_timings = [
        sample_stain_timing(dynamics, bowel_filled, rich=True, late=True) for _ in bowel
    ]
    organs = (
        tuple(blush_stamps(wide, organ_kinds(variety), liver, view, float(tree[0].arrival[-1])))
        if variety
        else ()
    )
    fps_range = fps_range_for(variety) if variety else FPS_RANGE
    fps, times = _frame_times(acquisition, [t.complete_at for t in stain_timings], fps_range)
    motion = sample_motion(
        dynamics,
        times,
        view.scale,
        [(segment.peristalsis_amplitude, segment.peristalsis_period) for segment in bowel],
        breath=acquisition.breath,
        end_breath=acquisition.end_breath,
        drift=acquisition.drift,
        heartbeat=heartbeat,
    )
    text = sample_text(dynamics, width, height, acquisition.burned_in_text)

    display = Display(
        level=acquisition.display_level,
        gain=acquisition.display_gain,
        inverted=acquisition.inverted,
        bits=acquisition.bits,
        detector_blur=acquisition.detector_blur * max(0.6, view.scale),
        edge_enhance=float(wide.uniform(0.6, 1.5))
        if variety and variety.acquisition == "edge_enhanced"
        else 0.0,
    )
    scene = Scene(
        vessels=vessels,
        catheter=catheter_layer,
        parenchyma=parenchyma,
        tumors=tuple(zip(tumor_stamps, stain_timings, strict=True)),
        bowel=tuple(zip(bowel_stamps, bowel_timings, strict=True)),
        background=background,
        collimator=collimator,
        text=text,
        injection=injection,
        heartbeat=heartbeat,
        blush=blush,
        organs=organs,
    )
    lap("dynamics")
    if scene_edit is not None:
        scene = scene_edit(scene, times, motion)
    video = render_video(scene, times, motion, display, noise_rng or streams["noise"])
    lap("render")

    completeness = key_frame_completeness(times, stain_timings, blush)
    moving = motion.moving()
    key_frame = choose_key_frame(video.change, completeness, moving)
    labels = tuple(
        frame_labels(
            frame, liver, tumors, view, collimator.field, motion.abdomen[frame], perfused
        )
        for frame in range(key_frame, key_frame + LABELLED_AFTER_KEY + 1)
    )
    lap("ground_truth")
    truth = CaseTruth(
        n_tumors=len(patient.tumors),
        n_tumors_visible=len(tumors),
        n_rich=sum(tumor.spec.rich for tumor in tumors),
        tumor_diameters_px=tuple(round(t.spec.diameter * view.scale, 1) for t in tumors),
        visible_response_probability=response_probability(
            tumor_burden([t.spec for t in tumors]), patient.clinical),
        n_gi=len(bowel),
        gi_on_liver_edge=bool(bowel) and acquisition.gi_on_liver_edge,
        moving_frames=tuple(int(f) for f in np.flatnonzero(moving)),
        contrast_frame=round(acquisition.contrast_delay_frames, 2),
        inverted=acquisition.inverted,
        zoom=round(view.zoom, 3),
        round_collimator=acquisition.round_iris,
        burned_in_text=text is not None,
        families=tuple(variety.families().items()) if variety else (),
    )
    return SyntheticCase(
        case_id=case_id_for(seed, index),
        seed=seed,
        index=index,
        frames=video.frames,
        fps=fps,
        bits_stored=acquisition.bits,
        pixel_spacing_mm=view.imager_pixel_spacing_mm,
        video_format=acquisition.video_format,
        monochrome=acquisition.monochrome,
        key_frame=key_frame,
        labels=labels,
        patient=patient,
        truth=truth,
    )


def _frame_times(
    acquisition: Acquisition,
    complete_at: list[float],
    fps_range: tuple[float, float] = FPS_RANGE,
) -> tuple[float, np.ndarray]:
    """The frame rate, and each frame's time relative to the contrast leaving the catheter,
    for a run whose contrast arrives after ``contrast_delay_frames`` and which the operator
    ends ``frames_after_complete`` frames after the last stain is complete (the rate is
    clipped to real programmes', which moves those frames a little)."""
    count = acquisition.frame_count
    complete = max(complete_at, default=3.0)
    complete_frame = count - 1 - acquisition.frames_after_complete
    frames_to_complete = complete_frame - acquisition.contrast_delay_frames
    fps = round(float(np.clip(frames_to_complete / complete, *fps_range)), 2)
    return fps, (np.arange(count) - acquisition.contrast_delay_frames) / fps


class _Stopwatch:
    """Adds the time since the previous call to ``sink[stage]``; does nothing without a sink."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.sink is not None:
            self.sink[stage] = self.sink.get(stage, 0.0) + now - self.last
        self.last = now


def _inside(mask: np.ndarray, point: np.ndarray) -> bool:
    x, y = int(point[0]), int(point[1])
    return 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and bool(mask[y, x])


def _bowel_artery(tree: list[Vessel]) -> Vessel:
    """The artery whose filling times the GI blush: the gastroduodenal artery of the
    hepatic tree, the SMA's branch to the first bowel segment of an SMA tree."""
    return next(vessel for vessel in tree if vessel.kind in ("gda", "enteric"))
