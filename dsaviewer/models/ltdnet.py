"""DSA-LTDNet (Jiang et al.; DSA-Net Model 1): tumor segmentation of the key frame of a DSA run.

Three sub-networks, each a backbone from one factory:

- TDL, ``temporal_net``: the ``n_frames`` frames k−9..k as channels → the learned temporal
  difference, one map. Its output is a sigmoid: the frame difference it is supervised
  toward (``L1(TDL, FD)``) is an absolute difference of [0, 1] frames, so it lives in [0, 1],
  and a bounded map keeps the FFS inputs on one scale even when TDL is unsupervised.
- LRS, ``liver_net``: the key frame (or, with ``liver_input="frames"``, the whole stack; with
  ``"frames_and_run"`` the stack and the run maps of ``dsaviewer.core.run_maps``) → liver
  logits.
- FFS, ``tumor_net``: [key frame, temporal channel, liver probability] (the channels the
  config uses) → tumor logits. With ``cascade`` the liver probability multiplies the key
  frame and temporal channel first (Gruber et al.'s two-step network, with the soft
  probability in place of a thresholded mask so the step stays differentiable).

Training in stages (TDL on FD alone first; the liver network first for a cascade) is the
training loop's business: it freezes or skips sub-networks; the model itself is one graph.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from dsaviewer.models.backbones import build_backbone
from dsaviewer.models.ltdnet_config import RUN_MAP_CHANNELS, SegmentationConfig


class SegmentationOutput(NamedTuple):
    """What :class:`DSALTDNet` returns; every tensor is ``(B, 1, H, W)``.

    ``liver_logits`` is None without a liver network, ``temporal`` (the learned temporal
    difference in [0, 1]) None unless the config's temporal mode is ``"tdl"``. A NamedTuple
    rather than a dataclass because tracing (ONNX export) accepts tuples of tensors.
    """

    tumor_logits: torch.Tensor
    liver_logits: torch.Tensor | None
    temporal: torch.Tensor | None


class DSALTDNet(nn.Module):
    """The segmentation model a :class:`SegmentationConfig` describes."""

    def __init__(self, config: SegmentationConfig) -> None:
        super().__init__()
        self.config = config

        def backbone(in_channels: int) -> nn.Module:
            return build_backbone(
                config.backbone,
                in_channels,
                1,
                base_width=config.base_width,
                depth=config.depth,
                norm=config.norm,
                upsample=config.upsample,
            )

        self.temporal_net = backbone(config.n_frames) if config.temporal == "tdl" else None
        self.liver_net = backbone(config.liver_in_channels) if config.has_liver_net else None
        self.tumor_net = backbone(config.tumor_in_channels)

    def forward(
        self,
        frames: torch.Tensor,
        aux: torch.Tensor | None = None,
        run_maps: torch.Tensor | None = None,
    ) -> SegmentationOutput:
        """Segment the key frame.

        ``frames``: ``(B, n_frames, H, W)``, frames k−n+1..k in [0, 1], the key frame last.
        ``aux``: ``(B, 1, H, W)``, the precomputed temporal channel, given exactly when the
        config's temporal mode is fd, optical_flow or background_subtraction.
        ``run_maps``: ``(B, RUN_MAP_CHANNELS, H, W)`` (``dsaviewer.core.run_maps``), given
        exactly when the config's liver network reads them (``config.reads_run_maps``).
        """
        self._check_inputs(frames, aux, run_maps)
        key_frame = frames[:, -1:]
        temporal = None
        inputs = [key_frame]
        if self.temporal_net is not None:
            temporal = torch.sigmoid(self.temporal_net(frames))
            inputs.append(temporal)
        elif aux is not None:
            inputs.append(aux)

        liver_logits = None
        if self.liver_net is not None:
            liver_logits = self.liver_net(self._liver_input(frames, key_frame, run_maps))
            liver_probability = torch.sigmoid(liver_logits)
            if self.config.cascade:
                inputs = [channel * liver_probability for channel in inputs]
            if self.config.use_lrs:
                inputs.append(liver_probability)

        tumor_logits = self.tumor_net(torch.cat(inputs, dim=1))
        return SegmentationOutput(tumor_logits, liver_logits, temporal)

    def _liver_input(
        self, frames: torch.Tensor, key_frame: torch.Tensor, run_maps: torch.Tensor | None
    ) -> torch.Tensor:
        if self.config.liver_input == "key_frame":
            return key_frame
        if self.config.reads_run_maps:
            return torch.cat([frames, run_maps], dim=1)
        return frames

    def _check_inputs(
        self, frames: torch.Tensor, aux: torch.Tensor | None, run_maps: torch.Tensor | None
    ) -> None:
        # Under tracing (ONNX export) the shapes are symbolic; the checks would only warn.
        if torch.jit.is_tracing():
            return
        if frames.ndim != 4 or frames.shape[1] != self.config.n_frames:
            raise ValueError(
                f"frames must be (B, {self.config.n_frames}, H, W), got {tuple(frames.shape)}"
            )
        if self.config.needs_aux:
            expected = (frames.shape[0], 1, *frames.shape[2:])
            if aux is None or tuple(aux.shape) != expected:
                got = None if aux is None else tuple(aux.shape)
                raise ValueError(
                    f"temporal mode {self.config.temporal!r} needs aux of shape {expected}, "
                    f"got {got}"
                )
        elif aux is not None:
            raise ValueError(
                f"aux given, but temporal mode {self.config.temporal!r} does not use it"
            )
        if self.config.reads_run_maps:
            expected = (frames.shape[0], RUN_MAP_CHANNELS, *frames.shape[2:])
            if run_maps is None or tuple(run_maps.shape) != expected:
                got = None if run_maps is None else tuple(run_maps.shape)
                raise ValueError(f"liver input {self.config.liver_input!r} needs run_maps of "
                                 f"shape {expected}, got {got}")
        elif run_maps is not None:
            raise ValueError(
                f"run_maps given, but liver input {self.config.liver_input!r} does not use them"
            )
