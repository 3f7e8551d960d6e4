"""The image part of the scope decision: the scope classifier's probability that a run is a
hepatic DSA run.

AVI and PNG runs carry no metadata, so every run is also judged by its images: a small network
(``dsaviewer/models/scope_net.py``), trained by ``python -m training fit-scope`` on generated
liver runs against generated non-liver angiography and non-angiographic images, reads the maps
of :func:`dsaviewer.core.scope_input.scope_input`. It does not read the segmentation maps, so
it is the same whichever segmentation weights (shipped, newer or fine-tuned) analyse the run.

The classifier ships as an ONNX graph in ``resources/scope`` with its own manifest (checksum,
input channels, threshold, provenance) and always runs on ONNX Runtime's CPU provider, in the
PyTorch backend too: it takes about 0.4 ms (the maps 1.7 ms), and the packaged program has no torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from dsaviewer.core.scope_input import SCOPE_CHANNELS, SCOPE_INPUT_SIZE
from dsaviewer.inference.manifest import WeightsError, verified_path

SCOPE_FORMAT = "dsaviewer-scope"
SCOPE_FORMAT_VERSION = 1
SCOPE_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ScopeManifest:
    file: str  # the ONNX graph, beside the manifest
    sha256: str
    channels: tuple[str, ...]  # SCOPE_CHANNELS of the program that trained it
    size: int
    threshold: float  # scores below it are out of scope
    provenance: dict[str, Any]


def read_scope_manifest(folder: str | Path) -> ScopeManifest:
    """``folder/manifest.json`` of a scope classifier; WeightsError naming the problem."""
    path = Path(folder) / SCOPE_MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != SCOPE_FORMAT:
            raise ValueError(f'not a {SCOPE_FORMAT} manifest (no "format": "{SCOPE_FORMAT}")')
        if document.get("format_version") != SCOPE_FORMAT_VERSION:
            raise ValueError(f"format version {document.get('format_version')!r}; this "
                             f"program reads version {SCOPE_FORMAT_VERSION}")
        model = document["model"]
        manifest = ScopeManifest(
            file=str(model["file"]),
            sha256=str(model["sha256"]),
            channels=tuple(model["input"]["channels"]),
            size=int(model["input"]["size"]),
            threshold=float(document["threshold"]),
            provenance=dict(document.get("provenance", {})),
        )
    except FileNotFoundError as error:
        raise WeightsError("the scope classifier's manifest is missing", path) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WeightsError(f"cannot read the scope classifier's manifest: {error}",
                           path) from error
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise WeightsError(f"the scope classifier's manifest is malformed: {error}",
                           path) from error
    if manifest.channels != SCOPE_CHANNELS or manifest.size != SCOPE_INPUT_SIZE:
        raise WeightsError(
            f"the scope classifier reads {list(manifest.channels)} at {manifest.size} px; "
            f"this program makes {list(SCOPE_CHANNELS)} at {SCOPE_INPUT_SIZE} px: it belongs "
            "to another version",
            path,
        )
    return manifest


class ScopeClassifier:
    """The scope classifier of one folder, loaded once (checksum checked)."""

    def __init__(self, folder: str | Path) -> None:
        import onnxruntime

        self.folder = Path(folder)
        self.manifest = read_scope_manifest(self.folder)
        path = verified_path(self.folder, self.manifest.file, self.manifest.sha256)
        options = onnxruntime.SessionOptions()
        # One thread: the graph is tiny, and more would only wake idle cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 - onnxruntime raises its own types
            raise WeightsError(f"ONNX Runtime cannot load the scope classifier: {error}",
                               path) from error
        self._input = self._session.get_inputs()[0].name

    @property
    def threshold(self) -> float:
        """Scores below this are out of scope (chosen when fitting: docs/evaluation.md)."""
        return self.manifest.threshold

    def score(self, maps: np.ndarray) -> float:
        """P(hepatic DSA run) of :func:`~dsaviewer.core.scope_input.scope_input`'s maps."""
        batch = np.ascontiguousarray(maps, np.float32)[None]
        (logit,) = self._session.run(None, {self._input: batch})  # thread-safe in ORT
        return float(1.0 / (1.0 + np.exp(-np.clip(float(logit[0]), -50.0, 50.0))))


@lru_cache(maxsize=4)
def scope_classifier(folder: str | Path | None = None) -> ScopeClassifier:
    """The classifier of ``folder`` (default: the bundled ``resources/scope``), loaded once."""
    from dsaviewer.resources import scope_dir

    return ScopeClassifier(Path(folder) if folder is not None else scope_dir())
