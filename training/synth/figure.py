"""Draw a figure of synthetic cases: per case (row) an early arterial frame, frame k-9 (the
frame-difference reference), the key frame, and the key frame with the ground-truth tumor
(yellow) and liver (green) outlines. OpenCV only.

    python -m training.synth.figure docs/synthetic-examples.png --seed 0 --cases 3 5 8 12
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from training.synth.case import SyntheticCase, generate_case
from training.synth.options import PAPER_SIZE, SynthOptions

TILE_WIDTH = 340
_TUMOR_BGR = (0, 230, 255)
_LIVER_BGR = (60, 220, 60)
_HEADER_PX = 34
_COLUMNS = ("early arterial", "frame k-9", "key frame k", "key frame + ground truth")


def early_arterial_frame(case: SyntheticCase) -> int:
    """About 0.8 s after the contrast leaves the catheter: the tree is filling."""
    return int(min(len(case.frames) - 1, round(case.truth.contrast_frame + 0.8 * case.fps)))


def case_row(case: SyntheticCase, tile_width: int = TILE_WIDTH) -> np.ndarray:
    key = case.key_frame
    picks = (early_arterial_frame(case), max(0, key - 9), key)
    white = (1 << case.bits_stored) - 1
    tiles = [_grey_tile(case.frames[i], white, tile_width) for i in picks]
    overlay = _grey_tile(case.frames[key], white, tile_width)
    scale = tile_width / case.frames.shape[2]
    labels = case.labels[0]
    for mask, colour in ((labels.liver, _LIVER_BGR), (labels.tumor, _TUMOR_BGR)):
        contours, _ = cv2.findContours(
            mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
        )
        scaled = [np.round(c * scale).astype(np.int32) for c in contours]
        cv2.drawContours(overlay, scaled, -1, colour, 2, cv2.LINE_AA)
    t = case.truth
    caption = (
        f"{t.n_tumors_visible} tumor(s), {t.n_rich} hypervascular; {t.n_gi} GI blush; "
        f"{'motion' if t.moving_frames else 'still'}"
    )
    _label(overlay, caption, (6, overlay.shape[0] - 8), 0.38)
    for tile, frame in zip(tiles, picks, strict=True):
        _label(tile, f"frame {frame}", (6, tile.shape[0] - 8), 0.45)
    return np.hstack([*tiles, overlay])


def render_figure(
    out: str | Path, seed: int, indices: list[int], size: tuple[int, int] = PAPER_SIZE
) -> Path:
    options = SynthOptions(sizes=((size, 1.0),))
    rows = [case_row(generate_case(seed, index, options)) for index in indices]
    width = rows[0].shape[1]
    header = np.zeros((_HEADER_PX, width, 3), np.uint8)
    for column, title in enumerate(_COLUMNS):
        _label(header, title, (column * TILE_WIDTH + 8, _HEADER_PX - 11), 0.6)
    separator = np.full((3, width, 3), 255, np.uint8)
    parts = [header]
    for row in rows:
        parts += [separator, row]
    figure = np.vstack(parts)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    ok, encoded = cv2.imencode(".png", figure, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise OSError("OpenCV could not encode the figure")
    target.write_bytes(encoded.tobytes())
    return target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, nargs="+", default=[0, 1, 2, 3], help="case indices")


def run(args: argparse.Namespace) -> int:
    path = render_figure(args.out, args.seed, args.cases)
    print(f"synth-figure: wrote {path}", file=sys.stderr)
    return 0


def _grey_tile(frame: np.ndarray, white: int, width: int) -> np.ndarray:
    image = frame if frame.dtype == np.uint8 else np.round(frame * (255.0 / white)).astype(np.uint8)
    height = round(frame.shape[0] * width / frame.shape[1])
    return cv2.cvtColor(
        cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA), cv2.COLOR_GRAY2BGR
    )


def _label(image: np.ndarray, text: str, origin: tuple[int, int], scale: float) -> None:
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(
        image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
    )


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="python -m training.synth.figure")
    add_arguments(_parser)
    sys.exit(run(_parser.parse_args()))
