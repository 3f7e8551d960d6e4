"""Lesion numbers on exported images: scaled to the image, yellow on a dark box, readable on a
bright background as on a dark one."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from dsaviewer.core.lesions import extract_lesions
from dsaviewer.core.overlay_images import OverlaySet
from dsaviewer.gui.export.frame_render import lesion_label_px, render_frame
from dsaviewer.gui.overlays.overlay_layers import LESIONS


def as_rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                              image.bytesPerLine())
    return data[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


@pytest.mark.parametrize("side", [256, 512, 1024])
def test_lesion_numbers_scale_with_the_image_on_a_dark_box(qtbot, side):
    frame = np.full((side, side), 250, np.uint8)  # a bright frame: no contrast for yellow
    mask = np.zeros((side, side), bool)
    mask[side // 2 : side // 2 + side // 8, side // 3 : side // 3 + side // 8] = True
    (lesion,) = extract_lesions(mask)
    rgb = as_rgb(render_frame(frame, (0, 255), False, OverlaySet(), {LESIONS: 1.0},
                              lesions=[lesion], with_legend=False))
    above = rgb[: side // 2 - 1]  # the number sits just above the outline
    dark = (above.max(axis=2) < 60)
    rows = np.nonzero(dark.any(axis=1))[0]
    assert rows.size, "no dark label box above the lesion"
    box_height = rows.max() - rows.min() + 1
    assert lesion_label_px(side, side) <= box_height <= 2 * lesion_label_px(side, side)
    assert lesion_label_px(side, side) >= 0.03 * side
    yellow = (above[..., 0] > 200) & (above[..., 1] > 170) & (above[..., 2] < 80)
    assert yellow[rows.min() : rows.max() + 1].sum() > 4  # the digit, drawn in yellow
