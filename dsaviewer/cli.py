"""The ``dsaviewer`` command: opens the viewer (optionally on a file or the demo case), or
``dsaviewer analyze …`` for headless batch analysis, or ``dsaviewer pacs …`` for PACS
transfers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dsaviewer import __version__
from dsaviewer.resources import demo_working_copy


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsaviewer",
        description="Liver DSA viewer for TACE (research tool, not for diagnosis). "
        "'dsaviewer analyze --help' for batch analysis without a window, "
        "'dsaviewer pacs --help' for PACS query, retrieve and send, "
        "'dsaviewer compare --help' to compare a run with its control run.",
    )
    parser.add_argument("path", nargs="?", type=Path,
                        help="a video (AVI/MP4), DICOM file or folder, frame folder or case folder")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo case")
    parser.add_argument("--weights", type=Path, default=None,
                        help="folder of weights with manifest.json (default: the bundled ones)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda, cuda:N or mps (default: the best available)")
    parser.add_argument("--selftest", action="store_true",
                        help="check this installation on the demo case, print a report and "
                        "exit: 0 when every check passed")
    parser.add_argument("--report", type=Path, default=None,
                        help="with --selftest: where to write the report (default: "
                        "selftest.txt in the per-user data folder)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["analyze"]:
        from dsaviewer import analyze_cli

        return analyze_cli.main(argv[1:])
    if argv[:1] == ["pacs"]:
        from dsaviewer import pacs_cli

        return pacs_cli.main(argv[1:])
    if argv[:1] == ["compare"]:
        from dsaviewer import compare_cli

        return compare_cli.main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.selftest:
        from dsaviewer.selftest import run_selftest

        return run_selftest(args.weights, args.device, args.report)
    path = args.path
    if args.demo:
        try:
            path = demo_working_copy()
        except OSError as exc:
            print(f"dsaviewer: cannot prepare the demo case: {exc}", file=sys.stderr)
            return 2
    from dsaviewer.gui.app import run_viewer  # Qt is loaded only for the viewer itself

    return run_viewer(path, weights=args.weights, device=args.device)


if __name__ == "__main__":
    sys.exit(main())
