"""The analysis of one DSA run, the same for the viewer, the command line and the packaged
program: preprocessing → key frame → frame difference → DSA-LTDNet (TDL / LRS / FFS) → masks on
the original frame → post-processing → lesions → DSA-Net Model 2 response prediction.

Models run at model size on the cropped field; every map is brought back onto the original
frame through the same :class:`~dsaviewer.core.preprocess.ModelGeometry`, so masks, lesions
and their outlines are in original pixels. Stages are timed, and the run can be cancelled
between stages.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dsaviewer.core.alternative_inputs import temporal_channel
from dsaviewer.core.difference import frame_difference, temporal_stack
from dsaviewer.core.keyframe import (
    KEY_FRAME_AUTO,
    KEY_FRAME_LABELS,
    KEY_FRAME_OVERRIDE,
    select_key_frame,
)
from dsaviewer.core.lesions import MinLesionSize, extract_lesions
from dsaviewer.core.postprocess import PostprocessConfig, postprocess_masks
from dsaviewer.core.preprocess import (
    ModelGeometry,
    make_geometry,
    mask_to_frame,
    mask_to_model,
    to_model,
)
from dsaviewer.core.run_maps import run_maps
from dsaviewer.core.scope_input import scope_input
from dsaviewer.core.subtraction import subtract_mask
from dsaviewer.errors import DSAViewerError, InputError
from dsaviewer.inference.backend import (
    ModelBackend,
    SegmentationMaps,
    clinical_input,
    load_backend,
)
from dsaviewer.inference.results import AnalysisResult, ResponsePrediction
from dsaviewer.inference.scope import decide, file_scope, mask_frames, needs_subtraction
from dsaviewer.inference.scope_score import scope_classifier
from dsaviewer.inference.weights_library import weights_display_name
from dsaviewer.io.clinical import ClinicalVariables, parse_clinical
from dsaviewer.io.video import Video, load_video

# Below this the exposed field holds too few pixels for the 256-pixel model input to mean
# anything (a thumbnail, an icon, a cropped detail).
MIN_FIELD_SIDE_PX = 32

# (stage name, fraction of the analysis done when it ends), in order; for progress bars.
STAGES = (
    ("load_models", 0.05),
    ("decode", 0.15),
    ("preprocess", 0.30),
    ("key_frame", 0.35),
    ("frame_difference", 0.40),
    ("segmentation", 0.80),
    ("scope", 0.82),
    ("postprocess", 0.88),
    ("lesions", 0.92),
    ("response", 1.0),
)

ProgressCallback = Callable[[str, float], None]  # (stage just finished, fraction done)
CancelCheck = Callable[[], bool]  # True: stop at the next stage boundary


class Cancelled(DSAViewerError):
    """The analysis was stopped on request (the ``cancel`` callable returned True)."""


def analyze(
    video: Video | str | Path,
    clinical: ClinicalVariables | Mapping[str, Any] | None = None,
    key_frame: int | None = None,
    weights: ModelBackend | str | Path | None = None,
    backend: str | None = None,
    device: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    key_frame_source: str = KEY_FRAME_OVERRIDE,
    min_lesion_size: MinLesionSize | None = None,
) -> AnalysisResult:
    """Analyse one DSA run.

    ``video``: a loaded :class:`Video` or anything :func:`load_video` opens. ``clinical``:
    :class:`ClinicalVariables` or raw values by field name (checked by ``parse_clinical``:
    InputError naming the field); missing values are allowed and listed in the prediction.
    ``key_frame``: None for DSA-LTDNet's automatic choice, or a frame index, recorded with
    ``key_frame_source`` ("override" or "labels"). ``weights``: a backend from
    :func:`load_backend` (load once, analyse many), or a weights folder (default: the
    bundled weights) loaded into ``backend`` ("torch", "onnx", None: torch where installed)
    on ``device`` (None: CUDA, else MPS, else CPU). ``min_lesion_size``: the smallest tumour
    component listed as a lesion (default :class:`MinLesionSize`'s 4 mm², or 10 px without a
    pixel spacing); the result records it.

    The result's ``scope`` says whether the run is inside what the models were made for
    (:mod:`dsaviewer.inference.scope`); a file that is not angiography at all raises
    :class:`~dsaviewer.inference.scope.OutOfScopeError` (an InputError) before any analysis.

    Raises InputError for a video that is too small, blank or all border, a key frame
    outside the video and bad clinical values; :class:`Cancelled` when ``cancel()`` turns
    True.
    """
    if key_frame is not None and key_frame_source not in (KEY_FRAME_OVERRIDE, KEY_FRAME_LABELS):
        raise ValueError(
            f"key_frame_source must be 'override' or 'labels', not {key_frame_source!r}"
        )
    variables = _checked_clinical(clinical)
    min_size = MinLesionSize() if min_lesion_size is None else min_lesion_size
    notes: list[str] = []
    stages = _Stages(progress, cancel)

    if isinstance(weights, str | Path) or weights is None:
        with stages("load_models"):
            models = load_backend(weights, backend, device)
    else:
        models = weights
    if not isinstance(video, Video):
        with stages("decode"):
            video = load_video(video)
    file_reasons = file_scope(video.metadata, video.source)
    if needs_subtraction(video.metadata) and mask_frames(video.metadata):
        # A native run that names its mask: analysed as the DSA run it asks to be shown as.
        masks = mask_frames(video.metadata)
        video = dataclasses.replace(
            video, frames=subtract_mask(video.frames, masks, video.max_value)
        )
        notes.append(
            "the file stores the run unsubtracted; it was subtracted with its mask frame(s) "
            f"{', '.join(str(index + 1) for index in masks)} before the analysis"
        )

    spec = models.segmentation
    with stages("preprocess"):
        geometry = _geometry(video, spec.image_size)
        frames_model = to_model(video.frames, geometry)
    with stages("key_frame"):
        auto_index = select_key_frame(video.frames, field=geometry.field).index
        index = auto_index if key_frame is None else _checked_key_frame(key_frame, video)
        if index + 1 < spec.n_frames:
            notes.append(
                f"only {index + 1} frame(s) up to the key frame {index} (the method uses "
                f"{spec.n_frames}): frame 0 was repeated to fill the temporal input and the "
                "frame difference is taken against frame 0"
            )
    with stages("frame_difference"):
        difference = frame_difference(video.frames, index)
    with stages("segmentation"):
        stack = temporal_stack(frames_model, index, spec.n_frames)
        # Computed once for whichever model reads them.
        maps_of_run = (run_maps(frames_model) if spec.run_maps or (
            models.response is not None and models.response.run_maps) else None)
        maps = models.segment(stack, temporal_channel(spec.temporal, frames_model, index),
                              maps_of_run if spec.run_maps else None)
    with stages("scope"):
        classifier = scope_classifier()
        score = classifier.score(scope_input(frames_model, index, geometry.outside))
        scope = decide(file_reasons, score, classifier.threshold)
    with stages("postprocess"):
        tumor_probability, liver_probability = _maps_on_frame(maps, geometry)
        tumor_mask, liver_mask = postprocess_masks(
            tumor_probability,
            liver_probability,
            config=PostprocessConfig(remove_tumors_off_liver=spec.has_liver),
        )
    if not spec.has_liver:
        notes.append(
            "these weights have no liver network: no liver mask, and tumors are not checked "
            "against the liver"
        )
    with stages("lesions"):
        lesions = extract_lesions(tumor_mask, tumor_probability, video.pixel_spacing_mm,
                                  min_area_mm2=min_size.area_mm2, min_area_px=min_size.area_px)
    prediction = None
    with stages("response"):
        if models.response is not None:
            prediction = _predict_response(
                models, frames_model[index], mask_to_model(tumor_mask, geometry), variables,
                maps_of_run,
            )
    if models.response is None:
        notes.append("these weights hold no response model: no response prediction")
    if models.random_init:
        notes.append("the weights are untrained (random initialisation): results mean nothing")

    return AnalysisResult(
        key_frame=index,
        key_frame_auto=auto_index,
        key_frame_source=KEY_FRAME_AUTO if key_frame is None else key_frame_source,
        tumor_probability=tumor_probability,
        liver_probability=liver_probability,
        tumor_mask=tumor_mask,
        liver_mask=liver_mask,
        frame_difference=difference,
        lesions=lesions,
        prediction=prediction,
        device=models.device,
        backend=models.name,
        timings_ms=stages.finish(),
        notes=tuple(notes),
        weights_name=weights_display_name(models.weights_dir),
        scope=scope,
        min_lesion_size=min_size,
    )


class _Stages:
    """Times each stage, checks for cancellation before it and reports progress after it."""

    def __init__(self, progress: ProgressCallback | None, cancel: CancelCheck | None) -> None:
        self._progress = progress
        self._cancel = cancel
        self._done = dict(STAGES)
        self._timings: dict[str, float] = {}
        self._start = time.perf_counter()

    def __call__(self, name: str) -> _Stages:
        if self._cancel is not None and self._cancel():
            raise Cancelled(f"analysis cancelled before the {name.replace('_', ' ')} stage")
        self._name = name
        return self

    def __enter__(self) -> None:
        self._stage_start = time.perf_counter()

    def __exit__(self, kind: type | None, *_: object) -> None:
        if kind is not None:
            return
        self._timings[self._name] = 1000.0 * (time.perf_counter() - self._stage_start)
        if self._progress is not None:
            self._progress(self._name, self._done[self._name])

    def finish(self) -> dict[str, float]:
        self._timings["total"] = 1000.0 * (time.perf_counter() - self._start)
        return dict(self._timings)


def _checked_clinical(
    clinical: ClinicalVariables | Mapping[str, Any] | None,
) -> ClinicalVariables:
    if clinical is None:
        return ClinicalVariables()
    # A hand-built ClinicalVariables is checked like raw input: out-of-range values must not
    # reach the model whatever path they took.
    raw = dataclasses.asdict(clinical) if isinstance(clinical, ClinicalVariables) else clinical
    return parse_clinical(raw)


def _geometry(video: Video, size: int) -> ModelGeometry:
    height, width = video.frame_shape
    if min(height, width) < MIN_FIELD_SIDE_PX:
        raise InputError(
            f"frames are {width}x{height} pixels; the analysis needs at least "
            f"{MIN_FIELD_SIDE_PX} pixels on each side",
            video.source,
        )
    try:
        geometry = make_geometry(video.frames, size=size, white_level=video.max_value)
    except InputError as error:  # name the video, not the core function's argument
        raise InputError(
            "not analysed: no exposed X-ray field was found in the frames, so this is not an "
            f"angiography run the models can read ({error.reason})",
            video.source,
        ) from error
    field = geometry.field
    if min(field.height, field.width) < MIN_FIELD_SIDE_PX:
        raise InputError(
            f"the exposed field is only {field.width}x{field.height} pixels; the analysis "
            f"needs at least {MIN_FIELD_SIDE_PX} pixels on each side",
            video.source,
        )
    return geometry


def scope_maps(video: Video, image_size: int = 256) -> np.ndarray:
    """What the scope classifier reads of ``video`` at its automatic key frame, prepared as
    :func:`analyze` prepares it (for fitting and evaluating the classifier). InputError as
    :func:`analyze` raises it for a run it cannot read."""
    geometry = _geometry(video, image_size)
    index = select_key_frame(video.frames, field=geometry.field).index
    return scope_input(to_model(video.frames, geometry), index, geometry.outside)


def _checked_key_frame(key_frame: int, video: Video) -> int:
    if isinstance(key_frame, bool) or not isinstance(key_frame, int | np.integer):
        raise InputError(f"must be a frame index, not {key_frame!r}", "key frame")
    if not 0 <= key_frame < video.n_frames:
        raise InputError(
            f"frame {key_frame} is outside the video's frames 0..{video.n_frames - 1}",
            "key frame",
        )
    return int(key_frame)


def _maps_on_frame(
    maps: SegmentationMaps, geometry: ModelGeometry
) -> tuple[np.ndarray, np.ndarray]:
    """The tumor and liver probabilities on the original frame; 0 outside the exposed field,
    and all 0 for the liver of a model without a liver network."""

    def on_frame(model_map: np.ndarray) -> np.ndarray:
        model_map = np.array(model_map, dtype=np.float32)
        if geometry.outside is not None:
            model_map[geometry.outside] = 0.0  # corners of a round collimator: no anatomy
        frame_map = mask_to_frame(model_map, geometry)
        return np.clip(frame_map, 0.0, 1.0, out=frame_map)  # linear resampling may overshoot

    tumor = on_frame(maps.tumor)
    liver = on_frame(maps.liver) if maps.liver is not None else np.zeros_like(tumor)
    return tumor, liver


def _predict_response(
    models: ModelBackend,
    key_frame: np.ndarray,
    tumor: np.ndarray,
    variables: ClinicalVariables,
    maps_of_run: np.ndarray | None,
) -> ResponsePrediction:
    spec = models.response
    missing = tuple(variables.missing())
    clinical = None
    inputs: tuple[str, ...] = ("image", "mask")
    if spec.run_maps:
        inputs += ("run enhancement",)
    if spec.clinical_features:
        clinical = clinical_input(variables)
        if len(missing) < len(dataclasses.fields(variables)):
            inputs += ("clinical",)
    probability = spec.shown_probability(models.predict_response(
        key_frame, tumor.astype(np.float32), clinical,
        maps_of_run if spec.run_maps else None))
    return ResponsePrediction(
        probability=probability,
        threshold=spec.threshold,
        inputs_used=inputs,
        missing_clinical=missing,
    )
