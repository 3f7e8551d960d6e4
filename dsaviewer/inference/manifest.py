"""The weights folder's ``manifest.json``: which tensor files make up the shipped models, their
checksums, architectures and provenance. Plain JSON and no torch, so the viewer can show what
it ships (and the ONNX backend can run) without importing torch.

```
resources/weights/
  manifest.json
  segmentation.pt        {"config": SegmentationConfig.to_dict(), "state_dict": ...}
  response.pt            {"config": ResponseConfig.to_dict(), "state_dict": ...}
  segmentation.onnx      optional, written by ``python -m training export-onnx``
  response.onnx          optional
```

manifest.json::

    {
      "format": "dsaviewer-weights", "format_version": 1, "created": "2025-...Z",
      "segmentation": {"file": "segmentation.pt", "sha256": "...", "config": {...},
                       "onnx": {"file": "segmentation.onnx", "sha256": "...", "opset": 17}},
      "response": {"file": "response.pt", "sha256": "...", "config": {...}, "threshold": 0.5,
                   "onnx": {...}},
      "provenance": {"training_command": "...", "data_seed": 0, "data_size": 1000,
                     "evaluation": {...}, "random_init": false,
                     "fine_tuning": {...}}     (only for weights adapted to a site)
    }

``response`` may be absent (a segmentation-only build); ``onnx`` entries appear after export.
Every file is checked against its sha256 before anything reads it.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dsaviewer.errors import InputError
from dsaviewer.io.fingerprint import file_sha256
from dsaviewer.io.writers import replace_atomically

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "dsaviewer-weights"
FORMAT_VERSION = 1
SEGMENTATION = "segmentation"
RESPONSE = "response"



class WeightsError(InputError):
    """A weights folder that cannot be used: missing or corrupt files, a manifest that does
    not parse, or tensors built for another architecture."""


@dataclass(frozen=True)
class OnnxEntry:
    file: str
    sha256: str
    opset: int


@dataclass(frozen=True)
class ModelEntry:
    """One model of the manifest: its tensor file, checksum and architecture config."""

    file: str
    sha256: str
    config: dict[str, Any]
    threshold: float | None = None  # the response model's operating point, on the shown
    # probability (the calibrated one when ``calibration`` is set)
    onnx: OnnxEntry | None = None
    # Platt (slope, intercept) on the response model's logit (python -m training
    # calibrate-response); None: its probabilities are shown as they come out.
    calibration: tuple[float, float] | None = None


@dataclass(frozen=True)
class Provenance:
    """How the weights were made. ``evaluation`` is free-form (figures with their CIs, the
    evaluation set, ...). ``random_init`` marks untrained weights (tests, benchmarks): their
    results mean nothing, and every analysis says so."""

    training_command: str = ""
    data_seed: int | None = None
    data_size: int | None = None
    evaluation: dict[str, Any] = field(default_factory=dict)
    random_init: bool = False
    # Weights adapted to a site (``python -m training fine-tune``): the base weights' sha256,
    # the site's cases and their fingerprint, site-validation Dice before and after, and
    # what became of the response threshold. Empty for weights trained from scratch.
    fine_tuning: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WeightsManifest:
    segmentation: ModelEntry
    response: ModelEntry | None
    provenance: Provenance
    created: str = ""
    format_version: int = FORMAT_VERSION

    def entries(self) -> dict[str, ModelEntry]:
        """The models present, by role."""
        found = {SEGMENTATION: self.segmentation}
        if self.response is not None:
            found[RESPONSE] = self.response
        return found


def sha256_of(path: str | Path) -> str:
    return file_sha256(path)


def verified_path(directory: str | Path, file: str, sha256: str) -> Path:
    """``directory/file`` after checking it exists and matches ``sha256``; WeightsError else."""
    path = Path(directory) / file
    if not path.is_file():
        raise WeightsError(
            f"the weights file {file!r} listed in {MANIFEST_NAME} is missing", path
        )
    actual = sha256_of(path)
    if actual != sha256:
        raise WeightsError(
            f"checksum mismatch: the file is corrupt or was replaced (sha256 {actual[:16]}…, "
            f"{MANIFEST_NAME} expects {sha256[:16]}…)",
            path,
        )
    return path


def read_manifest(directory: str | Path) -> WeightsManifest:
    """Parse ``directory/manifest.json``; WeightsError naming the problem."""
    path = Path(directory) / MANIFEST_NAME
    if not path.is_file():
        raise WeightsError(
            "no weights manifest here: build the weights with `python -m training` "
            "or point --weights at a folder holding manifest.json",
            path,
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise WeightsError(f"cannot read the manifest: {error}", path) from error
    except json.JSONDecodeError as error:
        raise WeightsError(f"the manifest is not valid JSON: {error}", path) from error
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise WeightsError(f"not a {FORMAT_NAME} manifest (no \"format\": \"{FORMAT_NAME}\")", path)
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise WeightsError(
            f"manifest format version {version!r}; this program reads version {FORMAT_VERSION}",
            path,
        )
    segmentation = _model_entry(document, SEGMENTATION, path, required=True)
    response = _model_entry(document, RESPONSE, path, required=False)
    provenance = document.get("provenance", {})
    if not isinstance(provenance, dict):
        raise WeightsError("'provenance' must be an object", path)
    fields = Provenance.__dataclass_fields__
    known = {name: value for name, value in provenance.items() if name in fields}
    return WeightsManifest(
        segmentation=segmentation,
        response=response,
        provenance=Provenance(**known),
        created=str(document.get("created", "")),
        format_version=version,
    )


def write_manifest(directory: str | Path, manifest: WeightsManifest) -> Path:
    """Write ``manifest`` as ``directory/manifest.json`` (atomically); return its path."""
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": manifest.created or _now(),
    }
    for role, entry in manifest.entries().items():
        document[role] = _entry_dict(entry)
    document["provenance"] = {
        "training_command": manifest.provenance.training_command,
        "data_seed": manifest.provenance.data_seed,
        "data_size": manifest.provenance.data_size,
        "evaluation": manifest.provenance.evaluation,
        "random_init": manifest.provenance.random_init,
    }
    if manifest.provenance.fine_tuning:
        document["provenance"]["fine_tuning"] = manifest.provenance.fine_tuning
    target = Path(directory) / MANIFEST_NAME
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    with replace_atomically(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return target


def with_onnx(manifest: WeightsManifest, role: str, onnx: OnnxEntry) -> WeightsManifest:
    """``manifest`` with the ONNX export of the model ``role`` recorded."""
    entry = manifest.entries()[role]
    return replace(manifest, **{role: replace(entry, onnx=onnx)})


def _entry_dict(entry: ModelEntry) -> dict[str, Any]:
    result: dict[str, Any] = {"file": entry.file, "sha256": entry.sha256, "config": entry.config}
    if entry.threshold is not None:
        result["threshold"] = entry.threshold
    if entry.onnx is not None:
        result["onnx"] = {
            "file": entry.onnx.file, "sha256": entry.onnx.sha256, "opset": entry.onnx.opset
        }
    if entry.calibration is not None:
        result["calibration"] = {"slope": entry.calibration[0],
                                 "intercept": entry.calibration[1]}
    return result


def _model_entry(
    document: Mapping[str, Any], role: str, path: Path, required: bool
) -> ModelEntry | None:
    entry = document.get(role)
    if entry is None:
        if required:
            raise WeightsError(f"the manifest has no {role!r} model", path)
        return None
    if not isinstance(entry, dict):
        raise WeightsError(f"{role!r} must be an object", path)
    file = _text(entry, "file", role, path)
    if Path(file).name != file:
        raise WeightsError(f"{role}.file must be a file name in the weights folder: {file!r}", path)
    sha256 = _text(entry, "sha256", role, path)
    config = entry.get("config")
    if not isinstance(config, dict):
        raise WeightsError(f"{role}.config must be an object", path)
    threshold = entry.get("threshold")
    if role == RESPONSE:
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not (
            math.isfinite(threshold) and 0.0 <= threshold <= 1.0
        ):
            raise WeightsError(f"{role}.threshold must be a number in [0, 1], not {threshold!r}",
                               path)
        threshold = float(threshold)
    onnx = entry.get("onnx")
    if onnx is not None:
        if not isinstance(onnx, dict):
            raise WeightsError(f"{role}.onnx must be an object", path)
        onnx = OnnxEntry(
            file=_text(onnx, "file", f"{role}.onnx", path),
            sha256=_text(onnx, "sha256", f"{role}.onnx", path),
            opset=int(onnx.get("opset", 0)),
        )
    calibration = _calibration(entry.get("calibration"), role, path)
    return ModelEntry(file=file, sha256=sha256, config=config, threshold=threshold, onnx=onnx,
                      calibration=calibration)


def _calibration(value: Any, role: str, path: Path) -> tuple[float, float] | None:
    if value is None:
        return None
    numbers = (value.get("slope"), value.get("intercept")) if isinstance(value, dict) else ()
    if len(numbers) != 2 or not all(
        isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n)
        for n in numbers
    ) or numbers[0] <= 0:
        raise WeightsError(f"{role}.calibration must be {{\"slope\": > 0, \"intercept\": "
                           f"number}}, not {value!r}", path)
    return float(numbers[0]), float(numbers[1])


def _text(entry: Mapping[str, Any], key: str, where: str, path: Path) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise WeightsError(f"{where}.{key} must be a non-empty string, not {value!r}", path)
    return value


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
