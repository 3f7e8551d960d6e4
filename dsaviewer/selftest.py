"""``dsaviewer --selftest``: checks an installation end to end, for support staff and CI.

On a temporary copy of the bundled demo case it starts the main window (Qt's offscreen
platform, so no screen is needed), runs the full analysis through it with the shipped weights
(segmentation and response), paints the key frame with its overlays and checks the answers:
key frame in range, masks aligned with the frame and painted exactly where they are, liver Dice
against the demo's labels, response probability in [0, 1]; it also decodes JPEG-compressed
DICOM through the bundled pylibjpeg plugins. It prints a short report (versions, device,
backend, timings), writes it to a file, and returns 0 when every check passed, 1 otherwise.

A windowed Windows executable has no standard output: the report then goes to the console
of the command prompt that started it (when there is one) and always to the report file.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dsaviewer import __version__
from dsaviewer.selftest_platform import console_stream, process_age_s

if TYPE_CHECKING:
    from dsaviewer.app.viewer_model import ViewerModel
    from dsaviewer.gui.selftest_window import SelftestWindow
    from dsaviewer.inference.manifest import WeightsManifest

REPORT_NAME = "selftest.txt"
# Loose on purpose: it tells a working installation from a broken one (wrong weights, masks
# shifted or transposed), not a good model from a better one.
MIN_LIVER_DICE = 0.5
ANALYSIS_TIMEOUT_S = 600.0
# JPEG baseline is lossy; quality 95 keeps a smooth test image within a few grey levels.
_JPEG_QUALITY = 95
_MAX_JPEG_ERROR = 4.0


@dataclass
class SelftestReport:
    """What was found (versions, device, timings) and the checks with their outcomes."""

    facts: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    checks: int = 0

    def info(self, label: str, text: str) -> None:
        self.facts.append(f"{label:<9} {text}")

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks += 1
        self.results.append(f"{'PASS' if passed else 'FAIL'}  {name}"
                            + (f": {detail}" if detail else ""))
        if not passed:
            self.failures.append(f"{name}: {detail}" if detail else name)
        return passed

    def skip(self, name: str, reason: str) -> None:
        self.results.append(f"SKIP  {name}: {reason}")

    def text(self) -> str:
        if self.failures:
            verdict = (f"RESULT: FAILED, {len(self.failures)} of {self.checks} check(s); "
                       f"first: {self.failures[0]}")
        else:
            verdict = f"RESULT: PASSED, all {self.checks} checks"
        return "\n".join([*self.facts, *self.results, verdict]) + "\n"


def run_selftest(
    weights: Path | None = None, device: str | None = None, report_path: Path | None = None
) -> int:
    """Run every check, write the report to ``report_path`` (default: ``selftest.txt`` in the
    per-user data folder) and to the console; 0 when all passed, else 1."""
    # Before anything imports Qt: no screen is needed, and nothing flashes up on the user's.
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    started = time.perf_counter()
    report = SelftestReport()
    report.info("program", f"DSA Viewer {__version__} self-test, "
                f"{time.strftime('%Y-%m-%d %H:%M:%S')}; {_installation()}")
    report.info("python", f"{platform.python_version()} on {platform.platform()}")
    with tempfile.TemporaryDirectory(prefix="dsaviewer-selftest-",
                                     ignore_cleanup_errors=True) as scratch:
        _guarded(report, "self-test", lambda: _run_checks(report, Path(scratch), weights, device))
    report.info("total", f"self-test took {time.perf_counter() - started:.1f} s")
    return _deliver(report, report_path)


def _guarded(report: SelftestReport, name: str, work: Callable[[], Any]) -> None:
    """Run ``work``; an exception becomes a failed check with its traceback in the report,
    and the remaining checks still run."""
    try:
        work()
    except Exception as error:  # noqa: BLE001 - the report must name whatever broke
        report.check(f"{name} ran to the end", False, f"{type(error).__name__}: {error}")
        report.results.append(traceback.format_exc().rstrip())


def _run_checks(report: SelftestReport, scratch: Path, weights: Path | None,
                device: str | None) -> None:
    from dsaviewer.resources import demo_working_copy, weights_dir

    folder = weights if weights is not None else weights_dir()
    viewer = _start_window(report, scratch, folder, device)  # first: its time is the program's
    try:
        manifest = _check_weights(report, folder)
        _check_scope_classifier(report)
        _guarded(report, "DICOM decoder check", lambda: _check_dicom_decoders(report, scratch))
        case = demo_working_copy(scratch)
        if manifest is None:
            report.skip("analysis of the demo case", "no usable weights")
        else:
            _check_analysis(report, viewer, case, manifest.provenance.random_init)
    finally:
        viewer.close()
        report.info("versions", _versions(viewer))


def _start_window(report: SelftestReport, scratch: Path, weights: Path,
                  device: str | None) -> SelftestWindow:
    """The main window with the viewer's own analyzer (it picks the backend and loads the
    models on first use), timed from the process's start to its first paint."""
    from dsaviewer.gui.background.analysis_runner import PipelineAnalyzer
    from dsaviewer.gui.selftest_window import SelftestWindow

    viewer = SelftestWindow(scratch / "settings.ini", PipelineAnalyzer(weights, device=device))
    age = process_age_s()
    report.info("start-up", "window shown and painted "
                + (f"{age:.2f} s after the process started" if age is not None
                   else "(process start time unknown on this system)")
                + f" (Qt {viewer.qt_version}, platform {viewer.platform})")
    return viewer


