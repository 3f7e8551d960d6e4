"""The Linux build of the packaged program (packaging/build.py, the script the Windows
workflow runs): what the bundle holds and leaves out, and its ``--selftest``, with tiny
weights and with the weights bundled from resources/weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_inference_fixtures import write_tiny_weights

pytestmark = pytest.mark.slow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_WEIGHTS = PROJECT_ROOT / "resources" / "weights"
SIZE_LIMIT_MB = 600  # the CPU bundle's target (docs/packaging.md)
NEVER_SHIPPED = ("torch", "training", "labelme", "pytest", "imgviz", "loguru", "onnx", "scipy")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    pytest.importorskip("PyInstaller", reason="pip install -e '.[packaging]' to build")
    root = tmp_path_factory.mktemp("package")
    done = subprocess.run(
        [sys.executable, "packaging/build.py", "--dist", str(root / "dist"),
         "--work", str(root / "work")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "bundle " in done.stdout  # the size report
    return root / "dist" / "DSAViewer"


@pytest.fixture(scope="module")
def onnx_weights(tmp_path_factory) -> Path:
    from training.export_onnx import export_onnx

    folder = write_tiny_weights(tmp_path_factory.mktemp("weights"), tumor_bias=6.0,
                                liver_bias=6.0)
    export_onnx(folder)
    return folder


def _run(bundle: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    # From another folder: nothing may be looked up relative to the current directory.
    return subprocess.run([str(bundle / "DSAViewer"), *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=900,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def _shipped_modules(executable: Path) -> list[str]:
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(executable))
    (pyz,) = [name for name in archive.toc if name.endswith(".pyz")]
    return list(archive.open_embedded_archive(pyz).toc)


def test_the_cpu_bundle_holds_what_the_viewer_needs_and_nothing_else(bundle: Path):
    internal = bundle / "_internal"
    modules = _shipped_modules(bundle / "DSAViewer")
    shipped_tops = {name.split(".")[0] for name in modules}
    assert not shipped_tops & set(NEVER_SHIPPED)
    assert not [path for path in internal.iterdir() if path.name.split(".")[0] in NEVER_SHIPPED]
    for needed in ("dsaviewer.selftest", "dsaviewer.inference.onnx_backend",
                   "pydicom.pixels.decoders.pylibjpeg", "libjpeg", "openjpeg"):
        assert needed in modules, needed
    assert "dsaviewer.inference.torch_backend" not in modules

    platforms = {path.name for path in internal.glob("PySide6/Qt/plugins/platforms/*")}
    assert platforms == {"libqoffscreen.so", "libqminimal.so", "libqxcb.so"}
    # pylibjpeg finds its decoders by entry points, read from the distributions' metadata.
    for distribution in ("pylibjpeg_libjpeg", "pylibjpeg_openjpeg"):
        assert list(internal.glob(f"{distribution}-*.dist-info/entry_points.txt")), distribution
    assert (internal / "resources" / "icons" / "dsaviewer.png").is_file()
    assert (internal / "resources" / "scope" / "scope.onnx").is_file()
    demo = internal / "resources" / "demo"
    assert sorted(path.name for path in demo.iterdir()) == sorted(
        path.name for path in (PROJECT_ROOT / "resources" / "demo").iterdir())

    size_mb = sum(path.stat().st_size for path in bundle.rglob("*")
                  if path.is_file() and not path.is_symlink()) / 2**20
    assert size_mb < SIZE_LIMIT_MB


def test_the_bundle_selftest_passes_on_onnx_without_torch(bundle, onnx_weights, tmp_path):
    report = tmp_path / "report.txt"
    done = _run(bundle, "--selftest", "--weights", str(onnx_weights), "--report", str(report),
                cwd=tmp_path)

    text = report.read_text(encoding="utf-8")
    assert done.returncode == 0, text
    assert done.stdout.startswith(text)
    assert f"packaged program {bundle / 'DSAViewer'}" in text
    assert "backend   onnx on CPU" in text
    assert "PASS  JPEG baseline DICOM decode (libjpeg)" in text
    assert "PASS  tumor overlay on its pixels: 0 of" in text


def test_the_bundle_selftest_uses_the_bundled_weights(bundle, tmp_path):
    """The weights in resources/weights when the build had them (the lead trains them), else a
    failure that says so."""
    report = tmp_path / "report.txt"
    done = _run(bundle, "--selftest", "--report", str(report), cwd=tmp_path)

    text = report.read_text(encoding="utf-8")
    if (BUNDLED_WEIGHTS / "manifest.json").is_file():
        assert done.returncode == 0, text
        assert f"PASS  weights present: {bundle / '_internal' / 'resources' / 'weights'}" in text
    else:
        assert done.returncode == 1
        assert "FAIL  weights present" in text and "no weights manifest here" in text


def test_the_bundle_analyzes_from_the_command_line(bundle, onnx_weights, tmp_path):
    demo_case = bundle / "_internal" / "resources" / "demo"
    out = tmp_path / "out"
    done = _run(bundle, "analyze", str(demo_case), "--weights", str(onnx_weights),
                "--backend", "onnx", "--out", str(out), cwd=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "onnx backend on CPU" in done.stdout
    assert sorted(path.name for path in (out / "synth_s2024_12015").iterdir()) == [
        "liver.png", "overlay.png", "result.json", "tumor.png"]
