"""The real labelme package for compatibility tests (test-only; GPL, never shipped).

``import labelme`` imports ``labelme.utils.qt``, which does ``from PyQt5 import ...``; the
file reader and rasteriser never call it. PyQt5 must not enter our environment (we ship
PySide6), so while labelme is imported, ``PyQt5`` names PySide6's modules.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types

import numpy as np
import pytest


def import_labelme() -> types.ModuleType:
    """labelme with ``labelme.testing`` loaded, or a pytest skip when it is not installed."""
    aliases = {}
    if importlib.util.find_spec("PyQt5") is None and importlib.util.find_spec("labelme"):
        import PySide6.QtCore
        import PySide6.QtGui
        import PySide6.QtWidgets

        package = types.ModuleType("PyQt5")
        package.QtCore, package.QtGui, package.QtWidgets = (
            PySide6.QtCore,
            PySide6.QtGui,
            PySide6.QtWidgets,
        )
        aliases = {
            "PyQt5": package,
            "PyQt5.QtCore": PySide6.QtCore,
            "PyQt5.QtGui": PySide6.QtGui,
            "PyQt5.QtWidgets": PySide6.QtWidgets,
        }
        sys.modules.update(aliases)
    try:
        module = pytest.importorskip(
            "labelme",
            reason="labelme (test-only) is not installed: make installs it with --no-deps",
        )
        importlib.import_module("labelme.testing")
    finally:
        for name in aliases:
            sys.modules.pop(name, None)  # other tests pick their Qt binding undisturbed
    return module


def labelme_masks(labelme, label_file, shape, labels=("liver", "tumor")) -> dict[str, np.ndarray]:
    """labelme's own pixels of a loaded ``LabelFile``: shape_to_mask per shape
    (shapes_to_label for mask shapes, which shape_to_mask does not handle), united per label.
    Shapes of other labels are ignored."""
    masks = {label: np.zeros(shape, bool) for label in labels}
    for item in label_file.shapes:
        label = item["label"].strip().lower()
        if label not in masks:
            continue
        if item["shape_type"] == "mask":
            classes, _ = labelme.utils.shapes_to_label(shape, [item], {item["label"]: 1})
            pixels = classes == 1
        else:
            pixels = labelme.utils.shape_to_mask(shape, item["points"], item["shape_type"])
        masks[label] |= pixels
    return masks