def _check_weights(report: SelftestReport, folder: Path) -> WeightsManifest | None:
    from dsaviewer.inference.manifest import read_manifest

    try:
        manifest = read_manifest(folder)
    except Exception as error:  # noqa: BLE001 - WeightsError or an unreadable folder
        report.check("weights present", False, str(error))
        return None
    provenance = manifest.provenance
    state = "UNTRAINED (random initialisation)" if provenance.random_init else "trained"
    report.check("weights present", True,
                 f"{folder}, {state}, created {manifest.created or 'at an unknown time'}")
    return manifest


def _check_scope_classifier(report: SelftestReport) -> None:
    """The scope classifier every analysis reads (resources/scope), intact and loadable."""
    from dsaviewer.inference.scope_score import scope_classifier

    try:
        classifier = scope_classifier()
    except Exception as error:  # noqa: BLE001 - WeightsError or an unreadable folder
        report.check("scope classifier present", False, str(error))
        return
    report.check("scope classifier present", True,
                 f"{classifier.folder}, threshold {classifier.threshold:.2f}")


def _check_analysis(report: SelftestReport, viewer: SelftestWindow, case: Path,
                    random_init: bool) -> None:
    from dsaviewer.io.case_folder import open_case
    from dsaviewer.io.key_frame_labels import labelled_key_frame
    from dsaviewer.io.labelme import read_labelme

    start = time.perf_counter()
    try:
        model = viewer.analyze_case(case, ANALYSIS_TIMEOUT_S)
    except RuntimeError as error:
        report.check("analysis of the demo case", False, str(error))
        return
    seconds = time.perf_counter() - start
    result, video = model.result, model.case.video
    report.info("backend", f"{result.backend} on {result.device}; "
                f"{_accelerators(result.backend)}")
    stages = ", ".join(f"{name} {ms:.0f}" for name, ms in result.timings_ms.items()
                       if name != "total")
    report.info("timing", f"case opened, models loaded and analysed in {seconds:.2f} s; "
                f"the analysis itself {result.timings_ms.get('total', 0.0) / 1000:.2f} s "
                f"({stages} ms)")
    report.check("analysis of the demo case", True,
                 f"{video.n_frames} frames {video.frame_shape[1]}x{video.frame_shape[0]}")
    report.check("key frame in range", 0 <= result.key_frame < video.n_frames,
                 f"frame {result.key_frame} of 0..{video.n_frames - 1} "
                 f"({result.key_frame_source}; automatic choice {result.key_frame_auto})")
    for name in ("tumor", "liver"):
        mask = getattr(result, f"{name}_mask")
        report.check(f"{name} mask aligned with the frame",
                     mask.shape == video.frame_shape and mask.dtype == bool,
                     f"{mask.shape} {mask.dtype}, frame {video.frame_shape}")
        pixels = int(np.count_nonzero(mask))
        if random_init:
            report.skip(f"{name} mask non-empty", f"untrained weights ({pixels} px)")
        else:
            report.check(f"{name} mask non-empty", pixels > 0, f"{pixels} px")

    demo = open_case(case)
    labelled = labelled_key_frame(demo)
    truth = None if labelled is None else read_labelme(demo.label_files[labelled]).masks
    if truth is None:
        report.check("demo labels", False, "the demo case has no key-frame labels")
    else:
        _check_dice(report, result, truth, random_init)
    _check_rendering(report, viewer, model)

    prediction = result.prediction
    if prediction is None:
        report.check("response prediction", False, "the weights hold no response model")
    else:
        report.check("response probability in [0, 1]",
                     bool(np.isfinite(prediction.probability))
                     and 0.0 <= prediction.probability <= 1.0,
                     f"{prediction.probability:.3f} (threshold {prediction.threshold:.2f}; "
                     f"inputs {', '.join(prediction.inputs_used)})")
    for note in result.notes:
        report.info("note", note)


def _check_dice(report: SelftestReport, result: Any, truth: dict[str, np.ndarray],
                random_init: bool) -> None:
    from dsaviewer.core.metrics_segmentation import dice

    liver = dice(result.liver_mask, truth["liver"])
    tumor = dice(result.tumor_mask, truth["tumor"])
    detail = f"{liver:.3f} (tumor Dice {tumor:.3f}, not checked)"
    if random_init:
        report.skip(f"liver Dice >= {MIN_LIVER_DICE}", f"untrained weights: {detail}")
    else:
        report.check(f"liver Dice >= {MIN_LIVER_DICE}", liver >= MIN_LIVER_DICE, detail)


