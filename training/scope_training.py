"""Training of the scope classifier on its maps (``fit-scope``'s loop).

The augmentation is what the scope must not depend on: the dose and the display's contrast
(a gain on the image channels), quantum noise, and where the field sits (a shift of a few
pixels). Runs are not mirrored: in the frontal projection the liver is on the image's left,
and that is part of what makes a run hepatic. The two classes weigh equally.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from dsaviewer.core.scope_input import SCOPE_CHANNELS
from dsaviewer.models.scope_net import ScopeNet, ScopeNetConfig

_IMAGE_CHANNELS = [SCOPE_CHANNELS.index(name) for name in
                   ("key_frame", "key_enhancement", "max_enhancement", "enhancement_std")]
_FIELD = SCOPE_CHANNELS.index("field")
_SHIFT = 6  # pixels of the 64-pixel maps
_GAIN = (0.6, 1.5)
_NOISE = 0.01


def augment(maps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random gain, noise and shift of a batch ``(B, C, H, W)`` (a new array)."""
    out = maps.copy()
    gain = rng.uniform(*_GAIN, size=(len(out), 1, 1, 1)).astype(np.float32)
    field = out[:, _FIELD:_FIELD + 1]
    noise = rng.normal(0.0, _NOISE, size=(len(out), len(_IMAGE_CHANNELS), *out.shape[2:]))
    out[:, _IMAGE_CHANNELS] = out[:, _IMAGE_CHANNELS] * gain + noise.astype(np.float32) * field
    for row in range(len(out)):
        dy, dx = rng.integers(-_SHIFT, _SHIFT + 1, size=2)
        out[row] = np.roll(out[row], (int(dy), int(dx)), axis=(1, 2))
    return out


def train_scope_net(
    maps: np.ndarray,
    is_liver: np.ndarray,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 2e-3,
    seed: int = 0,
    config: ScopeNetConfig | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> ScopeNet:
    """A :class:`ScopeNet` trained on ``maps`` ``(N, C, H, W)`` with labels ``is_liver``
    (AdamW, one-cycle learning rate, equal class weights); returned in eval mode."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    labels = np.asarray(is_liver, dtype=np.float32)
    if len(labels) < batch_size or labels.all() or not labels.any():
        raise ValueError(f"need at least {batch_size} runs of both classes, got {len(labels)} "
                         f"({int(labels.sum())} liver)")
    net = ScopeNet(config or ScopeNetConfig())
    optimiser = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    steps_per_epoch = len(labels) // batch_size
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, lr,
                                                   total_steps=epochs * steps_per_epoch)
    balance = torch.tensor(float((labels == 0).sum() / labels.sum()))
    loss_function = nn.BCEWithLogitsLoss(pos_weight=balance)
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(labels))
        total = 0.0
        for step in range(steps_per_epoch):
            rows = order[step * batch_size:(step + 1) * batch_size]
            batch = torch.from_numpy(augment(maps[rows], rng))
            loss = loss_function(net(batch), torch.from_numpy(labels[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item()
        log(f"epoch {epoch + 1}/{epochs} loss {total / steps_per_epoch:.4f}")
    return net.eval()


def predict_scores(net: nn.Module, maps: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """P(hepatic DSA run) of each row of ``maps``."""
    net.eval()
    scores = []
    with torch.no_grad():
        for start in range(0, len(maps), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(maps[start:start + batch_size],
                                                          np.float32))
            scores.append(torch.sigmoid(net(batch)).numpy())
    return np.concatenate(scores) if scores else np.zeros(0, np.float32)
