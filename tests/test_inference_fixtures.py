"""Shared by the inference and ``dsaviewer analyze`` tests: tiny random-initialised weights
written in the shipped format, and small synthetic DSA clips whose exposed field and key
frame are known by construction. (No tests here.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from dsaviewer.inference.weights import write_weights
from dsaviewer.io.video import Video
from dsaviewer.models import (
    ABLATIONS,
    ResponseConfig,
    build_response_model,
    build_segmentation_model,
    response_image_channels,
)
from dsaviewer.models.context_unet import ContextAggregation

MODEL_SIZE = 64
CLINICAL_FEATURES = 26  # values and presence flags of the 13 DSA-Net variables
# The exposed field of the synthetic clip, (y0, y1, x0, x1) half-open, in a 120 x 160 frame.
FIELD = (12, 112, 24, 148)
FRAME_SHAPE = (120, 160)
# Frames 9, 10 and 11 are identical and every other pair differs, so DSA-LTDNet's rule
# (lowest mean adjacent change) must pick frame 10.
PLATEAU_KEY_FRAME = 10
SPACING_MM = (0.3, 0.25)


def tiny_config(ablation: str = "full", liver_input: str | None = None,
                backbone: str | None = None):
    config = replace(ABLATIONS[ablation], base_width=4, depth=2, image_size=MODEL_SIZE)
    if backbone is not None:
        config = replace(config, backbone=backbone)
    return config if liver_input is None else replace(config, liver_input=liver_input)


def write_tiny_weights(
    folder: Path,
    ablation: str = "full",
    seed: int = 0,
    tumor_bias: float | None = None,
    liver_bias: float | None = None,
    with_response: bool = True,
    liver_input: str | None = None,
    backbone: str | None = None,
    response_run_maps: bool = False,
    response_measurements: bool = False,
) -> Path:
    """Random-initialised weights in ``folder``. ``tumor_bias`` / ``liver_bias`` make that
    network's output constant (head weights zeroed, bias = the given logit); ``liver_input``
    and ``backbone`` replace the ablation's; ``response_run_maps``: a response model that
    reads the run maps; ``response_measurements``: one with the tumor-measurement path.
    Context aggregation blocks get weights of 0.5 (trained ones start at 0), so that their
    attention shows in the outputs."""
    torch.manual_seed(seed)
    config = tiny_config(ablation, liver_input, backbone)
    segmentation = build_segmentation_model(config)
    with torch.no_grad():
        for block in segmentation.modules():
            if isinstance(block, ContextAggregation):
                block.alpha.fill_(0.5)
                block.beta.fill_(0.5)
    for net, bias in ((segmentation.tumor_net, tumor_bias), (segmentation.liver_net, liver_bias)):
        if bias is not None:
            with torch.no_grad():
                net.head.weight.zero_()
                net.head.bias.fill_(bias)
    response_config = ResponseConfig(
        clinical_features=CLINICAL_FEATURES, width=8, clinical_hidden=8, fusion_hidden=8,
        image_size=MODEL_SIZE, image_channels=response_image_channels(response_run_maps),
        reads_run_maps=response_run_maps, tumor_measurements=response_measurements,
    )
    response = build_response_model(response_config) if with_response else None
    write_weights(
        folder,
        segmentation,
        config,
        response,
        response_config if with_response else None,
        0.5 if with_response else None,
        {"training_command": "tests (random init)", "data_seed": seed, "random_init": True},
    )
    return folder


def synthetic_frames(n_frames: int = 16, seed: int = 0) -> np.ndarray:
    """``(T, 120, 160)`` uint8: a grey field at :data:`FIELD` in a black border, with a dark
    stain growing frame by frame, except frames 9-11 which are the same frame."""
    rng = np.random.default_rng(seed)
    height, width = FRAME_SHAPE
    y0, y1, x0, x1 = FIELD
    base = np.zeros(FRAME_SHAPE, np.int16)
    base[y0:y1, x0:x1] = 170 + rng.integers(-4, 5, (y1 - y0, x1 - x0))
    yy, xx = np.mgrid[:height, :width]
    frames = []
    for index in range(n_frames):
        step = min(index, 9) if index <= 11 else index - 2
        frame = base.copy()
        stain = (yy - 62) ** 2 / 1.5 + (xx - 86) ** 2 < (4 + 2 * step) ** 2
        frame[stain & (frame > 0)] -= 70
        frames.append(frame)
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def synthetic_video(n_frames: int = 16, source: Path = Path("synthetic.avi")) -> Video:
    return Video(
        frames=synthetic_frames(n_frames),
        fps=7.5,
        pixel_spacing_mm=SPACING_MM,
        source=source,
        source_format="synthetic",
    )
