"""``dsaviewer compare PRE POST --out DIR``: compare a run with the same patient's control run
(e.g. after embolisation): the tumor's blush reduction, the registered regions, both runs'
time-density curves.

PRE and POST are video files, case folders or folders of frames or DICOM files. The regions
are PRE's key-frame labels when it is a case folder with them, else the models' analysis of
PRE (--masks chooses). Exit status: 0 when the comparison was written, 1 when it failed (the
reason is printed), 2 when the models could not be loaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from dsaviewer.errors import InputError
from dsaviewer.io.video import Video

DEFAULT_OUT = Path("dsaviewer-comparison")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pre", type=Path, metavar="PRE", help="the run before (its regions)")
    parser.add_argument("post", type=Path, metavar="POST", help="the control run after")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"output folder (default: ./{DEFAULT_OUT})")
    parser.add_argument("--masks", choices=("auto", "labels", "model"), default="auto",
                        help="where PRE's tumor and liver regions come from: its key-frame "
                        "labels, the models, or auto (labels where present, default)")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights folder for --masks model (default: the bundled weights)")
    parser.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto",
                        help="model runtime for --masks model (default auto)")
    parser.add_argument("--device", default="auto", help="device for --masks model")


def run(args: argparse.Namespace) -> int:
    from dsaviewer.inference.compare_files import compare_paths

    def analyse(video: Video) -> tuple[np.ndarray, np.ndarray]:
        from dsaviewer.inference.backend import load_backend
        from dsaviewer.inference.pipeline import analyze

        models = load_backend(args.weights, args.backend, args.device)
        result = analyze(video, weights=models)
        return result.tumor_mask, result.liver_mask

    try:
        comparison = compare_paths(args.pre, args.post, args.out, args.masks, analyse)
    except InputError as error:
        print(f"dsaviewer compare: {error}", file=sys.stderr)
        return 1
    print(f"blush reduction {comparison.blush_reduction_pct:.1f} % (peak), "
          f"{comparison.auc_reduction_pct:.1f} % (area under the curve); "
          f"results in {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dsaviewer compare", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
