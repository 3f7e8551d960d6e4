"""Comparing two runs of one patient from disk (``dsaviewer compare PRE POST --out DIR``).

The regions come from the pre-run: its key-frame Labelme file when it is a case folder that
has one (``masks="labels"``), else the models' analysis of it (``masks="model"``; "auto"
takes labels where present). The comparison (:mod:`dsaviewer.core.compare_runs`) is written
as:

- ``comparison.json``: the blush reduction (peak and area), both runs' tumor peak and area,
  the registration, the first arrivals, where the regions came from;
- ``curves.csv``: one row per frame of each run: ``run``, ``time_s``,
  ``time_since_arrival_s`` and the ``tumor``, ``liver`` and ``background`` opacities;
- ``regions.png``: both runs' peak-opacity images side by side with the regions outlined
  (the post-run's as registered); ``post_tumor.png``, ``post_liver.png``: the registered
  masks (0/255).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from dsaviewer import __version__
from dsaviewer.core.compare_runs import RunComparison, check_comparable, compare_runs
from dsaviewer.core.parametric import ParametricMaps
from dsaviewer.core.registration import rigid_parameters
from dsaviewer.core.time_density import curve_area, curve_peak, standard_regions
from dsaviewer.errors import InputError
from dsaviewer.inference.parametric_files import TDC_REGIONS, run_times, video_maps
from dsaviewer.inference.result_files import _write_png, _write_text
from dsaviewer.io.case_folder import is_case_folder, open_case
from dsaviewer.io.labelme import read_labelme
from dsaviewer.io.video import Video, load_video

COMPARISON_FILE = "comparison.json"
CURVES_FILE = "curves.csv"
REGIONS_IMAGE = "regions.png"
MaskSource = Literal["auto", "labels", "model"]
Analyse = Callable[[Video], tuple[np.ndarray, np.ndarray]]  # the models' (tumor, liver) masks
# BGR outlines, as the analysis overlay draws them.
_OUTLINES = {"tumor": (255, 255, 0), "liver": (0, 255, 0)}


@dataclass(frozen=True)
class PreRegions:
    tumor: np.ndarray
    liver: np.ndarray
    source: str  # "labels (NNNN.json)" or "model"


def labelled_regions(case_folder: Path) -> PreRegions | None:
    """The masks of the case's key-frame Labelme file; None when no file is flagged."""
    if not is_case_folder(case_folder):
        return None
    case = open_case(case_folder)
    for index, path in sorted(case.label_files.items()):
        annotation = read_labelme(path)
        if annotation.is_key_frame:
            masks = annotation.masks
            source = f"labels ({path.name}, frame {index})"
            return PreRegions(masks["tumor"], masks["liver"], source)
    return None


def pre_regions(path: Path, video: Video, masks: MaskSource, analyse: Analyse) -> PreRegions:
    """The pre-run's regions by ``masks``; ``analyse(video)`` gives (tumor, liver) masks from
    the models and is only called when needed."""
    if masks in ("auto", "labels"):
        found = labelled_regions(path)
        if found is not None:
            if found.tumor.shape != video.frame_shape:
                raise InputError(
                    f"its key-frame labels are {found.tumor.shape} pixels, the video "
                    f"{video.frame_shape}", path)
            return found
        if masks == "labels":
            raise InputError('no labels file is flagged {"key_frame": true}', path)
    tumor, liver = analyse(video)
    return PreRegions(tumor, liver, "model")


def compare_videos(
    pre: Video, post: Video, tumor: np.ndarray, liver: np.ndarray
) -> tuple[RunComparison, ParametricMaps, ParametricMaps]:
    """Compare two loaded runs over the pre-run's tumor and liver (and the background);
    also return both runs' maps."""
    check_comparable(pre.frame_shape, post.frame_shape)
    pre_maps, post_maps = video_maps(pre), video_maps(post)
    named = standard_regions(pre.frame_shape, tumor, liver, pre_maps.field)
    if not named["tumor"].any():
        raise InputError("the run before has no tumor region to compare", pre.source)
    comparison = compare_runs(
        pre.frames, pre_maps, post.frames, post_maps, named, (pre.max_value, post.max_value)
    )
    return comparison, pre_maps, post_maps


