"""Training checkpoints that survive an interruption and resume to the very same weights.

A checkpoint is one ``torch.save`` file of plain dicts, lists, numbers, strings and tensors,
so ``torch.load(weights_only=True)`` reads it: model, optimiser and scheduler state, where
training stood (epoch, batch within the epoch, global step, best metric) and the torch random
number generator states. The data order and augmentation are drawn from generators seeded by
(seed, epoch, sample), never from global state, so these RNG states plus the position are all
a resumed run needs to take the same steps as an uninterrupted one.

Files are written beside their target and renamed onto it, so a kill in mid-write leaves the
previous checkpoint intact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from dsaviewer.errors import InputError
from dsaviewer.io.writers import replace_atomically

FORMAT = "dsaviewer-training-checkpoint"
FORMAT_VERSION = 1


def save_checkpoint(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` (plus format markers) to ``path`` atomically; return the path."""
    target = Path(path)
    with replace_atomically(target) as temporary:
        torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, **payload}, temporary)
    return target


def load_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` onto the CPU.

    ``kind`` ("segmentation" or "response"), when given, must match the stored kind.
    InputError names the file when it is missing, unreadable or of another kind.
    """
    source = Path(path)
    return _checked(_read(source), kind, source)


def load_model_checkpoint(path: str | Path, kind: str) -> dict[str, Any]:
    """A ``kind`` checkpoint, or a weights folder's ``segmentation.pt`` / ``response.pt``
    (config and state dict) in a checkpoint's shape without a split, so the evaluation
    commands take shipped weights as they take a ``best.pt``. The file is read once."""
    source = Path(path)
    stored = _read(source)
    if isinstance(stored, dict) and set(stored) == {"config", "state_dict"}:
        return {"config": stored["config"], "model": stored["state_dict"],
                "split": {"train": [], "validation": []}}
    return _checked(stored, kind, source)


def _read(source: Path) -> Any:
    if not source.is_file():
        raise InputError("checkpoint file not found", source)
    try:
        return torch.load(source, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
        raise InputError(f"not a readable training checkpoint: {error}", source) from error


def _checked(stored: Any, kind: str | None, source: Path) -> dict[str, Any]:
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        raise InputError(f"not a training checkpoint (no {FORMAT!r} marker)", source)
    if stored.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"checkpoint format version {stored.get('format_version')!r}, this program reads "
            f"{FORMAT_VERSION}",
            source,
        )
    if kind is not None and stored.get("kind") != kind:
        raise InputError(f"holds a {stored.get('kind')!r} model, expected {kind!r}", source)
    return stored


def capture_rng_state() -> dict[str, Any]:
    """The torch CPU and CUDA generator states (dropout and weight initialisation use them)."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`; CUDA states are skipped on a machine without one."""
    torch.set_rng_state(state["torch"])
    cuda_states = state.get("cuda")
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])


def check_resumable(
    stored: Mapping[str, Any],
    config: Mapping[str, Any],
    options: Mapping[str, Any],
    run_control: tuple[str, ...],
    split: Mapping[str, Any],
    source: str | Path,
) -> None:
    """InputError unless the checkpoint ``stored`` was written by a run with this model
    config, these options (``run_control`` fields may differ) and this split of the cases.

    A field the checkpoint lacks was added to the config or options after it was written;
    the resumed run read its default from the same checkpoint, the behaviour the run had."""
    if any(stored["config"].get(name, value) != value for name, value in config.items()):
        raise InputError("was trained with another model config; resume with the same one",
                         source)
    changed = sorted(name for name, value in options.items()
                     if name not in run_control and stored["options"].get(name, value) != value)
    if changed:
        raise InputError(f"was trained with other options ({', '.join(changed)}); only "
                         f"{', '.join(run_control)} may change on resume", source)
    if stored["split"] != dict(split):
        raise InputError("was trained on another set of cases; resume on the same data", source)


def load_trained_model(
    path: str | Path, kind: str, read_config: Callable[[Mapping, Path], Any],
    build: Callable[[Any], nn.Module],
) -> tuple[nn.Module, Any, dict[str, Any], Path]:
    """``(model in eval mode on the CPU, config, stored checkpoint, path)`` of a ``kind``
    checkpoint, its config read with ``read_config`` and its model made with ``build``."""
    source = Path(path)
    stored = load_model_checkpoint(source, kind)
    config = read_config(stored["config"], source)
    model = build(config)
    model.load_state_dict(stored["model"])
    return model.eval(), config, stored, source

