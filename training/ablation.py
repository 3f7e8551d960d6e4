"""The papers' ablation table: every ``ABLATIONS`` row trained with the same data, split,
seed and budget, scored by its best validation Dice, beside the value the paper reports.

Rows train one after the other into ``OUT/<row>/``; a row already finished is read back, an
interrupted one resumed, so the whole table survives Ctrl-C or a reboot (run the same command
again). ``OUT/ablation.md`` and ``OUT/ablation.json`` are rewritten after every row.

A fair budget is the same number of steps (``max_steps`` or ``epochs``): with a time budget
the heavier models (three U-Nets) would take fewer steps than the single U-Net.

Validation Dice chose each row's epoch, so it flatters every row a little; with a held-out
test set (``test_records``) each row's best checkpoint is also scored there, with bootstrap
95 % CIs, on raw masks: post-processing is the viewer's and is ablated by ``evaluate-seg``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsaviewer.core.bootstrap import ConfidenceInterval
from dsaviewer.models import (
    ABLATIONS,
    SegmentationConfig,
    build_segmentation_model,
    count_parameters,
)
from training.dataset import CaseRecord
from training.ddp import init_distributed
from training.device import RuntimeOptions
from training.evaluate_segmentation import evaluate_segmentation
from training.loop_contract import BEST_CHECKPOINT, LAST_CHECKPOINT, StopRequest
from training.report import format_interval, format_value, markdown_table, write_json, write_text
from training.seg_predictions import cached_key_frame_predictions
from training.train_segmentation import (
    SUMMARY_FILE,
    SegmentationTrainingOptions,
    train_segmentation,
)

# Tumor Dice (%) of the papers' tables (DSA-LTDNet Tables 1 and 2; see DESIGN.md).
PAPER_DICE = {
    "kf_only": 70.75,
    "kf_attention_unet": 71.03,
    "kf_unet_plusplus": 70.73,
    "kf_fd": 71.73,
    "kf_optical_flow": 68.35,
    "kf_background_subtraction": 68.89,
    "kf_tdl_unsupervised": 69.90,
    "kf_tdl": 72.32,
    "kf_lrs": 72.01,
    "full": 73.68,
}

# Held-out metrics of the table: (key of evaluate_segmentation, column, percent).
TEST_COLUMNS = (
    ("dice", "Test tumor Dice", False),
    ("lesion_sensitivity", "Test lesion sensitivity", True),
    ("false_positive_ratio", "Test FP ratio", True),
    ("hd95", "Test HD95 px", False),
)


@dataclass(frozen=True)
class AblationRow:
    name: str
    config: SegmentationConfig
    parameters: int
    tumor_dice: float | None
    liver_dice: float | None
    best_epoch: int | None
    steps: int
    seconds_per_step: float | None
    stop_reason: str
    paper_dice: float | None
    test: Mapping[str, ConfidenceInterval] | None = None  # TEST_COLUMNS keys, raw masks


def run_ablation(
    records: Sequence[CaseRecord],
    names: Sequence[str],
    configure: Callable[[str], SegmentationConfig],
    options: SegmentationTrainingOptions,
    out_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    log: Callable[[str], None] = print,
    stop: StopRequest | None = None,
    test_records: Sequence[CaseRecord] | None = None,
    test_cache: str | Path | None = None,
) -> list[AblationRow]:
    """Train (or read back, or resume) each row ``names``; ``configure(name)`` gives its
    config. Stops early, leaving the table partial, when ``stop`` is requested. With
    ``test_records`` each finished row is scored on them (predictions cached in
    ``test_cache``, default ``OUT/.test-cache``)."""
    unknown = [name for name in names if name not in ABLATIONS]
    if unknown:
        raise ValueError(f"unknown ablation row(s) {unknown}; known: {sorted(ABLATIONS)}")
    out = Path(out_dir)
    is_main = init_distributed((runtime or RuntimeOptions()).device).is_main
    if is_main:
        out.mkdir(parents=True, exist_ok=True)
    rows: list[AblationRow] = []
    for name in names:
        config = configure(name)
        folder = out / name
        summary = _finished_summary(folder)
        if summary is None:
            resume = (folder / LAST_CHECKPOINT).is_file()
            log(f"== {name}: {'resuming' if resume else 'training'} ==")
            result = train_segmentation(records, config, options, folder, runtime,
                                        resume=resume, log=log, stop=stop)
            if result.stop_reason == "interrupted":
                break
            summary = _finished_summary(folder)
        row = _row(name, config, summary)
        if is_main and test_records:
            row = _scored_on(row, folder / BEST_CHECKPOINT, test_records,
                             out / ".test-cache" if test_cache is None else test_cache,
                             runtime, log)
        rows.append(row)
        if is_main:
            write_ablation_table(out, rows, options)
    return rows


def write_ablation_table(
    out: Path, rows: Sequence[AblationRow], options: SegmentationTrainingOptions
) -> None:
    budget = (f"{options.max_steps} steps" if options.max_steps
              else f"{options.epochs} epochs")
    sizes = sorted({f"{row.config.image_size} px, base width {row.config.base_width}"
                    for row in rows})
    text = (f"# Ablation (validation fold {options.fold + 1}/{options.n_folds}, "
            f"{budget} each, seed {options.seed}, {'; '.join(sizes)})\n\n"
            "Tumor and liver Dice: per case on the validation key frames, best epoch. "
            "The paper column is DSA-LTDNet's (real DSA, 150 epochs).\n\n")
    text += markdown_table(
        ["Row", "Tumor Dice %", "Liver Dice %", "Paper Dice %", "Parameters", "Steps",
         "s/step", "Best epoch"],
        [[row.name, format_value(row.tumor_dice, percent=True),
          format_value(row.liver_dice, percent=True),
          "n/a" if row.paper_dice is None else f"{row.paper_dice:.2f} %",
          f"{row.parameters:,}", str(row.steps), format_value(row.seconds_per_step, digits=2),
          str(row.best_epoch)] for row in rows],
    )
    tested = [row for row in rows if row.test is not None]
    if tested:
        text += ("\n\n## On the held-out test set\n\nEach row's best checkpoint on the key "
                 "frames of the test set, raw masks at threshold 0.5 (no post-processing), "
                 "mean over cases or pooled lesions with bootstrap 95 % CIs.\n\n")
        text += markdown_table(
            ["Row", *[column for _, column, _ in TEST_COLUMNS]],
            [[row.name, *[format_interval(row.test[key], percent=percent)
                          for key, _, percent in TEST_COLUMNS]] for row in tested],
        )
    write_text(out / "ablation.md", text)
    write_json(out / "ablation.json", {
        "options": options.to_dict(),
        "rows": [{**dataclasses.asdict(row), "config": row.config.to_dict(),
                  "test": None if row.test is None
                  else {key: interval._asdict() for key, interval in row.test.items()}}
                 for row in rows],
    })


def _finished_summary(folder: Path) -> dict[str, Any] | None:
    path = folder / SUMMARY_FILE
    if not path.is_file():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    return None if summary.get("stop_reason") == "interrupted" else summary


def _row(name: str, config: SegmentationConfig, summary: dict[str, Any]) -> AblationRow:
    best = max((entry for entry in summary["history"] if entry.get("val_tumor_dice") is not None),
               key=lambda entry: entry["val_tumor_dice"], default={})
    return AblationRow(
        name=name,
        config=config,
        parameters=count_parameters(build_segmentation_model(config)),
        tumor_dice=best.get("val_tumor_dice"),
        liver_dice=best.get("val_liver_dice"),
        best_epoch=summary["best_epoch"],
        steps=summary["global_step"],
        seconds_per_step=summary["seconds_per_step"],
        stop_reason=summary["stop_reason"],
        paper_dice=PAPER_DICE.get(name),
    )


def _scored_on(
    row: AblationRow,
    checkpoint: Path,
    records: Sequence[CaseRecord],
    cache: str | Path,
    runtime: RuntimeOptions | None,
    log: Callable[[str], None],
) -> AblationRow:
    predictions = cached_key_frame_predictions(checkpoint, records, cache, runtime, log)
    evaluation = evaluate_segmentation(records, predictions, postprocess=False)
    return dataclasses.replace(
        row, test={key: evaluation.row(key).interval for key, _, _ in TEST_COLUMNS})
