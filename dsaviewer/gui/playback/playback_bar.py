"""The cine controls under the image: transport buttons, the timeline, frame number and
time, playback rate, loop, and the rate actually achieved."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsaviewer.app.case_session import frame_number
from dsaviewer.app.viewer_model import ViewerModel
from dsaviewer.core.keyframe import KEY_FRAME_SOURCE_TEXT
from dsaviewer.gui.playback.cine import CineController
from dsaviewer.gui.playback.timeline import Timeline
from dsaviewer.io.video import Video

FALLBACK_FPS = 15.0  # when a file states no frame rate; shown as "assumed" in the UI


def acquisition_fps(video: Video) -> float:
    """The frame rate the run was acquired at, or :data:`FALLBACK_FPS` when it states none."""
    return video.fps if video.fps is not None else FALLBACK_FPS

MIN_FPS, MAX_FPS = 0.5, 120.0
# Below this share of the chosen rate the achieved rate is shown as a warning.
_SLOW_FRACTION = 0.9


class PlaybackBar(QWidget):
    play_clicked = Signal()
    step_clicked = Signal(int)  # -1 or +1
    seek_requested = Signal(int)
    fps_changed = Signal(float)
    loop_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_button = self._button(self._play_icon, "Play / pause (Space)")
        previous = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward), "Previous frame (←)"
        )
        following = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "Next frame (→)"
        )
        self.timeline = Timeline()
        self.position_label = QLabel("–")
        self.position_label.setMinimumWidth(150)
        self.rate_label = QLabel()
        self.fps_box = QDoubleSpinBox(minimum=MIN_FPS, maximum=MAX_FPS, decimals=1, suffix=" fps")
        self.fps_box.setToolTip("Playback rate; starts at the file's own frame rate")
        self.loop_box = QCheckBox("Loop", checked=True)

        controls = QHBoxLayout()
        for widget in (previous, self.play_button, following, self.position_label):
            controls.addWidget(widget)
        controls.addStretch(1)
        for widget in (self.rate_label, self.fps_box, self.loop_box):
            controls.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.setSpacing(0)
        layout.addWidget(self.timeline)
        layout.addLayout(controls)

        self.play_button.clicked.connect(self.play_clicked)
        previous.clicked.connect(lambda: self.step_clicked.emit(-1))
        following.clicked.connect(lambda: self.step_clicked.emit(1))
        self.timeline.valueChanged.connect(self.seek_requested)
        self.fps_box.valueChanged.connect(self.fps_changed)
        self.loop_box.toggled.connect(self.loop_toggled)
        self.setEnabled(False)

    def _button(self, icon, tip: str) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def follow(self, model: ViewerModel) -> None:
        """Show the model's case, frame and key frame."""

        def position(*_: object) -> None:
            case = model.case
            if case is not None:
                video = case.video
                self.show_position(model.frame, video.n_frames,
                                   model.frame / acquisition_fps(video),
                                   model.frame == model.key_frame)

        def key_frame(index: int) -> None:
            self.timeline.set_key_frame(index)
            self.timeline.setToolTip(f"Key frame {frame_number(index)} "
                                     f"({KEY_FRAME_SOURCE_TEXT[model.key_frame_source]})")
            position()

        model.events.case.connect(lambda case: self.set_video(
            case.video.n_frames, acquisition_fps(case.video), case.video.fps is not None))
        model.events.frame.connect(position)
        model.events.key_frame.connect(key_frame)

    def control(self, cine: CineController) -> None:
        """Drive ``cine`` with the transport controls and show its state and achieved rate."""
        self.play_clicked.connect(cine.toggle)
        self.step_clicked.connect(cine.step)
        self.seek_requested.connect(cine.seek)
        self.fps_changed.connect(cine.set_fps)
        self.loop_toggled.connect(cine.set_loop)
        cine.playing_changed.connect(self.set_playing)
        cine.frame_changed.connect(lambda _index: self.show_rate(
            cine.state.playing, cine.state.fps, cine.state.achieved_fps()))

    def set_video(self, n_frames: int, fps: float, fps_known: bool) -> None:
        self.setEnabled(True)
        self.timeline.blockSignals(True)
        self.timeline.set_frame_count(n_frames)
        self.timeline.setValue(0)
        self.timeline.blockSignals(False)
        self.fps_box.blockSignals(True)
        self.fps_box.setValue(fps)
        self.fps_box.blockSignals(False)
        self.fps_box.setToolTip(
            f"Playback rate; the file states {fps:g} fps" if fps_known
            else f"Playback rate; the file states none, {fps:g} fps assumed"
        )

    def show_position(self, index: int, n_frames: int, seconds: float, is_key: bool) -> None:
        self.timeline.blockSignals(True)
        self.timeline.setValue(index)
        self.timeline.blockSignals(False)
        key = "  ◆ key" if is_key else ""
        self.position_label.setText(
            f"Frame {frame_number(index)} / {n_frames}   {seconds:6.2f} s{key}")

    def show_rate(self, playing: bool, chosen_fps: float, achieved_fps: float | None) -> None:
        """The achieved rate while playing; in red when it falls short of the chosen one."""
        if not playing or achieved_fps is None:
            self.rate_label.clear()
            return
        slow = achieved_fps < _SLOW_FRACTION * chosen_fps
        self.rate_label.setText(f"{achieved_fps:4.1f} fps")
        self.rate_label.setStyleSheet("color: #e05050;" if slow else "color: gray;")
        self.rate_label.setToolTip(
            "This machine shows fewer frames per second than chosen; every frame is still "
            "shown, in order" if slow else "Rate achieved"
        )

    def set_playing(self, playing: bool) -> None:
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)
