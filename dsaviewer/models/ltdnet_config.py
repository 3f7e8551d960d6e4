"""What a DSA-LTDNet segmentation model is made of, and the papers' ablation rows as presets.

One :class:`SegmentationConfig` describes every variant the papers compare (single key-frame
baselines, key frame plus a hand-made temporal channel, learned temporal difference with or
without frame-difference supervision, liver guidance, Gruber's two-step cascade), so the
training package trains and the viewer loads each of them through the same code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from dsaviewer.models.backbones import BACKBONES
from dsaviewer.models.blocks import check_architecture
from dsaviewer.models.config_io import config_from_dict, config_to_dict

# "none": key frame only. "tdl": the temporal channel is learned from the frames.
# The other three are computed outside the network and passed in as ``aux``.
TEMPORAL_MODES = ("none", "fd", "optical_flow", "background_subtraction", "tdl")
AUX_TEMPORAL_MODES = ("fd", "optical_flow", "background_subtraction")
# What the liver network reads: the key frame alone (the papers' LRS), the whole stack
# k-n+1..k, or the stack and maps of the whole run (dsaviewer.core.run_maps). The liver label
# is the perfused territory, which the arterial tree outlines; in a late key frame the tree
# has faded, a low-dose key frame is noisy where the stack is not, and the parenchymal blush
# can come before the stack or after the key frame.
# Each reads what the one before it reads and more: a trained model starts a run of a later
# one (training.initial_state), never of an earlier one.
LIVER_INPUTS = ("key_frame", "frames", "frames_and_run")
# The run maps' count: dsaviewer.core.run_maps.RUN_MAPS computes them (models and core do not
# import each other; a test keeps the two in step).
RUN_MAP_CHANNELS = 2


@dataclass(frozen=True)
class SegmentationConfig:
    """The architecture of one segmentation model (DSA-LTDNet / DSA-Net Model 1 and ablations).

    - ``backbone``: network used for every sub-network (see ``BACKBONES``).
    - ``temporal``: the FFS's second input channel (see ``TEMPORAL_MODES``).
    - ``tdl_supervised``: TDL is trained toward the frame difference (``temporal == "tdl"``).
    - ``use_lrs``: a liver network's probability map is an extra FFS input channel.
    - ``cascade``: Gruber's two-step: the liver probability multiplies the FFS inputs.
    - ``liver_input``: what the liver network reads (see ``LIVER_INPUTS``).
    - ``n_frames``: frames k−n+1..k given to the network, the key frame last.
    - ``image_size``: side of the square model input the preprocessing produces.
    """

    backbone: str = "unet"
    base_width: int = 8
    depth: int = 4
    norm: str = "batch"
    upsample: str = "transpose"
    temporal: str = "none"
    tdl_supervised: bool = False
    use_lrs: bool = False
    cascade: bool = False
    liver_input: str = "key_frame"
    n_frames: int = 10
    image_size: int = 256

    def __post_init__(self) -> None:
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {self.backbone!r}")
        check_architecture(self.base_width, self.depth, self.norm, self.upsample)
        if self.temporal not in TEMPORAL_MODES:
            raise ValueError(f"temporal must be one of {TEMPORAL_MODES}, got {self.temporal!r}")
        if self.tdl_supervised and self.temporal != "tdl":
            raise ValueError(f"tdl_supervised needs temporal='tdl', got {self.temporal!r}")
        if self.liver_input not in LIVER_INPUTS:
            raise ValueError(f"liver_input must be one of {LIVER_INPUTS}, got {self.liver_input!r}")
        if self.liver_input != "key_frame" and not self.has_liver_net:
            raise ValueError(f"liver_input {self.liver_input!r} needs a liver network "
                             "(use_lrs or cascade)")
        if self.n_frames < 1 or (self.temporal == "tdl" and self.n_frames < 2):
            raise ValueError(
                f"n_frames must be at least 2 for TDL and 1 otherwise, got {self.n_frames}"
            )
        if self.image_size < 1 or self.image_size % 2**self.depth:
            raise ValueError(
                f"image_size must be a positive multiple of 2**depth = {2**self.depth}, "
                f"got {self.image_size}"
            )

    @property
    def has_liver_net(self) -> bool:
        """Whether a liver (LRS) network is part of the model."""
        return self.use_lrs or self.cascade

    @property
    def reads_run_maps(self) -> bool:
        """Whether the model takes the run maps (``dsaviewer.core.run_maps``) as an input."""
        return self.liver_input == "frames_and_run"

    @property
    def liver_in_channels(self) -> int:
        """Input channels of the liver (LRS) network."""
        if self.liver_input == "key_frame":
            return 1
        return self.n_frames + (RUN_MAP_CHANNELS if self.reads_run_maps else 0)

    @property
    def needs_aux(self) -> bool:
        """Whether the temporal channel is computed outside and passed as ``aux``."""
        return self.temporal in AUX_TEMPORAL_MODES

    @property
    def tumor_in_channels(self) -> int:
        """Input channels of the tumor (FFS) network: key frame, temporal, liver probability."""
        return 1 + (self.temporal != "none") + self.use_lrs

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], source: str | Path | None = None
    ) -> SegmentationConfig:
        """Inverse of :meth:`to_dict`; raises InputError naming ``source`` on bad data."""
        return config_from_dict(cls, data, source)


_BASE = SegmentationConfig()

# The rows of DSA-LTDNet's Tables 1 and 2 plus Gruber's cascade, as configurations.
ABLATIONS: Mapping[str, SegmentationConfig] = MappingProxyType(
    {
        "kf_only": _BASE,
        "kf_attention_unet": replace(_BASE, backbone="attention_unet"),
        "kf_unet_plusplus": replace(_BASE, backbone="unet_plusplus"),
        "kf_context_unet": replace(_BASE, backbone="context_unet"),
        "kf_fd": replace(_BASE, temporal="fd"),
        "kf_optical_flow": replace(_BASE, temporal="optical_flow"),
        "kf_background_subtraction": replace(_BASE, temporal="background_subtraction"),
        "kf_tdl_unsupervised": replace(_BASE, temporal="tdl"),
        "kf_tdl": replace(_BASE, temporal="tdl", tdl_supervised=True),
        "kf_lrs": replace(_BASE, use_lrs=True),
        "cascade": replace(_BASE, cascade=True),
        "full": replace(_BASE, temporal="tdl", tdl_supervised=True, use_lrs=True),
    }
)
