"""``dsaviewer --selftest`` from a source checkout, on the bundled demo case with tiny weights;
and the torch-free configuration the packaged CPU build runs in (torch made unimportable)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_inference_fixtures import synthetic_video, write_tiny_weights

from dsaviewer.cli import main
from dsaviewer.errors import InputError
from dsaviewer.inference.backend import load_backend
from dsaviewer.inference.manifest import read_manifest, write_manifest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Constant network outputs (logits): the liver and tumour maps cover the whole field, so the
# masks are non-empty and the overlay checks have pixels to compare.
EVERYWHERE = 6.0


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """Tiny random weights with their ONNX export, marked random_init like the fixtures."""
    from training.export_onnx import export_onnx

    folder = write_tiny_weights(tmp_path_factory.mktemp("weights"), tumor_bias=EVERYWHERE,
                                liver_bias=EVERYWHERE)
    export_onnx(folder)
    return folder


def _selftest(tmp_path: Path, *options: str) -> tuple[int, str]:
    report = tmp_path / "report.txt"
    status = main(["--selftest", *options, "--report", str(report)])
    return status, report.read_text(encoding="utf-8")


def _lines(report: str, prefix: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith(prefix)]


def test_selftest_passes_on_the_demo_and_reports_what_it_ran_on(weights, tmp_path, capsys):
    status, report = _selftest(tmp_path, "--weights", str(weights))

    assert status == 0, report
    assert report.rstrip().endswith("checks")
    assert "RESULT: PASSED" in report
    assert capsys.readouterr().out.startswith(report)  # the console gets the same report
    assert _lines(report, "backend   torch on CPU")
    assert _lines(report, "start-up  window shown and painted")
    assert "UNTRAINED" in report
    for check in ("tumor overlay on its pixels: 0 of", "liver overlay on its pixels: 0 of",
                  "response probability in [0, 1]", "JPEG 2000 DICOM round trip",
                  "key frame in range", "scope classifier present"):
        assert _lines(report, f"PASS  {check}"), check
    # Untrained weights: what depends on training is reported, not judged.
    assert _lines(report, "SKIP  liver Dice")


def test_selftest_judges_trained_weights_and_fails_with_the_reason(weights, tmp_path):
    """The same weights declared trained, with an empty liver: the loose checks now count."""
    folder = tmp_path / "trained"
    write_tiny_weights(folder, tumor_bias=EVERYWHERE, liver_bias=-EVERYWHERE)
    manifest = read_manifest(folder)
    write_manifest(folder, replace(manifest, provenance=replace(manifest.provenance,
                                                                random_init=False)))

    status, report = _selftest(tmp_path, "--weights", str(folder))

    assert status == 1
    assert _lines(report, "FAIL  liver mask non-empty: 0 px")
    assert _lines(report, "FAIL  liver Dice >= 0.5: 0.000")
    assert "RESULT: FAILED" in report


def test_selftest_without_weights_fails_clearly_and_still_checks_the_rest(tmp_path):
    status, report = _selftest(tmp_path, "--weights", str(tmp_path / "nowhere"))

    assert status == 1
    failure = _lines(report, "FAIL  weights present")
    assert failure and "no weights manifest here" in failure[0]
    assert _lines(report, "PASS  DICOM JPEG decoders")
    assert _lines(report, "start-up  window shown")
    assert _lines(report, "SKIP  analysis of the demo case: no usable weights")


def test_selftest_runs_on_onnx_when_torch_cannot_be_imported(weights, tmp_path):
    """What the packaged CPU build does: no torch, so ONNX Runtime, and nothing on the way
    (viewer, pipeline, self-test) may import torch."""
    report = tmp_path / "report.txt"
    script = (
        "import sys; sys.modules['torch'] = None\n"  # every `import torch` now raises
        "from dsaviewer.cli import main\n"
        f"sys.exit(main(['--selftest', '--weights', {str(weights)!r}, '--report', "
        f"{str(report)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)

    text = report.read_text(encoding="utf-8")
    assert done.returncode == 0, text + done.stderr
    assert _lines(text, "backend   onnx on CPU")
    assert "torch" not in _lines(text, "versions")[0]


def test_backend_defaults_to_onnx_and_names_it_when_torch_is_missing(weights, monkeypatch):
    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer

    monkeypatch.setitem(sys.modules, "torch", None)

    assert load_backend(weights).name == "onnx"
    assert PipelineAnalyzer(weights)(synthetic_video()).backend == "onnx"
    with pytest.raises(InputError, match="use the onnx backend"):
        load_backend(weights, "torch")
