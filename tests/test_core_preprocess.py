"""Border removal, model-space conversion, polarity and the mask mappings of dsaviewer.core."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from dsaviewer.core.polarity import contrast_is_dark
from dsaviewer.core.preprocess import (
    FieldBox,
    ModelGeometry,
    find_field,
    make_geometry,
    mask_to_frame,
    mask_to_model,
    to_model,
)
from dsaviewer.errors import InputError

SHAPE = (300, 400)
FIELD = FieldBox(y0=30, y1=270, x0=50, x1=360)
FIELD_MASK = np.zeros(SHAPE, dtype=bool)
FIELD_MASK[FIELD.slices] = True


def _vessel_tree(shape: tuple[int, int], field: FieldBox) -> np.ndarray:
    """A branching pattern of thick lines inside the field, like an arterial tree."""
    tree = np.zeros(shape, dtype=np.uint8)
    trunk_top = (field.x0 + field.width // 3, field.y0 + 10)
    trunk_end = (field.x0 + field.width // 2, field.y0 + field.height // 2)
    cv2.line(tree, trunk_top, trunk_end, 1, 6)
    for dx, dy in ((-60, 70), (10, 90), (80, 60), (100, -20)):
        branch_end = (trunk_end[0] + dx, trunk_end[1] + dy)
        cv2.line(tree, trunk_end, branch_end, 1, 4)
    return tree.astype(bool)


def angiogram(
    n_frames: int = 12,
    inside: np.ndarray | None = None,
    inverted: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A small DSA-like clip: noisy black border with burned-in text, a light field, and a
    vessel tree that darkens as contrast fills it; returns (frames uint8, vessel mask)."""
    rng = np.random.default_rng(seed)
    if inside is None:
        inside = np.zeros(SHAPE, dtype=bool)
        inside[FIELD.slices] = True
    vessels = _vessel_tree(SHAPE, FIELD) & inside
    columns = np.arange(SHAPE[1], dtype=np.float32)
    background = 180.0 + 20.0 * columns / SHAPE[1]
    frames = np.empty((n_frames, *SHAPE), dtype=np.uint8)
    for t in range(n_frames):
        fill = min(1.0, t / (0.6 * n_frames))
        field_value = background - 110.0 * fill * vessels + rng.normal(0, 3, SHAPE)
        if inverted:
            field_value = 255.0 - field_value
        border_value = np.abs(rng.normal(0, 2, SHAPE))
        frame = np.where(inside, field_value, border_value)
        frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        cv2.putText(frame, f"LAO 12  {t:02d}", (5, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 2)
        marker_at = (FIELD.x1 - 30, FIELD.y1 - 10)
        cv2.putText(frame, "R", marker_at, cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
        frames[t] = frame
    return frames, vessels


def _disc(center: tuple[int, int], radius: int) -> np.ndarray:
    disc = np.zeros(SHAPE, dtype=np.uint8)
    cv2.circle(disc, center, radius, 1, -1)
    return disc.astype(bool)


# --- find_field -------------------------------------------------------------------------


def test_field_of_a_rectangular_collimator_is_found_exactly_despite_text_and_noise() -> None:
    frames, _ = angiogram()
    assert find_field(frames) == FIELD
    assert find_field(frames[5]) == FIELD


def test_field_ignores_a_thin_ruler_line_touching_it() -> None:
    frames, _ = angiogram()
    for frame in frames:
        cv2.line(frame, (FIELD.x1 - 40, 0), (FIELD.x1 - 40, FIELD.y0 + 5), 255, 2)
    assert find_field(frames) == FIELD


def test_field_of_a_round_collimator_is_its_bounding_box() -> None:
    inside = _disc(center=(200, 150), radius=115)
    frames, _ = angiogram(inside=inside)
    rows, columns = np.nonzero(inside)
    found = find_field(frames)
    expected = (rows.min(), rows.max() + 1, columns.min(), columns.max() + 1)
    assert np.abs(np.subtract((found.y0, found.y1, found.x0, found.x1), expected)).max() <= 1


def test_one_black_frame_does_not_change_the_field() -> None:
    frames, _ = angiogram()
    frames[4] = 0
    assert find_field(frames) == FIELD


def test_field_is_found_in_inverted_and_in_12_bit_clips() -> None:
    inverted, _ = angiogram(inverted=True)
    assert find_field(inverted) == FIELD
    twelve_bit, _ = angiogram()
    twelve_bit = twelve_bit.astype(np.uint16) * 16
    assert find_field(twelve_bit) == FIELD
    assert find_field(twelve_bit, white_level=4095) == FIELD


def test_a_field_without_border_is_the_whole_frame() -> None:
    frames, _ = angiogram(inside=np.ones(SHAPE, dtype=bool))
    assert find_field(frames) == FieldBox(0, SHAPE[0], 0, SHAPE[1])


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (np.zeros(SHAPE, dtype=np.uint8), "all border"),
        (np.full(SHAPE, 128, dtype=np.uint8), "blank"),
        (np.full(SHAPE, 0.5, dtype=np.float32), "blank"),
    ],
)
def test_blank_or_all_border_frames_are_refused_with_the_reason(
    frame: np.ndarray, problem: str
) -> None:
    with pytest.raises(InputError, match=problem):
        find_field(frame)


