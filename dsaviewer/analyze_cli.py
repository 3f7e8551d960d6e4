"""``dsaviewer analyze PATH…``: analyse DSA runs without the viewer and write the results.

Each PATH is a video file (AVI, MP4, DICOM), a case folder or a dataset folder of case folders
(its clinical.csv is read). For every case ``OUT/<case_id>/`` gets result.json, tumor.png and
liver.png (0/255 at the original frame size) and overlay.png (with ``--dicom`` also
``dicom/`` with SEG, SR and secondary capture; with --parametric also parametric/maps.npz,
parametric/ttp.png and tdc.csv); ``OUT/summary.csv`` lists all
cases. Tumor components below ``--min-lesion-mm2`` (runs with a pixel spacing) or
``--min-lesion-px`` (runs without) are not listed as lesions; result.json records the limit.
Every result says whether the run is inside the models' scope (hepatic DSA runs):
result.json's "scope" and summary.csv's in_scope column; a case outside it is still analysed
and says why it is out of scope. A file that is not angiography at all (ultrasound, MR, CT,
...) is refused: no result, one line saying why. Exit status: 0 when every case was analysed
(in scope or not), 1 when any failed or was refused (each printed with its reason), 2 when
nothing could start (weights, device, clinical table).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dsaviewer.core.lesions import DEFAULT_MIN_AREA_MM2, DEFAULT_MIN_AREA_PX, MinLesionSize
from dsaviewer.errors import InputError

if TYPE_CHECKING:
    from dsaviewer.inference.batch import CaseOutcome
    from dsaviewer.inference.results import AnalysisResult

DEFAULT_OUT = Path("dsaviewer-analysis")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                        help="video file, case folder or dataset folder")
    parser.add_argument("--clinical", type=Path, metavar="CSV",
                        help="clinical.csv with the cases' clinical variables (by case_id); "
                        "default: a dataset folder's own clinical.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="DIR",
                        help=f"output folder (default: ./{DEFAULT_OUT})")
    parser.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto",
                        help="model runtime (default auto: torch where installed, else onnx, "
                        "which needs the ONNX export of the weights)")
    parser.add_argument("--device", default="auto",
                        help="auto (default: CUDA, else MPS, else CPU), cpu, cuda, cuda:N, mps, "
                        "or directml (onnx)")
    parser.add_argument("--key-frame", type=_key_frame_mode, default="auto", metavar="MODE",
                        help="auto (DSA-LTDNet's choice, default), labels (the frame flagged "
                        "key_frame in a case's labels/) or a frame index N")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights folder with manifest.json (default: the bundled weights)")
    parser.add_argument("--labelme", action="store_true",
                        help="also write the masks as OUT/<case_id>/labels/NNNN.json (Labelme)")
    parser.add_argument("--record-path", action="store_true",
                        help="also record each input's absolute path in result.json (by "
                        "default only its file name and SHA-256: paths often name patients)")
    parser.add_argument("--dicom", action="store_true",
                        help="also write DICOM SEG, SR and secondary capture to "
                        "OUT/<case_id>/dicom/ (DICOM runs only: they join the run's study)")
    parser.add_argument("--parametric", action="store_true",
                        help="also write parametric DSA: parametric/maps.npz (arrival, ttp, "
                        "peak, auc, mtt), parametric/ttp.png and tdc.csv (tumor, liver, "
                        "background curves)")
    size = parser.add_argument_group(
        "lesion size", "tumor components smaller than this are not listed as lesions (specks "
        "left by thresholding); which limit holds depends on whether the run states its pixel "
        "spacing; 0 lists every component")
    size.add_argument("--min-lesion-mm2", type=_area_mm2, default=DEFAULT_MIN_AREA_MM2,
                      metavar="AREA",
                      help="in mm², for runs with a pixel spacing (DICOM) "
                      f"(default {DEFAULT_MIN_AREA_MM2:g})")
    size.add_argument("--min-lesion-px", type=_area_px, default=DEFAULT_MIN_AREA_PX,
                      metavar="PIXELS",
                      help="in pixels, for runs without one (AVI, MP4, PNG frames) "
                      f"(default {DEFAULT_MIN_AREA_PX})")


def run(args: argparse.Namespace) -> int:
    from dsaviewer.inference.backend import load_backend
    from dsaviewer.inference.batch import analyze_cases, find_cases

    try:
        inputs = find_cases(args.paths, args.clinical)
        models = load_backend(args.weights, args.backend, args.device)
    except InputError as error:
        print(f"dsaviewer analyze: {error}", file=sys.stderr)
        return 2
    print(f"{len(inputs)} case(s); {models.name} backend on {models.device}", flush=True)
    if models.random_init:
        print("warning: these weights are untrained (random initialisation)", file=sys.stderr)

    def report(number: int, total: int, outcome: CaseOutcome) -> None:
        prefix = f"[{number}/{total}] {outcome.case_id}:"
        if outcome.refused:
            print(f"{prefix} REFUSED: {outcome.error}", flush=True)
        elif outcome.result is None:
            print(f"{prefix} FAILED: {outcome.error}", flush=True)
        else:
            print(f"{prefix} {_describe(outcome.result)}", flush=True)

    outcomes = analyze_cases(
        inputs, args.out, models, key_frame=args.key_frame, labelme=args.labelme, on_case=report,
        include_path=args.record_path, dicom=args.dicom,
        parametric=args.parametric,
        min_lesion_size=MinLesionSize(args.min_lesion_mm2, args.min_lesion_px),
    )
    failed = [outcome for outcome in outcomes if not outcome.ok]
    out_of_scope = sum(
        outcome.ok and outcome.summary.get("in_scope") == 0 for outcome in outcomes
    )
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} case(s) analysed"
          + (f", {out_of_scope} of them out of scope" if out_of_scope else "")
          + f"; results in {args.out}")
    for outcome in failed:
        what = "refused" if outcome.refused else "failed"
        print(f"{what}: {outcome.case_id} ({outcome.path}): {outcome.error}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dsaviewer analyze", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


def _key_frame_mode(text: str) -> str | int:
    if text in ("auto", "labels"):
        return text
    try:
        index = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not auto, labels or a frame index"
        ) from None
    if index < 0:
        raise argparse.ArgumentTypeError(f"frame index {index} is negative")
    return index


def _non_negative(number: type, what: str) -> Callable[[str], float]:
    """An argparse type: ``number(text)``, refused unless finite and 0 or more."""

    def parse(text: str) -> float:
        try:
            value = number(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_area_mm2 = _non_negative(float, "an area in mm² (a number, 0 or more)")
_area_px = _non_negative(int, "a number of pixels (a whole number, 0 or more)")


def _describe(result: AnalysisResult) -> str:
    scope = result.scope
    if scope is not None and not scope.in_scope:
        # Out of scope: say so first; the figures follow for whoever wants them anyway.
        return "OUT OF SCOPE: " + "; ".join(scope.reasons) + " | " + _figures(result)
    return _figures(result)


def _figures(result: AnalysisResult) -> str:
    parts = [f"key frame {result.key_frame}"
             + (f" (auto {result.key_frame_auto})" if result.key_frame_source != "auto" else "")]
    flagged = sum(lesion.flagged for lesion in result.lesions)
    parts.append(f"{len(result.lesions)} lesion(s)" + (f", {flagged} flagged" if flagged else ""))
    if result.prediction is not None:
        parts.append(
            f"response {result.prediction.probability:.2f} ({result.prediction.call})"
        )
    parts.append(f"{result.timings_ms.get('total', 0.0):.0f} ms")
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