def _check_rendering(report: SelftestReport, viewer: SelftestWindow,
                     model: ViewerModel) -> None:
    """Each mask layer painted alone at full opacity must cover exactly the mask's pixels:
    the overlay lies on the frame with no shift, flip or scaling."""
    from dsaviewer.core.overlay_images import LIVER_RGB, TUMOR_RGB
    from dsaviewer.gui.overlays.overlay_layers import LAYER_NAMES, LIVER, TUMOR

    result = model.result
    full = viewer.render_key_frame(model, dict.fromkeys(LAYER_NAMES, 0.6), with_legend=True)
    report.check("key frame rendered with overlays", full.shape[:2] == model.case.video.frame_shape,
                 f"{full.shape[1]}x{full.shape[0]} px")
    for name, colour in ((TUMOR, TUMOR_RGB), (LIVER, LIVER_RGB)):
        mask = getattr(result, f"{name}_mask")
        if not mask.any():
            report.skip(f"{name} overlay on its pixels", "empty mask")
            continue
        painted = np.all(viewer.render_key_frame(model, {name: 1.0}) == colour, axis=-1)
        wrong = int(np.count_nonzero(painted != mask))
        report.check(f"{name} overlay on its pixels", wrong == 0,
                     f"{wrong} of {mask.size} px differ")


def _check_dicom_decoders(report: SelftestReport, scratch: Path) -> None:
    """pylibjpeg must decode the JPEG transfer syntaxes angiography systems write (JPEG
    lossless above all); openjpeg and libjpeg are each checked by a real round trip."""
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder, pixel_array
    from pydicom.uid import (
        JPEG2000Lossless,
        JPEGBaseline8Bit,
        JPEGLosslessSV1,
        JPEGLSLossless,
    )

    from dsaviewer.io.avi_mjpeg import encode_jpeg_frames
    from dsaviewer.io.video import load_video
    from dsaviewer.io.writers import write_dicom_xa

    syntaxes = (JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless)
    missing = [uid.name for uid in syntaxes
               if "pylibjpeg" not in get_decoder(uid).available_plugins]
    report.check("DICOM JPEG decoders (pylibjpeg)", not missing,
                 "missing for " + "; ".join(missing) if missing else
                 "JPEG baseline, JPEG lossless, JPEG-LS, JPEG 2000")

    yy, xx = np.mgrid[:64, :96]
    frames = np.stack([(xx * 2 + yy + 17 * index) % 256 for index in range(3)]).astype(np.uint8)
    raw = write_dicom_xa(scratch / "raw.dcm", frames, fps=7.5)
    dataset = pydicom.dcmread(raw)
    dataset.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    dataset.save_as(scratch / "j2k.dcm", enforce_file_format=True)
    decoded = load_video(scratch / "j2k.dcm").frames
    report.check("JPEG 2000 DICOM round trip (openjpeg)", np.array_equal(decoded, frames),
                 f"{decoded.shape} read back")

    dataset = pydicom.dcmread(raw)
    dataset.PixelData = encapsulate(encode_jpeg_frames(frames, _JPEG_QUALITY))
    dataset["PixelData"].VR = "OB"
    dataset.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    decoded = pixel_array(dataset, decoding_plugin="pylibjpeg")
    error = float(np.abs(decoded.astype(float) - frames).mean())
    report.check("JPEG baseline DICOM decode (libjpeg)", error <= _MAX_JPEG_ERROR,
                 f"mean error {error:.2f} grey levels")


def _installation() -> str:
    if getattr(sys, "frozen", False):
        return f"packaged program {Path(sys.executable).resolve()}"
    return f"from source, {Path(__file__).resolve().parent.parent}"


def _accelerators(backend: str) -> str:
    """What the backend could run on here, so a GPU that is not used is visible too."""
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return f"CUDA {torch.version.cuda}: {', '.join(names)}"
        build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
        return f"no CUDA GPU visible to torch ({build})"
    import onnxruntime

    return "onnxruntime providers: " + ", ".join(onnxruntime.get_available_providers())


def _versions(viewer: SelftestWindow) -> str:
    import cv2
    import pydicom

    found = [f"numpy {np.__version__}", f"opencv {cv2.__version__}",
             f"pydicom {pydicom.__version__}", f"Qt {viewer.qt_version}"]
    for module in ("onnxruntime", "torch"):  # only what this run loaded: never import torch
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(f"{module} {loaded.__version__}")
    return ", ".join(found)


def _deliver(report: SelftestReport, report_path: Path | None) -> int:
    from dsaviewer.resources import user_data_dir

    text = report.text()
    target = report_path if report_path is not None else user_data_dir() / REPORT_NAME
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        text += f"report written to {target}\n"
    except OSError as error:
        text += f"could not write the report to {target}: {error}\n"
    console = console_stream()
    if console is not None:
        console.write(text)
        console.flush()
        if console is not sys.stdout:
            console.close()
    return 1 if report.failures else 0
