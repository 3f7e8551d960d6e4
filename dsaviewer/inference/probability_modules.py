"""The models as inference runs them: logits turned into probabilities and the response image
built inside the graph. The PyTorch backend runs these modules and the ONNX export traces
them, so both backends compute exactly the same function."""

from __future__ import annotations

import torch
from torch import nn

from dsaviewer.inference.backend import SegmentationSpec
from dsaviewer.models import DSALTDNet, ResponseConfig, ResponseNet, response_image


def segmentation_spec(model: DSALTDNet) -> SegmentationSpec:
    """What the pipeline must know of the model's inputs and outputs: the PyTorch backend
    reads it from the model, the ONNX export stores it in the graph for the ONNX backend."""
    config = model.config
    return SegmentationSpec(
        n_frames=config.n_frames,
        image_size=config.image_size,
        temporal=config.temporal,
        has_liver=config.has_liver_net,
        run_maps=config.reads_run_maps,
    )


def segmentation_input_names(model: DSALTDNet) -> list[str]:
    """The segmentation graph's inputs, in order: frames, then aux and run_maps where the
    config reads them."""
    names = ["frames"]
    if model.config.needs_aux:
        names.append("aux")
    if model.config.reads_run_maps:
        names.append("run_maps")
    return names


def segmentation_output_names(model: DSALTDNet) -> list[str]:
    names = ["tumor"]
    if model.config.has_liver_net:
        names.append("liver")
    if model.config.temporal == "tdl":
        names.append("temporal")
    return names


def response_input_names(config: ResponseConfig) -> list[str]:
    """The response graph's inputs, in order: key frame, tumor, then run_maps and clinical
    where the config reads them."""
    names = ["key_frame", "tumor"]
    if config.reads_run_maps:
        names.append("run_maps")
    if config.clinical_features:
        names.append("clinical")
    return names


def response_spec_fields(config: ResponseConfig) -> dict:
    """What the pipeline must know of the response model's inputs (the ResponseSpec fields a
    graph stores; the threshold and calibration come from the manifest)."""
    return {"clinical_features": config.clinical_features, "run_maps": config.reads_run_maps}


class SegmentationProbabilities(nn.Module):
    """The inputs of :func:`segmentation_input_names`, in that order → the tuple of
    :func:`segmentation_output_names`, each ``(B, 1, S, S)`` probabilities."""

    def __init__(self, model: DSALTDNet) -> None:
        super().__init__()
        self.model = model
        self.input_names = segmentation_input_names(model)

    def forward(self, *inputs: torch.Tensor) -> tuple:
        named = dict(zip(self.input_names, inputs, strict=True))
        output = self.model(named["frames"], named.get("aux"), named.get("run_maps"))
        maps = [torch.sigmoid(output.tumor_logits)]
        if output.liver_logits is not None:
            maps.append(torch.sigmoid(output.liver_logits))
        if output.temporal is not None:
            maps.append(output.temporal)  # already a sigmoid in the model
        return tuple(maps)


class ResponseProbability(nn.Module):
    """The inputs of :func:`response_input_names`, in that order → probability of response
    ``(B,)``; the image is [KF, KF·Pred, Pred] (DSA-Net Model 2), then the run maps where
    the model reads them."""

    def __init__(self, model: ResponseNet, config: ResponseConfig) -> None:
        super().__init__()
        self.model = model
        self.input_names = response_input_names(config)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        named = dict(zip(self.input_names, inputs, strict=True))
        image = response_image(named["key_frame"], named["tumor"], named.get("run_maps"))
        return torch.sigmoid(self.model(image, named.get("clinical")))
