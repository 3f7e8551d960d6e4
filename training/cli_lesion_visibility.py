"""How many labelled lesions can be seen at all, and the tumor Dice that caps (per family).

    python -m training lesion-visibility TEST_DATA OUT
    python -m training lesion-visibility TEST_A TEST_B OUT --evaluation EVAL_DIR

A lesion is visible when its contrast stands >= 3 robust SDs out of the contrasts the same
shape gets elsewhere in the perfused liver, and findable by a reader who must search for it
at >= 5 (training/lesion_visibility.py). The report gives the tumor Dice ceiling of both. With
``--evaluation`` (an evaluate-seg folder of the same cases at the same size) the report also
gives the share of lesions the model found by visibility class.

Writes OUT/visibility.md and OUT/visibility.json (per case and per lesion).
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
from pathlib import Path

import numpy as np
import torch

from dsaviewer.errors import InputError
from training.cli_common import add_dataset_arguments, read_records
from training.ddp import DistributedContext
from training.families import family_groups, read_families
from training.lesion_visibility import Z_FINDABLE, Z_VISIBLE, CaseVisibility, case_visibility
from training.report import markdown_table, write_json, write_text

ONE_PROCESS = DistributedContext(0, 1, 0, 1, torch.device("cpu"))
Z_CLASSES = (0.0, Z_VISIBLE, Z_FINDABLE, 10.0, 20.0, math.inf)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data", type=Path, nargs="+", help="dataset folder(s), read together")
    parser.add_argument("out", type=Path, help="folder for the report")
    parser.add_argument("--image-size", type=int, default=256,
                        help="px the cases are read at: the model's input (256)")
    parser.add_argument("--evaluation", type=Path, default=None,
                        help="an evaluate-seg output folder of these cases at this size: "
                             "adds which lesions the model found")
    add_dataset_arguments(parser)


def run(args: argparse.Namespace) -> int:
    found = _found_lesions(args.evaluation) if args.evaluation else None
    records = read_records(args.data, args.image_size, args, ONE_PROCESS)
    if found is not None:
        records = [record for record in records if record.case_id in found]
        if not records:
            raise InputError("names none of these cases", f"evaluation {args.evaluation}")
    cases = [case_visibility(record) for record in records]
    if found is not None:
        for case in cases:
            listed = [area for area, _ in found[case.case_id]]
            if listed != [lesion.area_px for lesion in case.lesions]:
                raise InputError(
                    f"lists other lesions for {case.case_id} (areas {listed} px) than its "
                    f"labels at {args.image_size} px: evaluate and read the cases at one size",
                    f"evaluation {args.evaluation}")
    groups = family_groups([case.case_id for case in cases], read_families(args.data))
    markdown = visibility_markdown(cases, groups, found)
    args.out.mkdir(parents=True, exist_ok=True)
    write_text(args.out / "visibility.md", markdown)
    write_json(args.out / "visibility.json", {
        "data": [str(folder) for folder in args.data], "image_size": args.image_size,
        "z_visible": Z_VISIBLE, "z_findable": Z_FINDABLE,
        "cases": [{"case_id": case.case_id, "tumor_px": case.tumor_px,
                   "dice_ceiling": case.dice_ceiling, "search_ceiling": case.search_ceiling,
                   "lesions": [[lesion.area_px, _json_number(lesion.z)] +
                               ([found[case.case_id][i][1]] if found else [])
                               for i, lesion in enumerate(case.lesions)]}
                  for case in cases],
    })
    print(markdown)
    return 0


def visibility_markdown(cases: list[CaseVisibility], groups: dict[str, list[str]],
                        found: dict[str, list[tuple[int, bool]]] | None) -> str:
    lesions = [(lesion, None if found is None else found[case.case_id][i][1])
               for case in cases for i, lesion in enumerate(case.lesions)]
    n_visible = sum(lesion.visible for lesion, _ in lesions)
    n_findable = sum(lesion.findable for lesion, _ in lesions)
    rows = []
    for index, (low, high) in enumerate(zip(Z_CLASSES[:-1], Z_CLASSES[1:], strict=True)):
        members = [(lesion, hit) for lesion, hit in lesions if _z_class(lesion.z) == index]
        row = [f"{low:g} to {high:g}" if high < math.inf else f">= {low:g}", str(len(members)),
               str(int(np.median([m.area_px for m, _ in members]))) if members else "-"]
        if found is not None:
            hits = sum(bool(hit) for _, hit in members)
            row.append(f"{hits} ({100 * hits / len(members):.1f} %)" if members else "-")
        rows.append(row)
    header = ["abs z", "lesions", "median area (px)"] + (["found"] if found else [])
    tumor_cases = {case.case_id: case for case in cases if case.tumor_px > 0}
    ceiling_rows = [["all cases with tumor", str(len(tumor_cases)),
                     *_mean_ceilings(list(tumor_cases.values()))]]
    for name, members in sorted(groups.items()):
        chosen = [tumor_cases[c] for c in members if c in tumor_cases]
        if chosen:
            ceiling_rows.append([name, str(len(chosen)), *_mean_ceilings(chosen)])
    return "\n".join([
        "# Lesion visibility", "",
        f"{len(lesions)} labelled lesions in {len(cases)} cases; {n_visible} visible "
        f"(|z| >= {Z_VISIBLE:g}), {n_findable} findable by searching (|z| >= {Z_FINDABLE:g}). "
        "z: the lesion's contrast in robust SDs of the same shape's contrast elsewhere in the "
        "perfused liver, in its best frame of k-9..k (training/lesion_visibility.py).", "",
        markdown_table(header, rows), "",
        "## Tumor Dice ceiling set by visibility (every visible or findable lesion found "
        "exactly)", "",
        markdown_table(["cases", "n", f"ceiling, told where (abs z >= {Z_VISIBLE:g})",
                        f"ceiling, searching (abs z >= {Z_FINDABLE:g})"], ceiling_rows), ""])


def _z_class(z: float) -> int:
    """The row of :data:`Z_CLASSES` a lesion falls in; one that cannot be measured (no
    exposed pixels, z nan) is not visible and goes in the first."""
    return 0 if math.isnan(z) else bisect.bisect_right(Z_CLASSES[1:-1], abs(z))


def _mean_ceilings(cases: list[CaseVisibility]) -> tuple[str, str]:
    return (f"{np.mean([case.dice_ceiling for case in cases]):.3f}",
            f"{np.mean([case.search_ceiling for case in cases]):.3f}")


def _found_lesions(folder: Path) -> dict[str, list[tuple[int, bool]]]:
    """Per case, each ground-truth lesion's area and whether the model found it."""
    path = folder / "segmentation.json"
    try:
        document = json.loads(path.read_text())
        return {case["case_id"]: [(int(area), bool(hit))
                                  for area, hit in case["lesions"]["ground_truth"]]
                for case in document["postprocessed"]["cases"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InputError(f"is not an evaluate-seg report with per-lesion results ({error})",
                         str(path)) from error


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)
