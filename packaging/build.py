"""Build the packaged program: ``dist/DSAViewer/`` (one folder, windowed, double-clickable).

    python packaging/build.py                   # CPU build: ONNX Runtime, no torch
    python packaging/build.py --variant cuda    # NVIDIA build: torch as installed (CUDA)
    python packaging/build.py --selftest        # and run the built program's --selftest

The same script runs on Linux (``make package``, tests/test_packaging.py) and on the Windows
runner (.github/workflows/windows-build.yml). It checks the build environment first, runs
PyInstaller on packaging/dsaviewer.spec and prints the bundle's size by component.
Exit status: 0 built (and self-test passed), 1 self-test failed, 2 could not build.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "dsaviewer.spec"
APP_NAME = "DSAViewer"
WEIGHTS = ROOT / "resources" / "weights"

# Bundle folders (first path part inside _internal) by the dependency they belong to.
COMPONENTS = {
    "torch (+ CUDA libraries)": ("torch", "nvidia", "functorch", "triton"),
    "onnxruntime": ("onnxruntime",),
    "Qt (PySide6, shiboken6)": ("PySide6", "shiboken6"),
    "OpenCV": ("cv2", "opencv_python_headless.libs"),
    "numpy": ("numpy", "numpy.libs"),
    "scipy": ("scipy", "scipy.libs"),
    "Pillow": ("PIL", "pillow.libs"),
    "pydicom + JPEG plugins": ("pydicom", "pylibjpeg", "libjpeg", "openjpeg", "_libjpeg",
                               "_openjpeg"),
    "resources (demo, weights, icons)": ("resources",),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist",
                        help="where the DSAViewer folder goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=None,
                        help="PyInstaller's work folder (default: build/pyinstaller-VARIANT)")
    parser.add_argument("--selftest", action="store_true",
                        help="run the built program's --selftest afterwards")
    args = parser.parse_args(argv)

    problems = check_environment(args.variant)
    if problems:
        for problem in problems:
            print(f"build: {problem}", file=sys.stderr)
        return 2
    for warning in weights_warnings(args.variant):
        print(f"build: WARNING: {warning}", file=sys.stderr)

    work = args.work or ROOT / "build" / f"pyinstaller-{args.variant}"
    command = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm",
               "--distpath", str(args.dist), "--workpath", str(work), "--log-level", "WARN"]
    print("build:", " ".join(command), flush=True)
    environment = {**os.environ, "DSAVIEWER_VARIANT": args.variant}
    if subprocess.run(command, cwd=ROOT, env=environment).returncode != 0:
        print("build: PyInstaller failed", file=sys.stderr)
        return 2

    bundle = args.dist / APP_NAME
    print(size_report(bundle), flush=True)
    if args.selftest:
        return run_selftest(bundle)
    return 0


def check_environment(variant: str) -> list[str]:
    """What stops this environment from building ``variant``."""
    problems = []
    if importlib.util.find_spec("PyInstaller") is None:
        problems.append("PyInstaller is not installed: pip install -e '.[packaging]'")
    for module in ("PySide6", "pyqtgraph", "cv2", "pydicom", "onnxruntime", "libjpeg",
                   "openjpeg"):
        if importlib.util.find_spec(module) is None:
            problems.append(f"{module} is not installed: pip install -e .")
    if variant == "cuda":
        if importlib.util.find_spec("torch") is None:
            problems.append("the cuda variant ships torch, which is not installed")
        else:
            import torch

            if torch.version.cuda is None:
                problems.append(
                    f"torch {torch.__version__} is a CPU-only build; install a CUDA build "
                    "first, e.g. pip install torch==2.13.0 --index-url "
                    "https://download.pytorch.org/whl/cu128"
                )
    return problems


def weights_warnings(variant: str) -> list[str]:
    """Why the bundle's analysis would not work with the weights in resources/weights (the
    build goes on: the program still views and annotates, and --selftest says what is
    missing)."""
    manifest_path = WEIGHTS / "manifest.json"
    if not manifest_path.is_file():
        return [f"no weights in {WEIGHTS}: the bundle can view but not analyse; build them "
                "with `python -m training` and rebuild"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [f"{manifest_path} is unreadable: {error}"]
    warnings = []
    if manifest.get("provenance", {}).get("random_init"):
        warnings.append(f"the weights in {WEIGHTS} are untrained (random_init)")
    if variant == "cpu":
        for role in ("segmentation", "response"):
            if isinstance(manifest.get(role), dict) and "onnx" not in manifest[role]:
                warnings.append(f"the {role} model has no ONNX export, which the CPU build "
                                f"runs: python -m training export-onnx {WEIGHTS}")
    return warnings


def size_report(bundle: Path) -> str:
    """The bundle's total size and what each large dependency adds to it."""
    internal = bundle / "_internal"
    sizes: dict[str, int] = defaultdict(int)
    total = 0
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        size = path.stat().st_size
        total += size
        relative = path.relative_to(internal) if internal in path.parents else None
        sizes[_component(relative) if relative is not None else "executable (with the "
              "program's Python code)"] += size
    lines = [f"bundle {bundle}: {total / 2**20:.0f} MB"]
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        lines.append(f"  {size / 2**20:8.1f} MB  {name}")
    return "\n".join(lines)


def _component(relative: Path) -> str:
    top = relative.parts[0]
    for name, folders in COMPONENTS.items():
        if top in folders or top.split(".cpython")[0] in folders:  # extension modules
            return name
    if top.startswith(("libpython", "python3", "base_library", "lib-dynload")):
        return "Python runtime"
    return "other libraries and modules"


def run_selftest(bundle: Path) -> int:
    executable = bundle / (APP_NAME + (".exe" if sys.platform == "win32" else ""))
    report = bundle.parent / "selftest.txt"
    command = [str(executable), "--selftest", "--report", str(report)]
    print("build:", " ".join(command), flush=True)
    status = subprocess.run(command, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).returncode
    if sys.platform == "win32" and report.is_file():  # a windowed .exe printed nothing here
        print(report.read_text(encoding="utf-8"))
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
