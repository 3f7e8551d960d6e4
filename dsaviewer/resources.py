"""Where the bundled resources (weights, demo case, icons) live.

A source checkout keeps them in ``<repo>/resources``; a PyInstaller bundle unpacks them under
``sys._MEIPASS/resources``. Nothing is resolved against the current directory.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def demo_case_dir() -> Path:
    return resources_dir() / "demo"


def weights_dir() -> Path:
    return resources_dir() / "weights"
