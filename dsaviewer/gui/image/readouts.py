"""Small views of the open case beside the image: the header line with the patient and study,
and the status-bar readout of the pixel under the cursor."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from dsaviewer.app.case_session import CaseSession
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.gui.image.frame_view import FrameView

_HEADER_KEYS = ("PatientName", "PatientID", "StudyDate", "StudyDescription", "Modality",
                "Manufacturer", "InstitutionName")


class CaseHeader(QLabel):
    """The open run's patient, study and device, from its DICOM header when it has one."""

    def __init__(self, model: ViewerModel) -> None:
        super().__init__()
        self.setStyleSheet("color: gray; font-size: 11px;")
        model.events.case.connect(self._show)

    def _show(self, case: CaseSession) -> None:
        metadata = case.video.metadata
        self.setText("   ·   ".join(metadata[key] for key in _HEADER_KEYS if metadata.get(key)))


class CursorReadout(QLabel):
    """The pixel under the cursor: position, grey value, millimetres when the spacing is
    known, and the tumor probability once there is a result."""

    def __init__(self, model: ViewerModel, frame_view: FrameView) -> None:
        super().__init__()
        self._model = model
        frame_view.cursor_moved.connect(self._show)

    def _show(self, row: int, col: int, value: float) -> None:
        case = self._model.case
        if row < 0 or case is None:
            self.clear()
            return
        text = f"x {col}  y {row}  value {value:g}"
        calibration = self._model.calibration  # a person's, else the file's
        if calibration is not None:
            spacing = calibration.mm_per_px
            text += f"  ({col * spacing[1]:.1f}, {row * spacing[0]:.1f} mm)"
        result = self._model.result
        if result is not None:
            text += f"  tumor p {result.tumor_probability[row, col]:.2f}"
        self.setText(text)
