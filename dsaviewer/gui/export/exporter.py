"""Exports in a worker: the current frame with its overlays, and the one-page case summary,
both as PNG files written atomically."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QWidget

from dsaviewer.app.case_session import CaseSession, frame_number
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_SOURCE_TEXT
from dsaviewer.core.lesions import Lesion
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.gui.background.workers import run_in_background
from dsaviewer.gui.export.case_summary import SummaryContent, render_summary
from dsaviewer.gui.export.frame_render import EditedMask, render_frame
from dsaviewer.io.writers import replace_atomically


@dataclass(frozen=True)
class FrameExport:
    """A frame as the screen shows it: window, inversion, the model's layers shown and the
    annotator's masks when the editor shows them."""

    frame: np.ndarray
    window: tuple[float, float]
    inverted: bool
    overlays: OverlaySet
    opacities: Mapping[str, float]  # shown layers only
    lesions: Sequence[Lesion]
    edited: Sequence[EditedMask] = ()

    def render(self) -> QImage:
        return render_frame(self.frame, self.window, self.inverted, self.overlays,
                            self.opacities, self.lesions, edited=self.edited)


EXPORTS_FOLDER = "exports"  # inside the case's viewer folder, out of the training contract


def ask_png_path(parent: QWidget, title: str, session: CaseSession, what: str) -> Path | None:
    """Ask where to save a PNG, offering ``<case>/viewer/exports/<case>_<what>.png`` for a
    case folder and the user's pictures folder for a loose file (never beside it)."""
    name = session.location.case_id or session.video.source.stem
    if session.location.case_id is not None:
        folder = session.location.state_folder / EXPORTS_FOLDER
        with contextlib.suppress(OSError):  # read-only media: the dialog still opens
            folder.mkdir(parents=True, exist_ok=True)
    else:
        pictures = QStandardPaths.StandardLocation.PicturesLocation
        folder = Path(QStandardPaths.writableLocation(pictures) or Path.home())
    default = folder / f"{name}_{what}.png"
    path, _ = QFileDialog.getSaveFileName(parent, title, str(default), "PNG images (*.png)")
    return Path(path) if path else None


class CaseExporter(QObject):
    finished = Signal(str)  # the path written
    failed = Signal(str)  # the reason

    def export_frame(self, path: Path, frame: FrameExport) -> None:
        self._write(path, frame.render)

    def export_summary(self, path: Path, model: ViewerModel, key_frame: FrameExport) -> None:
        """The open case's summary. Everything it shows is read here, on the UI thread;
        painting and writing happen in the worker."""
        result, case = model.result, model.case
        video = case.video
        header = "   ·   ".join(
            video.metadata[key] for key in ("PatientName", "PatientID", "StudyDate")
            if video.metadata.get(key)
        )
        if result is None:
            analysis_text, prediction_state = "Not analysed", ""
        else:
            seconds = result.timings_ms.get("total", float("nan")) / 1000.0
            analysis_text = (f"Analysis: {result.device}, {result.backend}, {seconds:.2f} s; "
                             f"key frame {frame_number(result.key_frame)} "
                             f"({KEY_FRAME_SOURCE_TEXT.get(result.key_frame_source, '?')})"
                             + (f"; weights: {result.weights_name}" if result.weights_name
                                else ""))
            prediction_state = "" if model.prediction_matches_clinical else (
                "The clinical values below changed after this prediction was made.")
        calibration = model.calibration  # the one the lesions' millimetres come from
        caption = f"Key frame {frame_number(model.key_frame)} of {video.n_frames}" + (
            f"; calibration {calibration.label}" if calibration else
            "; no calibration: no sizes in mm")

        content = SummaryContent(
            title=case.location.case_id or video.source.name,
            header=header,
            image=QImage(),  # painted in the worker
            image_caption=caption,
            lesions=[] if result is None else list(result.lesions),
            clinical=model.clinical,
            clinical_source=model.clinical_source,
            prediction=None if result is None else result.prediction,
            prediction_state=prediction_state,
            analysis_text=analysis_text,
            notes=[] if result is None else list(result.notes),
        )

        def paint() -> QImage:
            return render_summary(replace(content, image=key_frame.render()))

        self._write(path, paint)

    def _write(self, path: Path, paint) -> None:
        def work() -> str:
            image = paint()
            with replace_atomically(path) as temporary:
                if not image.save(str(temporary), "PNG"):
                    raise OSError(f"Qt could not write a PNG to {path}")
            return str(path)

        run_in_background(work, self.finished.emit,
                          lambda error, _trace: self.failed.emit(f"{path}: {error}"))
