"""Make a weights folder from the segmentation model of one and the response model of another.

    python -m training combine-weights OUT --segmentation SEG_WEIGHTS --response RESP_WEIGHTS

For a new segmentation model that keeps an earlier response model: the response model reads
the key frame and the tumor mask, so check it on the new masks (``evaluate-response`` with
``--checkpoint OUT/response.pt``) before shipping the pair. OUT's provenance records both
folders' commands and keeps the segmentation folder's evaluation. The model files (and
their ONNX exports) are copied byte for byte, so OUT's checksums are theirs; the response
model drops any calibration (which belonged to the other masks: run ``calibrate-response`` on
the pair) and keeps its calls: a calibrated threshold is taken back to the model's scale.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
from pathlib import Path

from dsaviewer.core.probability_calibration import model_scale_threshold
from dsaviewer.errors import InputError
from dsaviewer.inference.manifest import ModelEntry, Provenance, WeightsManifest, write_manifest
from dsaviewer.inference.weights import load_weights


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", type=Path, help="new weights folder")
    parser.add_argument("--segmentation", type=Path, required=True,
                        help="weights folder whose segmentation model is taken")
    parser.add_argument("--response", type=Path, required=True,
                        help="weights folder whose response model is taken")


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and any(args.out.iterdir()):
        raise InputError("exists and is not empty: choose a new folder", args.out)
    segmentation = load_weights(args.segmentation)
    response = load_weights(args.response)
    if response.response is None:
        raise InputError("holds no response model", args.response)
    seg_size = segmentation.segmentation_config.image_size
    if response.response_config.image_size != seg_size:
        raise InputError(f"its response model reads {response.response_config.image_size} px "
                         f"images; the segmentation model makes {seg_size} px masks",
                         args.response)
    seg_provenance = segmentation.manifest.provenance
    provenance = Provenance(
        training_command=f"segmentation: {seg_provenance.training_command} ; response: "
        f"{response.manifest.provenance.training_command}",
        data_seed=seg_provenance.data_seed,
        data_size=seg_provenance.data_size,
        evaluation={**seg_provenance.evaluation,
                    "response_model_from": str(args.response)},
    )
    args.out.mkdir(parents=True, exist_ok=True)
    _copy(segmentation.manifest.segmentation, args.segmentation, args.out)
    _copy(response.manifest.response, args.response, args.out)
    write_manifest(args.out, WeightsManifest(
        segmentation=segmentation.manifest.segmentation,
        response=uncalibrated(response.manifest.response),
        provenance=provenance,
    ))
    print(f"combine-weights: segmentation of {args.segmentation}, response of "
          f"{args.response} -> {args.out}")
    return 0


def uncalibrated(entry: ModelEntry) -> ModelEntry:
    """The response entry without its calibration, its threshold taken back to the model's
    scale so that every call stays what it was."""
    threshold = model_scale_threshold(entry.threshold, entry.calibration)
    return dataclasses.replace(entry, calibration=None, threshold=threshold)


def _copy(entry: ModelEntry, source: Path, out: Path) -> None:
    for file in (entry.file, *([entry.onnx.file] if entry.onnx else [])):
        if (out / file).exists():
            raise InputError(f"both folders name the model file {file!r}", out)
        shutil.copy2(source / file, out / file)
