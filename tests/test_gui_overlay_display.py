"""What the image shows: a legend on a dark box listing only the layers that can be seen,
the frame difference cut below a noise floor the user can move, and annotations in hues of
their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from test_gui_fixtures import N_FRAMES, SIDE, FakeAnalysis, run_frames, write_avi_case
from viewer_window import make_window, open_case, run_analysis

from dsaviewer.core.overlay_images import DEFAULT_HEAT_LOWER, LIVER_RGB, TUMOR_RGB, heat_rgba
from dsaviewer.gui.annotation.tools import LABEL_RGB
from dsaviewer.gui.overlays.overlay_layers import DIFFERENCE, TUMOR

# The user's own Qt settings are never read or written (conftest).
pytestmark = pytest.mark.usefixtures("private_qsettings")


@pytest.fixture
def window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "viewer.ini", FakeAnalysis())
    # Quantum noise of a few grey levels, as in every real run.
    noise = np.random.default_rng(3).integers(0, 12, (N_FRAMES, SIDE, SIDE))
    frames = np.clip(run_frames().astype(int) + noise, 0, 255).astype(np.uint8)
    open_case(qtbot, window, write_avi_case(tmp_path / "case", frames))
    run_analysis(qtbot, window)
    return window


def legend_pixels(window) -> np.ndarray:
    legend = window.frame_view.legend
    rect = legend.sceneBoundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.white)  # the brightest background there can be
    painter = QPainter(image)
    legend.scene().render(painter, image.rect().toRectF(), rect)
    painter.end()
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                              image.bytesPerLine())
    return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3)


def test_the_legend_has_a_dark_box_and_lists_only_visible_layers(window, qtbot):
    legend = window.frame_view.legend
    assert legend.isVisible() and "Tumor mask" in legend.text
    assert "Frame difference" not in legend.text  # switched off by default
    assert np.median(legend_pixels(window)) < 90  # dark behind the text, even on white
    window.overlay_panel.sliders[TUMOR].setValue(0)  # faded out completely
    assert "Tumor mask" not in legend.text and "Liver mask" in legend.text
    window.overlay_panel.toggles[DIFFERENCE].setChecked(True)
    assert "Frame difference" in legend.text


def test_the_frame_difference_hides_noise_below_a_floor_the_user_moves(window, qtbot):
    layer = window.frame_view.overlays._images[DIFFERENCE]
    window.overlay_panel.toggles[DIFFERENCE].setChecked(True)
    assert window.overlay_panel.difference_floor.value() == round(DEFAULT_HEAT_LOWER * 100)
    painted_default = np.count_nonzero(layer.image[..., 3])
    window.overlay_panel.difference_floor.setValue(0)
    painted_all = np.count_nonzero(layer.image[..., 3])
    assert painted_all > painted_default > 0
    window.overlay_panel.difference_floor.setValue(60)
    assert np.count_nonzero(layer.image[..., 3]) < painted_default
    # Remembered for the next session.
    window.settings.sync()
    again = make_window(qtbot, Path(window.settings.fileName()), FakeAnalysis())
    assert again.overlay_panel.difference_floor.value() == 60


def test_the_heat_map_floor_is_a_fraction_of_full_colour():
    values = np.linspace(0, 10, 101, dtype=np.float32).reshape(1, -1)
    heat = heat_rgba(values, lower=0.5)
    shown = heat.rgba[0, :, 3] > 0
    assert not shown[: 49].any() and shown[55:].all()
    assert np.count_nonzero(heat.with_lower(0).rgba[..., 3]) == 100
    with pytest.raises(ValueError):
        heat.with_lower(1.5)


def test_annotations_are_drawn_in_hues_the_model_does_not_use():
    model = {TUMOR_RGB, LIVER_RGB}
    assert not set(LABEL_RGB.values()) & model
    for annotation in LABEL_RGB.values():
        for predicted in model:
            assert sum(abs(a - b) for a, b in zip(annotation, predicted, strict=True)) > 150
