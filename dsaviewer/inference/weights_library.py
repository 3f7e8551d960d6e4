"""The weights a user can choose between: the shipped ones and those fine-tuned on a site's
cases, which live in the per-user data folder, one folder each with its manifest.

A folder is accepted only when its manifest parses and every file it lists (tensors and ONNX
exports) matches its sha256, so a corrupt or tampered folder is refused when it is chosen,
not half-way through an analysis. No torch and no Qt here.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from dsaviewer.inference.manifest import (
    WeightsError,
    WeightsManifest,
    read_manifest,
    verified_path,
)
from dsaviewer.resources import user_data_dir, weights_dir

SHIPPED_NAME = "Shipped weights"


def library_dir() -> Path:
    """Where the viewer keeps fine-tuned weights (created on first use by the caller)."""
    return user_data_dir() / "weights"


def new_run_dir(label: str = "fine-tuned") -> Path:
    """A fresh folder name in the library for one fine-tuning run: the time and ``label``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", label).strip("-") or "fine-tuned"
    candidate = library_dir() / f"{stamp}-{slug}"
    number = 2
    while candidate.exists():
        candidate = library_dir() / f"{stamp}-{slug}-{number}"
        number += 1
    return candidate


def check_weights_folder(folder: str | Path) -> WeightsManifest:
    """The manifest of ``folder`` after checking every file it lists against its sha256;
    WeightsError (an InputError) naming the first problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError("is not a folder", folder)
    manifest = read_manifest(folder)
    for entry in manifest.entries().values():
        verified_path(folder, entry.file, entry.sha256)
        if entry.onnx is not None:
            verified_path(folder, entry.onnx.file, entry.onnx.sha256)
    return manifest


def is_shipped(folder: str | Path | None) -> bool:
    return folder is None or Path(folder).resolve() == weights_dir().resolve()


def weights_display_name(folder: str | Path | None) -> str:
    """How results and exports name the weights: "Shipped weights", or the folder's name
    with the number of site cases it was fine-tuned on."""
    if is_shipped(folder):
        return SHIPPED_NAME
    folder = Path(folder)
    # A run folder of the library holds the weights in weights/: name it by the run.
    name = folder.parent.name if folder.name == "weights" else folder.name
    try:
        tuning = read_manifest(folder).provenance.fine_tuning
    except WeightsError:
        return name
    cases = len(tuning.get("site_data", {}).get("case_ids", []))
    return f"{name} (fine-tuned on {cases} site cases)" if tuning else name