def test_border_with_only_text_has_no_field() -> None:
    frame = np.abs(np.random.default_rng(1).normal(0, 2, SHAPE)).astype(np.uint8)
    cv2.putText(frame, "NO FIELD", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 255, 6)
    with pytest.raises(InputError, match="no exposed field|all border"):
        find_field(frame)


def test_frames_that_are_not_grey_images_are_refused() -> None:
    with pytest.raises(InputError, match="shape"):
        find_field(np.zeros((2, 3, 4, 5), dtype=np.uint8))


# --- polarity ---------------------------------------------------------------------------


def test_polarity_is_read_from_the_direction_contrast_moves() -> None:
    dark, _ = angiogram()
    bright, _ = angiogram(inverted=True)
    assert contrast_is_dark(dark, FIELD) is True
    assert contrast_is_dark(bright, FIELD) is False


def test_polarity_survives_contrast_washing_out_at_the_end() -> None:
    frames, _ = angiogram(n_frames=20)
    washed_out = np.concatenate([frames[:12], frames[12:][::-1] // 2 + frames[0] // 2])
    bright = np.where(FIELD_MASK, 255 - washed_out, washed_out).astype(np.uint8)
    assert contrast_is_dark(washed_out, FIELD) is True
    assert contrast_is_dark(bright, FIELD) is False


def test_polarity_without_change_assumes_the_usual_display() -> None:
    frames, _ = angiogram()
    assert contrast_is_dark(frames[:1], FIELD) is True
    assert contrast_is_dark(np.repeat(frames[:1], 5, axis=0), FIELD) is True


# --- to_model ---------------------------------------------------------------------------


def test_model_input_is_the_field_in_0_1_with_contrast_bright() -> None:
    frames, vessels = angiogram()
    geometry = make_geometry(frames)
    assert geometry == ModelGeometry(field=FIELD, frame_shape=SHAPE, size=256)
    model = to_model(frames, geometry)
    assert model.shape == (12, 256, 256) and model.dtype == np.float32
    assert model.min() == 0.0 and model.max() == 1.0
    vessels_model = mask_to_model(vessels, geometry)
    background_model = ~mask_to_model(
        cv2.dilate(vessels.astype(np.uint8), None, iterations=8).astype(bool), geometry
    )
    last = model[-1]
    assert last[vessels_model].mean() > last[background_model].mean() + 0.3


def test_inverted_clip_gives_the_same_model_input() -> None:
    dark, _ = angiogram()
    bright = np.where(FIELD_MASK, 255 - dark, dark).astype(np.uint8)
    geometry = make_geometry(dark)
    np.testing.assert_allclose(to_model(bright, geometry), to_model(dark, geometry), atol=1e-4)
    # Stating the polarity skips detection and gives the same answer.
    np.testing.assert_allclose(
        to_model(bright, geometry, contrast_bright=True), to_model(bright, geometry), atol=0
    )
    # Stating it wrongly shows the contrast dark.
    np.testing.assert_allclose(
        to_model(bright, geometry, contrast_bright=False),
        1 - to_model(bright, geometry),
        atol=1e-6,
    )


def test_one_intensity_window_for_the_whole_clip_keeps_frame_differences() -> None:
    frames, _ = angiogram(n_frames=2)
    frames[1] = frames[0]
    frames[1][FIELD.slices] -= 30  # the whole field 30 grey levels darker, as with more contrast
    geometry = make_geometry(frames)
    model = to_model(frames, geometry, contrast_bright=False)
    assert model[1].mean() > model[0].mean() + 0.05
    # Scaled frame by frame, the two would look the same.
    first_alone = to_model(frames[0], geometry, contrast_bright=False)
    second_alone = to_model(frames[1], geometry, contrast_bright=False)
    assert abs(second_alone.mean() - first_alone.mean()) < 0.01


def test_model_input_keeps_features_where_the_geometry_maps_them() -> None:
    frames, _ = angiogram(n_frames=3)
    square = np.zeros(SHAPE, dtype=bool)
    square[100:160, 200:260] = True
    frames[:, square] = 20
    geometry = make_geometry(frames)
    dark_in_model = to_model(frames, geometry, contrast_bright=True)[0] < 0.1
    expected = mask_to_model(square, geometry)
    iou = (dark_in_model & expected).sum() / (dark_in_model | expected).sum()
    assert iou > 0.9


def test_corners_of_a_round_field_stay_black_whatever_the_polarity() -> None:
    inside = _disc(center=(200, 150), radius=115)
    frames, _ = angiogram(inside=inside)
    geometry = make_geometry(frames)
    assert geometry.outside is not None
    expected_outside = ~mask_to_model(inside, geometry)
    differing = (geometry.outside != expected_outside).mean()
    assert differing < 0.01  # the disc's rim, within a pixel
    for contrast_bright in (True, False):
        model = to_model(frames, geometry, contrast_bright=contrast_bright)
        assert not model[:, geometry.outside].any()
        assert model[:, ~geometry.outside].max() == 1.0
    assert make_geometry(angiogram()[0]).outside is None


def test_field_of_a_real_angiogram_with_a_round_collimator(shared_dicom_dir: Path) -> None:
    from dsaviewer.io.video import load_video

    frames = load_video(shared_dicom_dir / "XA-MONO2-8-12x-catheter.dcm").frames
    geometry = make_geometry(frames)
    field = geometry.field
    outside_box = np.ones(frames.shape[1:], dtype=bool)
    outside_box[field.slices] = False
    # Cut away: the black border (2) and the collimator's faint shadow (up to 16); the field
    # itself starts above 20.
    assert frames[:, outside_box].max() <= 20
    brightest = cv2.medianBlur(frames.max(axis=0), 5)[field.slices] > 20
    assert brightest[0].any() and brightest[-1].any()  # the box is tight on every side
    assert brightest[:, 0].any() and brightest[:, -1].any()
    assert geometry.outside is not None  # a round collimator leaves black corners
    model = to_model(frames, geometry)
    assert model.shape == (12, 256, 256) and not model[:, geometry.outside].any()


def test_to_model_refuses_frames_of_another_size() -> None:
    frames, _ = angiogram(n_frames=2)
    geometry = make_geometry(frames)
    with pytest.raises(InputError, match="frame size"):
        to_model(frames[:, :-1], geometry)


# --- mask mappings ----------------------------------------------------------------------


def _geometries() -> list[ModelGeometry]:
    """Field boxes of model size and larger, with integer and awkward scales and offsets."""
    return [
        ModelGeometry(FieldBox(0, 256, 0, 256), (256, 256)),
        ModelGeometry(FieldBox(3, 443, 7, 300), (450, 310)),
        ModelGeometry(FieldBox(20, 788, 30, 1000), (788, 1021)),
        ModelGeometry(FieldBox(11, 777, 0, 1021), (788, 1021)),
        ModelGeometry(FieldBox(40, 700, 100, 987), (788, 1021)),
    ]


@pytest.mark.parametrize("geometry", _geometries())
def test_a_model_mask_mapped_to_the_frame_and_back_is_unchanged(geometry: ModelGeometry) -> None:
    rng = np.random.default_rng(geometry.field.height)
    speckle = rng.random((256, 256)) < 0.5  # single pixels: the hardest case
    blobs = np.zeros((256, 256), dtype=np.uint8)
    cv2.ellipse(blobs, (90, 120), (40, 25), 30, 0, 360, 1, -1)
    cv2.circle(blobs, (200, 60), 3, 1, -1)
    for mask in (speckle, blobs.astype(bool)):
        on_frame = mask_to_frame(mask, geometry)
        assert on_frame.dtype == bool and on_frame.shape == geometry.frame_shape
        assert not on_frame[~_box_mask(geometry)].any()
        assert np.array_equal(mask_to_model(on_frame, geometry), mask)


def test_blocks_on_the_frame_survive_the_round_trip() -> None:
    geometry = ModelGeometry(FieldBox(20, 788, 30, 1000), (788, 1021))
    blocks = np.zeros(geometry.frame_shape, dtype=bool)
    # Liver-sized blocks: each edge moves by up to half a model pixel (about 1.7 pixels here).
    blocks[100:300, 200:450] = True
    blocks[450:620, 600:780] = True
    blocks[650:760, 50:400] = True
    back = mask_to_frame(mask_to_model(blocks, geometry), geometry)
    assert (blocks & back).sum() / (blocks | back).sum() >= 0.98
    # Mapping to model space and back is a projection: a second trip changes nothing.
    assert np.array_equal(mask_to_frame(mask_to_model(back, geometry), geometry), back)


def test_blocks_on_model_pixel_boundaries_survive_exactly() -> None:
    # 768 x 768 field: exactly 3 original pixels per model pixel.
    geometry = ModelGeometry(FieldBox(10, 778, 5, 773), (788, 800))
    blocks = np.zeros(geometry.frame_shape, dtype=bool)
    for top, left, height, width in ((0, 0, 30, 60), (300, 450, 3, 3), (600, 90, 168, 300)):
        blocks[10 + top : 10 + top + height, 5 + left : 5 + left + width] = True
    assert np.array_equal(mask_to_frame(mask_to_model(blocks, geometry), geometry), blocks)


def test_probability_maps_map_linearly_with_zeros_outside_the_field() -> None:
    geometry = _geometries()[2]
    constant = np.full((256, 256), 0.7, dtype=np.float32)
    on_frame = mask_to_frame(constant, geometry)
    assert on_frame.dtype == np.float32
    np.testing.assert_allclose(on_frame[_box_mask(geometry)], 0.7, atol=1e-6)
    assert not on_frame[~_box_mask(geometry)].any()

    ramp = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (256, 1))
    back = mask_to_model(mask_to_frame(ramp, geometry), geometry)
    assert np.abs(back - ramp).max() < 0.01


def test_thresholded_probability_and_boolean_mask_agree_on_the_frame() -> None:
    geometry = _geometries()[3]
    probability = np.zeros((256, 256), dtype=np.float32)
    cv2.circle(probability, (128, 100), 40, 1.0, -1)
    probability = cv2.GaussianBlur(probability, (9, 9), 2)
    from_probability = mask_to_frame(probability, geometry) >= 0.5
    from_mask = mask_to_frame(probability >= 0.5, geometry)
    iou = (from_probability & from_mask).sum() / (from_probability | from_mask).sum()
    assert iou >= 0.98


def test_masks_of_the_wrong_size_are_refused() -> None:
    geometry = _geometries()[1]
    with pytest.raises(InputError, match="model mask"):
        mask_to_frame(np.zeros((128, 128), dtype=bool), geometry)
    with pytest.raises(InputError, match="frame size"):
        mask_to_model(np.zeros((256, 256), dtype=bool), geometry)


def _box_mask(geometry: ModelGeometry) -> np.ndarray:
    inside = np.zeros(geometry.frame_shape, dtype=bool)
    inside[geometry.field.slices] = True
    return inside