def compare_paths(
    pre_path: Path,
    post_path: Path,
    out: Path,
    masks: MaskSource,
    analyse: Analyse,
) -> RunComparison:
    """Load both runs, compare them over the pre-run's regions, write the files to ``out``."""
    pre_video, post_video = load_video(pre_path), load_video(post_path)
    check_comparable(pre_video.frame_shape, post_video.frame_shape)
    regions = pre_regions(pre_path, pre_video, masks, analyse)
    comparison, pre_maps, post_maps = compare_videos(
        pre_video, post_video, regions.tumor, regions.liver
    )
    out.mkdir(parents=True, exist_ok=True)
    document = comparison_document(comparison, pre_video, post_video, regions.source)
    _write_text(out / COMPARISON_FILE, json.dumps(document, indent=2, allow_nan=False) + "\n")
    _write_text(out / CURVES_FILE, curves_csv(comparison))
    _write_png(out / REGIONS_IMAGE, regions_image(comparison, pre_maps.peak, post_maps.peak))
    for name in ("tumor", "liver"):
        _write_png(out / f"post_{name}.png", comparison.post.regions[name].astype(np.uint8) * 255)
    return comparison


def comparison_document(
    comparison: RunComparison, pre: Video, post: Video, mask_source: str
) -> dict[str, Any]:
    region = comparison.region

    def side(video: Video, run: Any) -> dict[str, Any]:
        _, stated = run_times(video)
        return {
            "source": video.source.name,
            "frames": video.n_frames,
            "frame_times": "stated" if stated else "unknown: 1 s per frame assumed",
            "first_arrival_s": _finite(run.first_arrival),
            "tumor_peak": _finite(curve_peak(run.curves[region])),
            "tumor_auc": _finite(curve_area(run.curves[region], run.times)),
            "tumor_area_px": int(run.regions[region].sum()),
        }

    return {
        "blush_reduction_pct": _finite(comparison.blush_reduction_pct),
        "auc_reduction_pct": _finite(comparison.auc_reduction_pct),
        "peak_ratio": _finite(comparison.peak_ratio),
        "auc_ratio": _finite(comparison.auc_ratio),
        "region": region,
        "regions_from": mask_source,
        "pre": side(pre, comparison.pre),
        "post": side(post, comparison.post),
        "registration": {
            "warp_pre_to_post": np.round(comparison.warp, 6).tolist(),
            **{key: round(value, 4) for key, value in rigid_parameters(comparison.warp).items()},
        },
        "units": {"opacity": "fraction of full white, change from the pre-contrast baseline",
                  "auc": "opacity x s", "time": "s"},
        "dsaviewer_version": __version__,
    }


def curves_csv(comparison: RunComparison) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["run", "time_s", "time_since_arrival_s", *TDC_REGIONS])
    for name, run in (("pre", comparison.pre), ("post", comparison.post)):
        for index, time in enumerate(run.times):
            values = (run.curves[region][index] for region in TDC_REGIONS)
            writer.writerow([name, f"{time:.4f}", f"{time - run.first_arrival:.4f}",
                             *("" if np.isnan(v) else f"{v:.6f}" for v in values)])
    return text.getvalue()


def regions_image(
    comparison: RunComparison, pre_peak: np.ndarray, post_peak: np.ndarray
) -> np.ndarray:
    """Both runs' peak opacity (grey, the same scale) with their regions outlined."""
    top = float(np.nanpercentile(np.nan_to_num(pre_peak), 99.5)) or 1.0
    panels = []
    for peak, run in ((pre_peak, comparison.pre), (post_peak, comparison.post)):
        grey = np.clip(np.nan_to_num(peak) / top * 255.0, 0, 255).astype(np.uint8)
        image = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
        thickness = max(1, round(min(grey.shape) / 400))
        for name, colour in _OUTLINES.items():
            contours, _ = cv2.findContours(
                run.regions[name].astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(image, contours, -1, colour, thickness)
        panels.append(image)
    gap = np.full((panels[0].shape[0], 8, 3), 64, np.uint8)
    return np.hstack([panels[0], gap, panels[1]])


def _finite(value: float) -> float | None:
    return round(float(value), 6) if np.isfinite(value) else None
