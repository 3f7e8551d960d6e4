"""Which parts of a segmentation model learn in a run, and keeping the others as they were.

A frozen part keeps its weights (``requires_grad = False``) and its BatchNorm statistics (its
BatchNorm layers stay in eval mode while the rest trains): a liver-only phase leaves the
tumor network exactly as it was. The loss stays whole: the tumor network reads the liver's
probability, so its loss keeps the liver network's output one it can read.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

# Named choices of parameter-name prefixes that learn (None: every parameter).
TRAINABLE: dict[str, tuple[str, ...] | None] = {
    "all": None,
    # The liver network alone: more steps for the liver than the joint run gives it,
    # without moving the tumor network.
    "liver": ("liver_net.",),
    # All but the temporal network: its target, the frame difference, needs no site labels.
    "no-temporal": ("liver_net.", "tumor_net."),
    "decoders": ("temporal_net.ups.", "temporal_net.head.", "liver_net.ups.",
                 "liver_net.head.", "tumor_net.ups.", "tumor_net.head."),
    # A context U-Net's attention blocks (models/context_unet.py), e.g. newly added to trained
    # weights: they start as the identity and need a higher rate than the rest to come in.
    "context": ("temporal_net.bottleneck.", "liver_net.bottleneck.", "tumor_net.bottleneck."),
}

# The sub-networks of DSALTDNet, by the output they make.
_NETWORKS = {"tumor": "tumor_net", "liver": "liver_net", "temporal": "temporal_net"}


def select_trainable(model: nn.Module, prefixes: Sequence[str] | None) -> list[nn.Parameter]:
    """The parameters that learn; the others get ``requires_grad = False``."""
    if prefixes is None:
        return list(model.parameters())
    learning = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith(tuple(prefixes)))
        if parameter.requires_grad:
            learning.append(parameter)
    if not learning:
        raise ValueError(f"no parameter name starts with any of {list(prefixes)}")
    return learning


def parameter_groups(
    model: nn.Module, learning_rate: float, rates: Sequence[tuple[str, float]] = ()
) -> list[dict]:
    """The optimiser's groups of the learning parameters: those whose name starts with one of
    ``rates``' prefixes learn at its rate (the first prefix that matches), the others at
    ``learning_rate``. The default group comes first (it is the rate the log shows)."""
    by_rate: list[list[nn.Parameter]] = [[] for _ in rates]
    rest: list[nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        index = next((i for i, (prefix, _) in enumerate(rates) if name.startswith(prefix)),
                     None)
        (rest if index is None else by_rate[index]).append(parameter)
    empty = [prefix for (prefix, _), parameters in zip(rates, by_rate, strict=True)
             if not parameters]
    if empty:
        raise ValueError(f"no learning parameter name starts with {empty} (given a rate)")
    groups = [{"params": rest, "lr": learning_rate}] if rest else []
    return groups + [{"params": parameters, "lr": rate}
                     for (_, rate), parameters in zip(rates, by_rate, strict=True)]


def learning_networks(model: nn.Module) -> tuple[str, ...]:
    """The sub-networks ("tumor", "liver", "temporal") with a parameter that learns."""
    learning = []
    for output, attribute in _NETWORKS.items():
        network = getattr(model, attribute, None)
        if network is not None and any(p.requires_grad for p in network.parameters()):
            learning.append(output)
    return tuple(learning)


def train_mode(model: nn.Module) -> nn.Module:
    """``model.train()``, except BatchNorm layers none of whose parameters learn: they keep
    normalising with the statistics they were trained with."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            parameters = list(module.parameters(recurse=False))
            if parameters and not any(p.requires_grad for p in parameters):
                module.eval()
    return model
