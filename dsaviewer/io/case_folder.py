"""The case folder of DESIGN.md: one DSA case with exactly one video source and its labels.

```
<case_id>/
  video.avi | video.mp4 | video.dcm | frames/NNNN.png    exactly one
  labels/NNNN.json (+ NNNN.png)                          Labelme files for frame NNNN
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dsaviewer.errors import InputError

VIDEO_FILE_NAMES = ("video.avi", "video.mp4", "video.dcm")
FRAMES_FOLDER_NAME = "frames"
LABELS_FOLDER_NAME = "labels"

_LABEL_FILE = re.compile(r"^(\d{4,})\.json$")


@dataclass(frozen=True)
class Case:
    """A case folder resolved: where its video is and which frames have Labelme files."""

    case_id: str
    root: Path
    video_path: Path
    label_files: dict[int, Path]


def is_case_folder(path: str | Path) -> bool:
    """True for a folder holding any part of the case layout (a video source or labels/);
    whether the layout is complete is :func:`open_case`'s to check and explain."""
    folder = Path(path)
    if not folder.is_dir():
        return False
    return bool(_video_sources(folder)) or (folder / LABELS_FOLDER_NAME).is_dir()


def open_case(path: str | Path) -> Case:
    """Resolve a case folder; InputError unless it has exactly one video source."""
    root = Path(path)
    if not root.exists():
        raise InputError("no such case folder", root)
    if not root.is_dir():
        raise InputError("a case must be a folder", root)
    sources = _video_sources(root)
    expected = f"exactly one of {', '.join(VIDEO_FILE_NAMES)} or {FRAMES_FOLDER_NAME}/"
    if not sources:
        found = sorted(entry.name for entry in root.iterdir() if not entry.name.startswith("."))
        listing = ", ".join(found) if found else "nothing"
        raise InputError(
            f"the case folder has no video source: expected {expected}; found {listing}", root
        )
    if len(sources) > 1:
        names = " and ".join(_display_name(source) for source in sources)
        raise InputError(
            f"the case folder has {len(sources)} video sources ({names}); expected {expected}", root
        )
    return Case(
        case_id=root.name,
        root=root,
        video_path=sources[0],
        label_files=_label_files(root / LABELS_FOLDER_NAME),
    )


def _video_sources(folder: Path) -> list[Path]:
    sources = [folder / name for name in VIDEO_FILE_NAMES if (folder / name).is_file()]
    frames = folder / FRAMES_FOLDER_NAME
    if frames.is_dir():
        sources.append(frames)
    return sources


def _label_files(labels: Path) -> dict[int, Path]:
    if not labels.is_dir():
        return {}
    files = {}
    for path in labels.iterdir():
        match = _LABEL_FILE.match(path.name)
        if match and path.is_file():
            files[int(match.group(1))] = path
    return dict(sorted(files.items()))


def _display_name(path: Path) -> str:
    return f"{path.name}/" if path.is_dir() else path.name
