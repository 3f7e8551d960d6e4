"""The analysis pipeline end to end on synthetic clips with tiny weights (PyTorch backend)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from test_inference_fixtures import (
    FIELD,
    FRAME_SHAPE,
    PLATEAU_KEY_FRAME,
    SPACING_MM,
    synthetic_frames,
    synthetic_video,
    write_tiny_weights,
)

from dsaviewer.errors import InputError
from dsaviewer.inference.backend import load_backend
from dsaviewer.inference.device import describe_torch_device, resolve_torch_device
from dsaviewer.inference.pipeline import STAGES, Cancelled, analyze
from dsaviewer.io.clinical import ClinicalVariables
from dsaviewer.io.video import Video
from dsaviewer.io.writers import write_frame_folder


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return load_backend(write_tiny_weights(tmp_path_factory.mktemp("weights")))


def _field_mask() -> np.ndarray:
    y0, y1, x0, x1 = FIELD
    mask = np.zeros(FRAME_SHAPE, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_end_to_end_shapes_lesions_timings_and_device(models) -> None:
    stages_seen = []
    result = analyze(synthetic_video(), weights=models,
                     progress=lambda stage, done: stages_seen.append((stage, done)))

    for probability in (result.tumor_probability, result.liver_probability):
        assert probability.shape == FRAME_SHAPE and probability.dtype == np.float32
        assert probability.min() >= 0.0 and probability.max() <= 1.0
        assert not probability[~_field_mask()].any()  # nothing outside the exposed field
    for mask in (result.tumor_mask, result.liver_mask):
        assert mask.shape == FRAME_SHAPE and mask.dtype == bool
    assert result.frame_difference.shape == FRAME_SHAPE
    assert sum(lesion.area_px for lesion in result.lesions) == result.tumor_mask.sum()
    for lesion in result.lesions:
        assert lesion.uncertainty == pytest.approx(1 - lesion.mean_probability)
        assert lesion.area_mm2 == pytest.approx(lesion.area_px * SPACING_MM[0] * SPACING_MM[1])

    assert result.key_frame == result.key_frame_auto == PLATEAU_KEY_FRAME
    assert result.key_frame_source == "auto"
    assert result.device == describe_torch_device(resolve_torch_device(None))
    assert result.backend == "torch"
    expected_stages = ["preprocess", "key_frame", "frame_difference", "segmentation",
                       "scope", "postprocess", "lesions", "response"]
    assert [stage for stage, _ in stages_seen] == expected_stages
    assert stages_seen[-1][1] == 1.0
    assert set(result.timings_ms) == {*expected_stages, "total"}
    assert result.timings_ms["total"] >= max(result.timings_ms[s] for s in expected_stages) > 0
    assert 0.0 <= result.prediction.probability <= 1.0
    assert result.prediction.threshold == 0.5
    assert any("untrained" in note for note in result.notes)


def test_masks_map_back_exactly_onto_the_exposed_field(tmp_path) -> None:
    # Networks that answer "tumor" and "liver" everywhere: both masks must be exactly the
    # exposed field in original pixels, one lesion with the field's box.
    models = load_backend(write_tiny_weights(tmp_path, tumor_bias=3.0, liver_bias=3.0))
    result = analyze(synthetic_video(), weights=models)

    inside = 1 / (1 + math.exp(-3.0))
    assert np.array_equal(result.tumor_mask, _field_mask())
    assert np.array_equal(result.liver_mask, _field_mask())
    np.testing.assert_allclose(result.tumor_probability[_field_mask()], inside, rtol=1e-5)
    (lesion,) = result.lesions
    y0, y1, x0, x1 = FIELD
    assert lesion.bbox == (y0, x0, y1, x1)
    assert lesion.area_px == (y1 - y0) * (x1 - x0)
    assert lesion.uncertainty == pytest.approx(1 - inside, abs=1e-5) and not lesion.flagged


def test_no_tumor_gives_no_lesions_but_still_a_prediction(tmp_path) -> None:
    models = load_backend(write_tiny_weights(tmp_path, tumor_bias=-3.0, liver_bias=3.0))
    result = analyze(synthetic_video(), weights=models)
    assert result.lesions == [] and not result.tumor_mask.any()
    assert result.liver_mask.any()
    assert result.prediction is not None


def test_key_frame_override_is_used_and_the_automatic_choice_kept(models) -> None:
    video = synthetic_video()
    result = analyze(video, key_frame=5, weights=models)
    assert (result.key_frame, result.key_frame_auto, result.key_frame_source) == (
        5, PLATEAU_KEY_FRAME, "override")
    expected_fd = np.abs(video.frames[5].astype(np.float32) - video.frames[0].astype(np.float32))
    np.testing.assert_array_equal(result.frame_difference, expected_fd)

    labelled = analyze(video, key_frame=12, weights=models, key_frame_source="labels")
    assert (labelled.key_frame, labelled.key_frame_source) == (12, "labels")
    expected_fd = np.abs(video.frames[12].astype(np.float32) - video.frames[3].astype(np.float32))
    np.testing.assert_array_equal(labelled.frame_difference, expected_fd)


def test_key_frame_outside_the_video_is_refused(models) -> None:
    with pytest.raises(InputError, match="frame 16 is outside the video's frames 0..15"):
        analyze(synthetic_video(), key_frame=16, weights=models)


def test_short_video_repeats_the_first_frame_and_says_so(models) -> None:
    result = analyze(synthetic_video(n_frames=6), weights=models)
    assert result.key_frame < 6
    assert any("frame 0 was repeated" in note for note in result.notes)
    assert not any("repeated" in note for note in analyze(synthetic_video(), weights=models).notes)


@pytest.mark.parametrize(
    ("frames", "problem"),
    [
        (np.full((12, 120, 160), 128, np.uint8), "blank"),
        (np.zeros((12, 120, 160), np.uint8), "all border"),
        (synthetic_frames()[:, 50:70, 60:80], "at least 32 pixels"),
    ],
    ids=["blank", "all-border", "too-small"],
)
def test_unusable_video_is_a_clear_input_error(models, tmp_path, frames, problem) -> None:
    video = Video(frames=frames, fps=None, pixel_spacing_mm=None, source=tmp_path / "run.avi",
                  source_format="test")
    with pytest.raises(InputError, match=problem) as caught:
        analyze(video, weights=models)
    assert caught.value.source == str(tmp_path / "run.avi")


@pytest.mark.parametrize(
    ("clinical", "field"),
    [({"age": 500}, "age"), ({"alb": "forty"}, "alb"), ({"sex": "X"}, "sex"),
     (ClinicalVariables(tbil=-3.0), "tbil"), ({"weight": 70}, "clinical variables")],
)
def test_invalid_clinical_value_is_refused_naming_the_field(models, clinical, field) -> None:
    with pytest.raises(InputError) as caught:
        analyze(synthetic_video(), clinical=clinical, weights=models)
    assert caught.value.source == field


def test_missing_clinical_values_are_listed_and_the_rest_used(models) -> None:
    video = synthetic_video()
    partial = analyze(video, clinical={"age": 61, "sex": "M", "afp": ""}, weights=models)
    assert "clinical" in partial.prediction.inputs_used
    assert {"age", "sex"}.isdisjoint(partial.prediction.missing_clinical)
    assert "afp" in partial.prediction.missing_clinical

    none = analyze(video, weights=models)
    assert "clinical" not in none.prediction.inputs_used
    assert len(none.prediction.missing_clinical) == 13
    assert none.prediction.probability != partial.prediction.probability


def test_cancel_stops_between_stages(models) -> None:
    finished = []
    with pytest.raises(Cancelled, match="postprocess"):
        analyze(synthetic_video(), weights=models,
                progress=lambda stage, _: finished.append(stage),
                cancel=lambda: "scope" in finished)
    assert finished[-2:] == ["segmentation", "scope"]


def test_path_input_is_decoded_and_timed(tmp_path) -> None:
    weights = write_tiny_weights(tmp_path / "weights")
    frames_dir = write_frame_folder(tmp_path / "case" / "frames", synthetic_frames())
    result = analyze(frames_dir.parent, weights=weights)
    assert {"load_models", "decode"} <= set(result.timings_ms)
    assert result.key_frame == PLATEAU_KEY_FRAME
    assert [stage for stage, _ in STAGES][:2] == ["load_models", "decode"]


def test_model_without_liver_network_keeps_tumors_and_says_so(tmp_path) -> None:
    models = load_backend(write_tiny_weights(tmp_path, ablation="kf_fd", tumor_bias=3.0,
                                             with_response=False))
    result = analyze(synthetic_video(), weights=models)
    assert not result.liver_mask.any() and np.array_equal(result.tumor_mask, _field_mask())
    assert result.prediction is None
    assert any("no liver network" in note for note in result.notes)
    assert any("no response model" in note for note in result.notes)


def test_unknown_device_is_refused(tmp_path) -> None:
    with pytest.raises(InputError, match="unknown device 'tpu'"):
        load_backend(write_tiny_weights(tmp_path), device="tpu")


def test_a_response_model_reading_the_run_sees_frames_after_the_key_frame(tmp_path) -> None:
    """The segmentation reads frames up to the key frame; a response model that reads the
    run maps also sees what comes after it, and says so among its inputs."""
    reads_run = load_backend(write_tiny_weights(tmp_path / "run", response_run_maps=True))
    key_frame_only = load_backend(write_tiny_weights(tmp_path / "kf"))
    frames = synthetic_frames()
    later = frames.copy()
    # The last three frames mirrored inside the field: the same pixel values (so the same
    # intensity window), the stain elsewhere after the key frame.
    y0, y1, x0, x1 = FIELD
    later[-3:, y0:y1, x0:x1] = frames[-3:, y0:y1, x0:x1][:, :, ::-1]
    results = {}
    for name, models in (("run", reads_run), ("kf", key_frame_only)):
        results[name] = [
            analyze(dataclasses.replace(synthetic_video(), frames=clip),
                    key_frame=PLATEAU_KEY_FRAME, weights=models)
            for clip in (frames, later)
        ]
    for first, second in results.values():  # the same segmentation up to float rounding
        np.testing.assert_allclose(first.tumor_probability, second.tumor_probability, atol=1e-6)
        np.testing.assert_array_equal(first.tumor_mask, second.tumor_mask)
    assert "run enhancement" in results["run"][0].prediction.inputs_used
    assert "run enhancement" not in results["kf"][0].prediction.inputs_used
    assert results["kf"][0].prediction.probability == pytest.approx(
        results["kf"][1].prediction.probability, abs=1e-5)
    assert abs(results["run"][0].prediction.probability
               - results["run"][1].prediction.probability) > 1e-4  # measured 3e-4
