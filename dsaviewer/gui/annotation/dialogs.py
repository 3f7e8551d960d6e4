"""The questions and reports around mask editing: restore unsaved edits after a crash, save
before closing, what a save or an import could not do, and exporting a dataset."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from dsaviewer.app.annotation_document import ImportReport, OpenReport, SaveReport
from dsaviewer.app.case_session import frame_file_text, frame_number, frame_numbers_text
from dsaviewer.errors import InputError
from dsaviewer.gui.annotation.editor import MaskEditor
from dsaviewer.gui.background.workers import TaskHandle, run_in_background
from dsaviewer.io.dataset_export import (
    DatasetExport,
    ExportCancelled,
    case_folders_in,
    export_dataset,
)

# Longer lists go to the message box's "Show Details" part.
_SHOWN_LINES = 8


def offer_recovery(parent: QWidget, editor: MaskEditor, report: OpenReport) -> None:
    """After opening: tell about label problems, and offer unsaved edits of an earlier session
    (restore, discard, or decide at the next opening)."""
    if report.problems:
        _inform(
            parent,
            "Labels",
            f"{len(report.problems)} problem(s) with the case's label files.",
            report.problems,
        )
    if not report.recovered:
        return
    frames = frame_numbers_text(frame.frame_index for frame in report.recovered)
    latest = max(frame.written_at for frame in report.recovered).astimezone()
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unsaved mask edits found")
    box.setText(
        f"Mask edits of frame(s) {frames} were not saved when the viewer last closed "
        f"(last copied {latest:%Y-%m-%d %H:%M:%S}). Restore them?"
    )
    restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Decide later", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(restore)
    box.exec()
    if box.clickedButton() is restore:
        editor.restore(report.recovered)
    elif box.clickedButton() is discard:
        editor.discard_recovered()


def confirm_close(parent: QWidget, editor: MaskEditor) -> bool:
    """Before closing the case or the window: save, discard or cancel unsaved mask edits.
    True when the case may close (it has been closed in the editor); False to stay open."""
    if editor.is_open and editor.has_unsaved_changes():
        frames = frame_numbers_text(editor.unsaved_frames())
        answer = QMessageBox.question(
            parent,
            "Unsaved mask edits",
            f"Frame(s) {frames} have mask edits that are not saved. Save them as labels?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save and not save_and_report(parent, editor):
            return False
        editor.close_case(discard_unsaved=answer == QMessageBox.StandardButton.Discard)
    else:
        editor.close_case()
    return True


def save_and_report(parent: QWidget, editor: MaskEditor) -> bool:
    """Save; on failure say which frames and why (their edits stay). True when all saved."""
    report = editor.save()
    if not report.ok:
        show_save_failure(parent, report)
    return report.ok


def show_save_failure(parent: QWidget, report: SaveReport) -> None:
    lines = [f"{frame_file_text(frame)}: {why}" for frame, why in sorted(report.failed.items())]
    _inform(
        parent,
        "Labels not saved",
        f"{len(report.failed)} frame(s) could not be saved to {report.labels_dir}. The edits are "
        "kept in the viewer and in its crash-recovery copy; free space or fix the permissions "
        "and save again.",
        lines,
        icon=QMessageBox.Icon.Warning,
    )


def show_import_report(parent: QWidget, report: ImportReport) -> None:
    """Say which labels and shapes of an imported file did not become tumor/liver pixels."""
    lines = [f"label '{label}' is not tumor or liver" for label in report.unknown_labels]
    lines += list(report.unsupported_shapes)
    if lines:
        _inform(
            parent,
            "Labelme import",
            f"{report.path.name} was imported onto frame {frame_number(report.frame)}, except "
            f"{len(lines)} "
            "item(s) the viewer cannot edit:",
            lines,
        )


def ask_export_dataset(parent: QWidget, editor: MaskEditor | None = None) -> None:
    """Ask for a dataset folder and an empty destination, and export its cases there in the
    background (the open case's unsaved edits are saved first, if the user agrees)."""
    if editor is not None and editor.is_open and editor.has_unsaved_changes():
        answer = QMessageBox.question(
            parent,
            "Export dataset",
            "The open case has unsaved mask edits. Save them before exporting?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Save or not save_and_report(parent, editor):
            return
    source = QFileDialog.getExistingDirectory(parent, "Dataset to export (a folder of cases)")
    if not source:
        return
    try:
        cases = case_folders_in(source)
    except InputError as error:
        QMessageBox.warning(parent, "Export dataset", str(error))
        return
    if not cases:
        QMessageBox.warning(parent, "Export dataset", f"{source} holds no case folders.")
        return
    destination = QFileDialog.getExistingDirectory(
        parent, f"Empty folder for the exported dataset ({len(cases)} cases)"
    )
    if destination:
        run_export(parent, cases, Path(destination))


def run_export(parent: QWidget, cases: list[Path], destination: Path) -> TaskHandle:
    """Export in the background with a cancellable progress dialog; report when done."""
    progress = QProgressDialog("Exporting cases…", "Cancel", 0, len(cases), parent)
    progress.setWindowTitle("Export dataset")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(300)
    handle = TaskHandle(progress)
    handle.progressed.connect(lambda fraction, text: _show_progress(progress, fraction, text))
    progress.canceled.connect(handle.cancel)

    def work() -> DatasetExport:
        return export_dataset(
            cases,
            destination,
            on_case=lambda done, total, case_id: handle.report(done / total, case_id),
            cancel=handle.cancel_event,
        )

    def done(export: DatasetExport) -> None:
        progress.reset()
        warnings = [
            f"{case.case_id}: {warning}" for case in export.cases for warning in case.warnings
        ]
        linked = sum(case.video_linked for case in export.cases)
        _inform(
            parent,
            "Export dataset",
            f"Exported {len(export.cases)} case(s) to {export.destination} ({linked} video(s) "
            f"hard-linked, the rest copied) with {export.clinical_csv.name}."
            + (f" {len(warnings)} warning(s):" if warnings else ""),
            warnings,
        )

    def failed(error: Exception, trace: str) -> None:
        progress.reset()
        if isinstance(error, ExportCancelled):
            QMessageBox.information(parent, "Export dataset", f"{error}; nothing was written.")
        elif isinstance(error, InputError | OSError):
            QMessageBox.warning(parent, "Export dataset", f"Nothing was exported: {error}")
        else:
            QMessageBox.critical(parent, "Export dataset", f"Unexpected error: {error}\n\n{trace}")

    run_in_background(work, done, failed)
    return handle


def _show_progress(progress: QProgressDialog, fraction: float, text: str) -> None:
    progress.setValue(round(fraction * progress.maximum()))
    progress.setLabelText(f"Exported {text}")


def _inform(
    parent: QWidget,
    title: str,
    text: str,
    lines: list[str] | tuple[str, ...],
    icon: QMessageBox.Icon = QMessageBox.Icon.Information,
) -> None:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    if lines:
        shown = list(lines[:_SHOWN_LINES])
        if len(lines) > _SHOWN_LINES:
            shown.append(f"… and {len(lines) - _SHOWN_LINES} more (Show Details)")
        box.setInformativeText("\n".join(shown))
        box.setDetailedText("\n".join(lines))
    box.exec()
