"""Timing and memory of the whole analysis pipeline, per backend and device.

A 30-frame 1021 x 788 run (``bench_core.synthetic_run``, written as MJPEG AVI) is decoded and
analysed: preprocessing, key frame, frame difference, DSA-LTDNet, the scope check,
post-processing, lesions and the response model. Each backend/device runs in its own process,
so its peak memory is its own. Uses the shipped weights when ``resources/weights`` holds
them, else random-initialised ones (segmentation: the full DSA-LTDNet at base width 8;
response: ResNet18 at width 64), which take exactly as long as trained ones.

Targets on the 2-core development machine: the whole pipeline after decoding under 300 ms,
the scope check at most 20 ms, and ONNX Runtime faster than PyTorch.

Run: ``.venv/bin/python benchmarks/bench_pipeline.py [--repeats N] [--weights DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_core import FPS, HEIGHT, N_FRAMES, WIDTH, synthetic_run

from dsaviewer.inference.manifest import MANIFEST_NAME, read_manifest
from dsaviewer.resources import weights_dir

TARGET_MS = 300.0
SCOPE_TARGET_MS = 20.0  # the scope check's share of a case
WARM_UP_RUNS = 2
STAGES = ("preprocess", "key_frame", "frame_difference", "segmentation", "scope", "postprocess",
          "lesions", "response")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--worker", nargs=4, metavar=("BACKEND", "DEVICE", "VIDEO", "WEIGHTS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        backend, device, video, weights = args.worker
        print(json.dumps(measure(backend, device, Path(video), Path(weights), args.repeats)))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        from dsaviewer.io.writers import write_avi

        video = write_avi(folder / "video.avi", synthetic_run(), FPS)
        weights, origin = _weights(args.weights, folder / "weights")
        print(f"run: {N_FRAMES} frames of {WIDTH} x {HEIGHT}, MJPEG AVI")
        print(f"weights: {origin}")
        print(f"median of {args.repeats} runs after {WARM_UP_RUNS} warm-up runs, in ms; "
              f"one process per column; load average {os.getloadavg()[0]:.2f} at the start "
              "(other work on the machine slows every column)\n")
        results = {}
        for backend, device in _configurations(weights):
            command = [sys.executable, __file__, "--repeats", str(args.repeats),
                       "--worker", backend, device, str(video), str(weights)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(f"{backend}/{device}: failed\n{done.stderr[-2000:]}")
                continue
            results[(backend, device)] = json.loads(done.stdout.strip().splitlines()[-1])
        _print_table(results)


def measure(backend: str, device: str, video_path: Path, weights: Path, repeats: int) -> dict:
    """Run in a worker process: decode and analyse ``repeats`` times; medians and memory."""
    from dsaviewer.inference.backend import load_backend
    from dsaviewer.inference.pipeline import analyze
    from dsaviewer.io.video import load_video

    decode_ms = []
    for _ in range(3):
        start = time.perf_counter()
        video = load_video(video_path)
        decode_ms.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    models = load_backend(weights, backend, device)
    load_ms = 1000 * (time.perf_counter() - start)
    rss_before_mb = _status_mb("VmRSS")
    first = analyze(video, weights=models).timings_ms["total"]
    for _ in range(WARM_UP_RUNS - 1):
        analyze(video, weights=models)
    runs = [analyze(video, weights=models).timings_ms for _ in range(repeats)]
    result = {
        "device": models.device,
        "decode": statistics.median(decode_ms),
        "load_models": load_ms,
        "first_run": first,
        **{stage: statistics.median(run[stage] for run in runs) for stage in STAGES},
        "total": statistics.median(run["total"] for run in runs),
        "total_min": min(run["total"] for run in runs),
        "rss_before_mb": rss_before_mb,
        "peak_rss_mb": _status_mb("VmHWM"),
    }
    if backend == "torch" and models.device.startswith("cuda"):
        import torch

        result["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def _weights(requested: Path | None, scratch: Path) -> tuple[Path, str]:
    shipped = requested or weights_dir()
    if (shipped / MANIFEST_NAME).is_file():
        return shipped, f"{shipped} ({read_manifest(shipped).provenance.training_command})"
    import torch

    from dsaviewer.inference.weights import write_weights
    from dsaviewer.models import (
        ABLATIONS,
        ResponseConfig,
        build_response_model,
        build_segmentation_model,
    )

    torch.manual_seed(0)
    config = ABLATIONS["full"]
    response_config = ResponseConfig(clinical_features=26)
    write_weights(
        scratch, build_segmentation_model(config), config,
        build_response_model(response_config), response_config, 0.5,
        {"training_command": "bench_pipeline (random init)", "random_init": True},
    )
    note = (f"NO SHIPPED WEIGHTS: random-initialised DSA-LTDNet (full, base width "
            f"{config.base_width}, {config.image_size} px) + ResNet18 width "
            f"{response_config.width}")
    try:
        from training.export_onnx import export_onnx

        export_onnx(scratch)
    except ImportError as error:
        note += f"; no ONNX export ({error})"
    return scratch, note


def _configurations(weights: Path) -> list[tuple[str, str]]:
    import torch

    configurations = [("torch", "cpu")]
    if torch.cuda.is_available():
        configurations.append(("torch", "cuda"))
    if torch.backends.mps.is_available():
        configurations.append(("torch", "mps"))
    if read_manifest(weights).segmentation.onnx is not None:
        try:
            import onnxruntime
        except ImportError:
            print("onnxruntime not installed: ONNX backend skipped")
            return configurations
        configurations.append(("onnx", "cpu"))
        providers = onnxruntime.get_available_providers()
        if "CUDAExecutionProvider" in providers:
            configurations.append(("onnx", "cuda"))
        if "DmlExecutionProvider" in providers:
            configurations.append(("onnx", "directml"))
    return configurations


def _print_table(results: dict) -> None:
    if not results:
        return
    names = [f"{backend}/{device}" for backend, device in results]
    print(f"{'stage':<22}" + "".join(f"{name:>14}" for name in names))
    rows = ["decode", *STAGES, "total", "total_min", "first_run", "load_models",
            "rss_before_mb", "peak_rss_mb"]
    if any("gpu_peak_mb" in result for result in results.values()):
        rows.append("gpu_peak_mb")
    for row in rows:
        label = {"total": "total after decode", "total_min": "  (fastest run)",
                 "first_run": "first run", "rss_before_mb": "RSS before (MiB)",
                 "peak_rss_mb": "peak RSS (MiB)", "gpu_peak_mb": "GPU peak (MiB)"}.get(row, row)
        cells = "".join(
            f"{result[row]:>14.1f}" if row in result else f"{'-':>14}"
            for result in results.values()
        )
        print(f"{label:<22}{cells}")
    print()
    for (backend, device), result in results.items():
        verdict = "meets" if result["total"] < TARGET_MS else "MISSES"
        print(f"{backend}/{device} ({result['device']}): {result['total']:.0f} ms after decode, "
              f"{verdict} the {TARGET_MS:.0f} ms target")
        scope_verdict = "meets" if result["scope"] <= SCOPE_TARGET_MS else "MISSES"
        print(f"{backend}/{device}: scope check {result['scope']:.1f} ms, {scope_verdict} the "
              f"{SCOPE_TARGET_MS:.0f} ms target")
    torch_cpu, onnx_cpu = results.get(("torch", "cpu")), results.get(("onnx", "cpu"))
    if torch_cpu and onnx_cpu:
        faster = onnx_cpu["total"] < torch_cpu["total"]
        print(f"ONNX Runtime vs PyTorch on the CPU: {onnx_cpu['total']:.0f} vs "
              f"{torch_cpu['total']:.0f} ms ({'faster' if faster else 'NOT faster'}; models "
              f"{onnx_cpu['segmentation'] + onnx_cpu['response']:.0f} vs "
              f"{torch_cpu['segmentation'] + torch_cpu['response']:.0f} ms)")


def _status_mb(key: str) -> float:
    """A memory figure of this process from /proc (Linux): VmRSS now, VmHWM the peak.
    Not getrusage's ru_maxrss: that survives exec and would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
