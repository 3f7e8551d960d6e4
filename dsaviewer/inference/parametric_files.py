"""Parametric DSA on disk, beside an analysis's result files:

- ``parametric/maps.npz``: float32 arrays ``arrival``, ``ttp``, ``mtt`` (s), ``peak``
  (opacity, fraction of full white) and ``auc`` (opacity x s), NaN where no contrast arrives;
- ``parametric/ttp.png``: time to peak colour-coded (brightness = peak opacity), with a
  colour bar in seconds;
- ``tdc.csv``: one row per frame, ``time_s`` and the mean opacity of the ``tumor``, ``liver``
  (liver minus tumor) and ``background`` regions of the analysis's masks.

A run that states no timing at all (a folder of frames) gets one second per frame, and the
caller is told so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dsaviewer.core.parametric import MAP_NAMES, ParametricMaps, parametric_maps
from dsaviewer.core.parametric_image import colour_coded, time_range, with_colour_bar
from dsaviewer.core.time_density import region_curves, standard_regions
from dsaviewer.inference.result_files import _write_png, _write_text
from dsaviewer.inference.results import AnalysisResult
from dsaviewer.io.video import Video
from dsaviewer.io.writers import replace_atomically

PARAMETRIC_DIR = "parametric"
MAPS_FILE = "maps.npz"
TTP_IMAGE = "ttp.png"
TDC_FILE = "tdc.csv"
TDC_REGIONS = ("tumor", "liver", "background")


def run_times(video: Video) -> tuple[np.ndarray, bool]:
    """The run's frame times in s and whether the file stated them (else one per second)."""
    times = video.times_s()
    if times is None:
        return np.arange(video.n_frames, dtype=np.float64), False
    return times, True


def video_maps(video: Video) -> ParametricMaps:
    """The parametric maps of a loaded run, with its own frame times and white level."""
    times, _ = run_times(video)
    return parametric_maps(video.frames, times_s=times, white_level=video.max_value)


def write_parametric_files(folder: str | Path, video: Video, result: AnalysisResult) -> list[Path]:
    """Write the maps, the TTP image and ``tdc.csv`` for ``result`` into ``folder``."""
    folder = Path(folder)
    maps = video_maps(video)
    regions = standard_regions(video.frame_shape, result.tumor_mask, result.liver_mask, maps.field)
    curves = region_curves(video.frames, regions, maps.contrast_dark, video.max_value)
    tdc = {name: curves[name] for name in TDC_REGIONS}
    return [
        *write_map_files(folder / PARAMETRIC_DIR, maps),
        write_curves_csv(folder / TDC_FILE, maps.times, tdc),
    ]


def write_map_files(folder: Path, maps: ParametricMaps) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{name: maps.as_dict()[name] for name in MAP_NAMES})
    maps_path = folder / MAPS_FILE
    with replace_atomically(maps_path) as temporary:
        temporary.write_bytes(buffer.getvalue())
    return [maps_path, write_ttp_image(folder / TTP_IMAGE, maps)]


def write_ttp_image(path: Path, maps: ParametricMaps) -> Path:
    value_range = time_range(maps.ttp)
    image = with_colour_bar(colour_coded(maps.ttp, maps.peak, value_range), value_range)
    return _write_png(path, image)


def write_curves_csv(path: Path, times: np.ndarray, curves: Mapping[str, np.ndarray]) -> Path:
    """``time_s`` and one column per curve, one row per frame; NaN (an empty region) is left
    empty."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["time_s", *curves])
    for index, time in enumerate(times):
        values = [curve[index] for curve in curves.values()]
        writer.writerow([f"{time:.4f}", *("" if np.isnan(v) else f"{v:.6f}" for v in values)])
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_text(path, text.getvalue())
