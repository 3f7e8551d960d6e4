"""U-Net++ (Zhou et al. 2018): a U-Net whose skips are nested, densely connected decoders."""

from __future__ import annotations

import torch
from torch import nn

from dsaviewer.models.blocks import (
    DoubleConv,
    Encoder,
    check_architecture,
    check_spatial_size,
    stage_widths,
    upsample_layer,
)


class UNetPlusPlus(nn.Module):
    """Node ``X[s, j]`` (stage ``s``, column ``j ≥ 1``) convolves the concatenation of
    ``X[s, 0..j-1]`` and the up-sampled ``X[s+1, j-1]``; column 0 is the encoder.

    ``forward`` returns logits ``(B, out_channels, H, W)`` from the last full-resolution node.
    With ``deep_supervision`` every full-resolution node ``X[0, 1..depth]`` gets its own head:
    :meth:`column_logits` returns them all for a deep-supervision loss, and ``forward``
    returns their mean (the paper's "accurate mode").
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_width: int = 8,
        depth: int = 4,
        norm: str = "batch",
        upsample: str = "transpose",
        deep_supervision: bool = False,
    ) -> None:
        super().__init__()
        check_architecture(base_width, depth, norm, upsample)
        self.depth = depth
        self.deep_supervision = deep_supervision
        widths = stage_widths(base_width, depth)
        self.encoder = Encoder(in_channels, widths, norm)
        self.ups = nn.ModuleDict()
        self.nodes = nn.ModuleDict()
        for column in range(1, depth + 1):
            for stage in range(depth - column + 1):
                name = _node_name(stage, column)
                self.ups[name] = upsample_layer(widths[stage + 1], widths[stage], upsample)
                self.nodes[name] = DoubleConv((column + 1) * widths[stage], widths[stage], norm)
        head_columns = range(1, depth + 1) if deep_supervision else [depth]
        self.heads = nn.ModuleDict(
            {str(column): nn.Conv2d(widths[0], out_channels, 1) for column in head_columns}
        )

    def column_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Logits of every supervised full-resolution node, shallowest column first."""
        check_spatial_size(x, self.depth)
        grid: dict[tuple[int, int], torch.Tensor] = {
            (stage, 0): features for stage, features in enumerate(self.encoder(x))
        }
        for column in range(1, self.depth + 1):
            for stage in range(self.depth - column + 1):
                name = _node_name(stage, column)
                inputs = [grid[stage, previous] for previous in range(column)]
                inputs.append(self.ups[name](grid[stage + 1, column - 1]))
                grid[stage, column] = self.nodes[name](torch.cat(inputs, dim=1))
        return [head(grid[0, int(column)]) for column, head in self.heads.items()]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.column_logits(x)
        if len(logits) == 1:
            return logits[0]
        return torch.stack(logits).mean(dim=0)


def _node_name(stage: int, column: int) -> str:
    return f"{stage}_{column}"
