"""A trained segmentation model's weights as the start of a wider one with the same outputs.

A model of ``base_width`` w becomes one of W > w. Every channel count c of the narrow model
is c * W / w in the wide one, and the narrow model's channel i sits at ``floor(i * W / w)``:
spread out, not packed at the front, so that a concatenation of two stages (a U-Net's skip
joining the upsampled path) still finds each part's old channels where the narrow model had
them. A weight from an old channel to an old channel keeps its trained value; a weight from
a new channel into an old one is zero, so the old channels, and the outputs they feed, are
at step 0 exactly what the narrow model computed; the new channels start from the wide
model's random initialisation and read everything. Training then only has to find what the
extra channels add.

This holds only where every layer treats channels one by one apart from its convolutions:
batch and instance normalisation do, group normalisation (statistics over several channels)
does not and is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import torch
from torch import nn

from dsaviewer.models import SegmentationConfig, build_segmentation_model

# Per module type: which dimension of its weight holds the output channels.
_OUTPUT_DIMENSION: dict[type[nn.Module], int] = {
    nn.Conv2d: 0,
    nn.ConvTranspose2d: 1,
    nn.BatchNorm2d: 0,
    nn.InstanceNorm2d: 0,
}
NEW_CHANNEL_SEED = 0


def wider_state(
    state: Mapping[str, torch.Tensor],
    narrow_width: int,
    target: SegmentationConfig,
) -> dict[str, torch.Tensor]:
    """``state`` (the model of ``target`` at ``base_width`` ``narrow_width``) as the state of
    ``target``'s wider model. Raises ValueError when the widths or the layers do not allow it.
    """
    if target.base_width <= narrow_width:
        raise ValueError(f"a model of base width {narrow_width} can only start a wider one, "
                         f"not one of {target.base_width}")
    if target.norm == "group":
        raise ValueError("group normalisation mixes channels: its models cannot be widened "
                         "without changing their outputs")
    ratio = Fraction(target.base_width, narrow_width)
    with torch.random.fork_rng():
        torch.manual_seed(NEW_CHANNEL_SEED)  # the new channels' start is reproducible
        model = build_segmentation_model(target)
    modules = dict(model.named_modules())
    wide = model.state_dict()
    if set(wide) != set(state):
        raise ValueError("the weights do not hold the layers of this model")
    return {name: _wider_tensor(name, state[name], wide[name], modules, ratio)
            for name in wide}


def _wider_tensor(
    name: str,
    narrow: torch.Tensor,
    wide: torch.Tensor,
    modules: Mapping[str, nn.Module],
    ratio: Fraction,
) -> torch.Tensor:
    if narrow.shape == wide.shape:
        return narrow.clone()
    module = modules[name.rpartition(".")[0]]
    output_dimension = _OUTPUT_DIMENSION.get(type(module))
    if output_dimension is None:
        raise ValueError(f"{name}: a {type(module).__name__} cannot be widened")
    if narrow.ndim == 1:  # biases and normalisation parameters: output channels only
        output_dimension = 0
    positions = [_positions(name, old, new, ratio)
                 for old, new in zip(narrow.shape, wide.shape, strict=True)]
    result = wide.clone()
    # Old output channels read nothing from new input channels ...
    result.index_fill_(output_dimension, positions[output_dimension], 0)
    # ... and what they read from old ones is what the narrow model learnt.
    grid = [index.reshape([-1 if axis == d else 1 for axis in range(narrow.ndim)])
            for d, index in enumerate(positions)]
    result[tuple(grid)] = narrow
    return result


def _positions(name: str, old: int, new: int, ratio: Fraction) -> torch.Tensor:
    if old == new:
        return torch.arange(old)
    if new != old * ratio:
        raise ValueError(f"{name}: {old} channels cannot become {new} at {ratio} times the width")
    return torch.tensor([int(i * ratio) for i in range(old)])
