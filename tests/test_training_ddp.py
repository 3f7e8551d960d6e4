"""DistributedDataParallel on two CPU processes (gloo): after a few steps, including the TDL
warm-up that averages gradients outside the DDP wrapper, both replicas hold the same weights,
and only rank 0 wrote files."""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import torch
import torch.multiprocessing as mp
from training_fixtures import tiny_records

from dsaviewer.models import ABLATIONS
from training.device import RuntimeOptions
from training.loop_contract import StepReport
from training.train_segmentation import SegmentationTrainingOptions, train_segmentation

WORLD_SIZE = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _train(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD_SIZE),
                      LOCAL_WORLD_SIZE=str(WORLD_SIZE))
    config = dataclasses.replace(ABLATIONS["full"], base_width=4, depth=3, image_size=64)
    options = SegmentationTrainingOptions(epochs=2, tdl_warmup_epochs=1, batch_size=4,
                                          n_folds=4, log_every=1000, checkpoint_every=1000)
    phases: list[str] = []

    def remember(report: StepReport) -> None:
        phases.append("warmup" if set(report.parts) == {"temporal"} else "train")

    result = train_segmentation(tiny_records(8), config, options, out,
                                RuntimeOptions(device="cpu", threads=1),
                                log=lambda message: None, on_step=remember)
    torch.save({"parameters": dict(result.model.named_parameters()), "phases": phases,
                "steps": result.global_step}, Path(out).parent / f"rank{rank}.pt")


def test_two_processes_train_identical_replicas(tmp_path: Path) -> None:
    out = tmp_path / "run"
    mp.spawn(_train, args=(_free_port(), str(out)), nprocs=WORLD_SIZE, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]
    assert ranks[0]["steps"] == ranks[1]["steps"] == 12  # 9 samples a shard, 2 a batch
    assert ranks[0]["phases"][:2] == ["warmup", "warmup"] and ranks[0]["phases"][2] == "train"
    for name, tensor in ranks[0]["parameters"].items():
        assert torch.equal(tensor, ranks[1]["parameters"][name]), name
    assert {p.name for p in out.iterdir()} >= {"last.pt", "best.pt", "summary.json"}
