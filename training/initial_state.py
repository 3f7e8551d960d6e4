"""A trained segmentation model's weights as the start of a run whose model differs from it
in the ways this module knows how to bridge.

- The input size (``image_size``): the networks are fully convolutional, so the same weights
  run at any size; a run at a finer size starts from what was learnt at the coarser one
  (the objects appear larger in pixels, which the run has to learn).
- A liver network that read the key frame alone (``liver_input="key_frame"``) becomes one
  that reads the whole stack (``"frames"``), and one that read either becomes one that reads
  the stack and the run maps (``"frames_and_run"``). Its first convolution gains the new
  input channels with zero weights and keeps the trained weights on the channels it read
  (the key frame is the stack's last), so the new model's outputs equal the old one's at
  step 0 and training only has to learn what the new inputs add.
- A wider model (a larger ``base_width``) keeps the trained channels and their outputs and
  adds new ones (see :mod:`training.wider_model`).
- A U-Net becomes a context U-Net (``backbone`` ``"unet"`` → ``"context_unet"``): every
  trained weight is kept and each sub-network gains Pang et al.'s context block at its deepest
  stage, untrained. The block's weights on its attention start at zero, so it passes ``2 X``
  on (each branch adds its input); the first up-sampling, a linear layer, gets half its
  weights, so the decoder sees what the U-Net's saw and the outputs equal the U-Net's at step 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import torch

from dsaviewer.models import LIVER_INPUTS, SegmentationConfig, build_segmentation_model
from training.wider_model import wider_state


def initial_state(
    state: Mapping[str, torch.Tensor],
    source: SegmentationConfig,
    target: SegmentationConfig,
) -> dict[str, torch.Tensor]:
    """``state`` (a model of ``source``) as the state of a model of ``target``.

    Raises ValueError when the two configs differ in anything but the input size, the liver
    network's input gaining inputs (key frame → frames → frames and run maps), and a larger
    base width.
    """
    source = dataclasses.replace(source, image_size=target.image_size)
    gains_context = (source.backbone, target.backbone) == ("unet", "context_unet")
    bridged = dataclasses.replace(source, liver_input=target.liver_input,
                                  base_width=target.base_width, backbone=target.backbone
                                  if gains_context else source.backbone)
    if bridged != target or (LIVER_INPUTS.index(source.liver_input)
                             > LIVER_INPUTS.index(target.liver_input)) or (
            gains_context and source.base_width != target.base_width):
        raise ValueError(f"a model of {source} cannot start a run of {target}: only the "
                         "input size, the liver input (from the key frame to the frames to "
                         "the frames and run maps), the base width (to a wider one) and the "
                         "backbone (a U-Net to a context U-Net, at the same width) may change")
    adapted = dict(state)
    as_source_backbone = dataclasses.replace(target, backbone=source.backbone)
    if source.liver_input != target.liver_input:
        adapted = _liver_reads_more(
            adapted, source, dataclasses.replace(as_source_backbone, base_width=source.base_width))
    if source.base_width != target.base_width:
        adapted = wider_state(adapted, source.base_width, target)
    if gains_context:
        adapted = _with_context_blocks(adapted, target)
    return adapted


def _with_context_blocks(
    state: Mapping[str, torch.Tensor], target: SegmentationConfig
) -> dict[str, torch.Tensor]:
    blocks = {name: value for name, value in build_segmentation_model(target).state_dict().items()
              if ".bottleneck." in name}  # untrained; alpha and beta are zero
    adapted = {**state, **blocks}
    for network in {name.split(".bottleneck.")[0] for name in blocks}:
        (up_weight,) = [name for name in state if name.startswith(f"{network}.ups.0.up.")
                        and name.endswith(".weight")]
        adapted[up_weight] = state[up_weight] / 2
    return adapted


def _liver_reads_more(
    state: Mapping[str, torch.Tensor], source: SegmentationConfig, target: SegmentationConfig
) -> dict[str, torch.Tensor]:
    expected = build_segmentation_model(target).state_dict()
    # Where the source's input channels sit among the target's: the key frame is the stack's
    # last frame, and the stack comes before the run maps.
    start = target.n_frames - 1 if source.liver_input == "key_frame" else 0
    adapted = dict(state)
    for name, value in state.items():
        if expected[name].shape == value.shape:
            continue
        if (not name.startswith("liver_net.") or value.ndim != 4
                or value.shape[1] != source.liver_in_channels):
            raise ValueError(f"{name}: shape {tuple(value.shape)} cannot become "
                             f"{tuple(expected[name].shape)}")
        widened = torch.zeros_like(expected[name])
        widened[:, start:start + value.shape[1]] = value
        adapted[name] = widened
    return adapted
