"""How well the parametric tools measure generated runs with a known truth.

For N generated pre/post-embolisation pairs (training.synth.embolisation), with the pre-run's
key-frame tumor and liver labels as regions:

- blush reduction: ``compare_runs`` (registration, curves, 1 - peak ratio) against the
  generator's truth; the error distribution in percentage points, and the same for the AUC;
- registration: the distance between where the measured and the true warp put the tumor;
- on the pre-runs' hypervascular tumors: the tumor curve's peak over the parenchyma's;
- arterial time to peak (the arterial tree's pixels in the liver) against the parenchyma's.

Run: ``python -m training.evaluate_embolisation --n 40 [--size 512] [--seed 2024]``
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from dsaviewer.core.compare_runs import compare_runs
from dsaviewer.core.parametric import parametric_maps
from dsaviewer.core.time_density import curve_peak, region_curves, standard_regions
from training.synth import SynthOptions
from training.synth.embolisation import EmbolisationPair, generate_pair

_GAP_PX = 5  # parenchyma: the liver this far from tumors and arteries


def measure_pair(pair: EmbolisationPair) -> dict[str, float] | None:
    """The pair's measurements; None when its pre-run shows no tumor."""
    pre, post = pair.pre, pair.post
    labels = pre.labels[0]
    if not labels.tumor.any():
        return None
    white_pre, white_post = ((1 << case.bits_stored) - 1 for case in (pre, post))
    pre_maps = parametric_maps(pre.frames, fps=pre.fps, white_level=white_pre)
    post_maps = parametric_maps(post.frames, fps=post.fps, white_level=white_post)
    regions = standard_regions(pre.frames.shape[1:], labels.tumor, labels.liver, pre_maps.field)
    comparison = compare_runs(pre.frames, pre_maps, post.frames, post_maps, regions,
                              (white_pre, white_post))

    centre = np.append(np.argwhere(labels.tumor).mean(axis=0)[::-1], 1.0)
    registration_error = float(np.hypot(*(comparison.warp @ centre - pair.transform @ centre)))

    near = cv2.dilate((labels.tumor | pair.vessel_mask).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * _GAP_PX + 1,) * 2))
    parenchyma = labels.liver & ~near.astype(bool)
    curves = region_curves(pre.frames, {"tumor": labels.tumor, "parenchyma": parenchyma},
                           pre_maps.contrast_dark, white_pre)
    arteries = pair.vessel_mask & labels.liver & np.isfinite(pre_maps.ttp)
    parenchyma_ttp = parenchyma & np.isfinite(pre_maps.ttp)
    return {
        "truth_pct": 100.0 * pair.blush_reduction,
        "error_pp": comparison.blush_reduction_pct - 100.0 * pair.blush_reduction,
        "auc_error_pp": comparison.auc_reduction_pct - 100.0 * (1.0 - pair.auc_ratio),
        "registration_px": registration_error,
        "all_rich": float(pre.truth.n_rich == pre.truth.n_tumors_visible),
        "tumor_over_parenchyma": curve_peak(curves["tumor"]) / curve_peak(curves["parenchyma"]),
        "arterial_ttp": float(np.median(pre_maps.ttp[arteries])) if arteries.any() else np.nan,
        "parenchymal_ttp": float(np.median(pre_maps.ttp[parenchyma_ttp]))
        if parenchyma_ttp.any() else np.nan,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate_embolisation",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="pairs to generate (default 40)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--size", type=int, default=512, help="frame side in px (default 512)")
    args = parser.parse_args(argv)
    options = SynthOptions(sizes=(((args.size, args.size), 1.0),))
    rows = []
    start = time.perf_counter()
    for index in range(args.n):
        measured = measure_pair(generate_pair(args.seed, index, options))
        if measured is not None:
            rows.append(measured)
    print(f"{len(rows)} of {args.n} pairs with a visible tumor ({args.size} px, seed "
          f"{args.seed}), {time.perf_counter() - start:.0f} s")
    if not rows:
        return 1
    table = {key: np.array([row[key] for row in rows]) for key in rows[0]}
    for key, label in (("error_pp", "blush reduction (peak) error, pp"),
                       ("auc_error_pp", "blush reduction (AUC) error, pp")):
        errors = table[key]
        absolute = np.abs(errors)
        print(f"{label}: mean {errors.mean():+.2f}, SD {errors.std():.2f}, |error| median "
              f"{np.median(absolute):.2f}, 95th percentile {np.percentile(absolute, 95):.2f}, "
              f"max {absolute.max():.2f}; within 10 pp: {np.mean(absolute <= 10):.0%}")
    print(f"truth range {table['truth_pct'].min():.0f}-{table['truth_pct'].max():.0f} %")
    registration = table["registration_px"]
    print(f"registration error at the tumor: median {np.median(registration):.2f} px, max "
          f"{registration.max():.2f} px")
    rich = table["all_rich"] > 0
    ratio = table["tumor_over_parenchyma"][rich]
    print(f"hypervascular pre-runs ({rich.sum()}): tumor peak / parenchyma peak median "
          f"{np.median(ratio):.2f}, min {ratio.min():.2f}; tumor above: {np.mean(ratio > 1):.0%}")
    arterial, parenchymal = table["arterial_ttp"], table["parenchymal_ttp"]
    both = np.isfinite(arterial) & np.isfinite(parenchymal)
    lead = parenchymal[both] - arterial[both]
    print(f"arterial TTP before parenchymal in {np.mean(lead > 0):.0%} of {both.sum()} runs; "
          f"lead median {np.median(lead):.2f} s, min {lead.min():.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
