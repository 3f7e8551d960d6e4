"""Where the bundled resources (weights, demo case, icons) live.

A source checkout keeps them in ``<repo>/resources``; a PyInstaller bundle unpacks them under
``sys._MEIPASS/resources``. Nothing is resolved against the current directory.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dsaviewer import __version__


def resources_dir() -> Path:
    bundle_root = getattr(sys, "_MEIPASS", None)
    if bundle_root is not None:
        return Path(bundle_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def demo_dataset_dir() -> Path:
    """A one-case dataset: the case folder with clinical.csv and truth.csv beside it."""
    return resources_dir() / "demo"


def demo_case_dir() -> Path:
    """The bundled demo case folder (read-only: open :func:`demo_working_copy` instead)."""
    source = demo_dataset_dir()
    cases = sorted(path for path in source.iterdir() if path.is_dir())
    if len(cases) != 1:
        raise FileNotFoundError(f"the demo dataset {source} should hold exactly one case folder")
    return cases[0]


def weights_dir() -> Path:
    return resources_dir() / "weights"


def scope_dir() -> Path:
    """The scope classifier (``dsaviewer.inference.scope_score``), apart from the weights: it
    stays the same whichever segmentation weights analyse a run."""
    return resources_dir() / "scope"


def user_data_dir() -> Path:
    """The per-user folder for what the program writes on its own (not the user's cases):
    :func:`dsaviewer.io.user_data.user_data_folder`."""
    from dsaviewer.io.user_data import user_data_folder

    return user_data_folder()


def pacs_cache_dir() -> Path:
    """Where series retrieved from a PACS are kept: ``<study>/<series>/`` per series."""
    return user_data_dir() / "pacs-cache"


def demo_working_copy(destination: Path | None = None) -> Path:
    """The demo case folder, copied once per program version into a writable place.

    The viewer saves the key-frame override, clinical values and results into the case
    folder; the bundled copy must stay pristine (and in a PyInstaller bundle it is unpacked
    to a temporary folder that vanishes on exit), so the demo opens from a copy.
    """
    case = demo_case_dir()
    target = (destination or user_data_dir()) / f"demo-{__version__}"
    if not (target / case.name).is_dir():
        partial = target.with_name(target.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(case.parent, partial)
        shutil.rmtree(target, ignore_errors=True)
        partial.rename(target)
    return target / case.name
