"""The papers' ablation table: every ``ABLATIONS`` row trained with the same data, split,
seed and budget, scored by its best validation Dice, beside the value the paper reports.

Rows train one after the other into ``OUT/<row>/``; a row already finished is read back, an
interrupted one resumed, so the whole table survives Ctrl-C or a reboot (run the same command
again). ``OUT/ablation.md`` and ``OUT/ablation.json`` are rewritten after every row.

A fair budget is the same number of steps (``max_steps`` or ``epochs``): with a time budget
the heavier models (three U-Nets) would take fewer steps than the single U-Net.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsaviewer.models import (
    ABLATIONS,
    SegmentationConfig,
    build_segmentation_model,
    count_parameters,
)
from training.dataset import CaseRecord
from training.ddp import init_distributed
from training.device import RuntimeOptions
from training.loop import LAST_CHECKPOINT, StopRequest
from training.report import format_value, markdown_table, write_json, write_text
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


def run_ablation(
    records: Sequence[CaseRecord],
    names: Sequence[str],
    configure: Callable[[str], SegmentationConfig],
    options: SegmentationTrainingOptions,
    out_dir: str | Path,
    runtime: RuntimeOptions | None = None,
    log: Callable[[str], None] = print,
    stop: StopRequest | None = None,
) -> list[AblationRow]:
    """Train (or read back, or resume) each row ``names``; ``configure(name)`` gives its
    config. Stops early, leaving the table partial, when ``stop`` is requested."""
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
        rows.append(_row(name, config, summary))
        if is_main:
            write_ablation_table(out, rows, options)
    return rows


def write_ablation_table(
    out: Path, rows: Sequence[AblationRow], options: SegmentationTrainingOptions
) -> None:
    budget = (f"{options.max_steps} steps" if options.max_steps
              else f"{options.epochs} epochs")
    text = (f"# Ablation (validation fold {options.fold + 1}/{options.n_folds}, "
            f"{budget} each, seed {options.seed})\n\n"
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
    write_text(out / "ablation.md", text)
    write_json(out / "ablation.json", {
        "options": options.to_dict(),
        "rows": [{**dataclasses.asdict(row), "config": row.config.to_dict()} for row in rows],
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
