"""The ``dsaviewer`` command: opens the viewer, optionally on a file or the demo case."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dsaviewer import __version__
from dsaviewer.resources import demo_case_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsaviewer",
        description="Liver DSA viewer for TACE (research tool, not for diagnosis).",
    )
    parser.add_argument("path", nargs="?", type=Path,
                        help="a video (AVI/MP4), DICOM file or folder, frame folder or case folder")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo case")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = demo_case_dir() if args.demo else args.path
    if args.demo and not path.is_dir():
        print(f"dsaviewer: the demo case is missing from {path}", file=sys.stderr)
        return 2
    from dsaviewer.gui.app import run_viewer  # Qt is loaded only for the viewer itself

    return run_viewer(path)


if __name__ == "__main__":
    sys.exit(main())
