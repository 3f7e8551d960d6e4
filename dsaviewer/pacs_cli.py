"""``dsaviewer pacs echo|find|get|send``: talk to a PACS node from the command line.

Exit status: 0 on success; 1 when the node cannot be reached, refuses the association, drops
it or answers with a failure status (the reason is printed); 2 for bad arguments or files.
Output never includes more about patients than what ``find`` was asked to list.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dsaviewer.errors import InputError
from dsaviewer.io.pacs import DEFAULT_CALLING_AET, PacsError, PacsNode, SeriesQuery

if TYPE_CHECKING:
    from dsaviewer.io.dicomweb import WebNode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dsaviewer pacs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    echo = commands.add_parser("echo", help="C-ECHO: is the node there and does it accept us?")
    _node_arguments(echo)

    find = commands.add_parser("find", help="C-FIND: list the series matching a query")
    _node_arguments(find)
    find.add_argument("--patient-id", default="", help="patient ID (wildcards * and ? allowed)")
    find.add_argument("--patient-name", default="", help="patient name, e.g. 'DOE^*'")
    find.add_argument("--date-from", type=_date, metavar="YYYYMMDD", help="first study date")
    find.add_argument("--date-to", type=_date, metavar="YYYYMMDD", help="last study date")
    find.add_argument("--modality", default="", help="series modality, e.g. XA or RF")
    find.add_argument("--study", default="", metavar="UID", help="StudyInstanceUID")
    find.add_argument("--json", action="store_true", help="print the series as a JSON list")

    get = commands.add_parser("get", help="C-GET: retrieve one series into a cache folder")
    _node_arguments(get)
    get.add_argument("--series", required=True, metavar="UID", help="SeriesInstanceUID")
    get.add_argument("--study", default="", metavar="UID",
                     help="its StudyInstanceUID (default: asked from the node)")
    get.add_argument("--out", type=Path, metavar="DIR",
                     help="cache folder; the series goes to DIR/<study>/<series>/ (default: "
                     "pacs-cache in the per-user data folder)")

    send = commands.add_parser("send", help="C-STORE: send DICOM files (e.g. our results)")
    _node_arguments(send)
    send.add_argument("files", nargs="+", type=Path, metavar="FILE",
                      help="DICOM files, or folders whose DICOM files are all sent")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.dicomweb and None in (args.host, args.port, args.called_aet):
        parser.error("give --host, --port and --called-aet (DICOM), or --dicomweb URL")
    try:
        node = _node(args)
        return _COMMANDS[args.command](node, args)
    except PacsError as error:
        print(f"dsaviewer pacs {args.command}: {error}", file=sys.stderr)
        return 1
    except InputError as error:
        print(f"dsaviewer pacs {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dsaviewer pacs {args.command}: interrupted", file=sys.stderr)
        return 1


def _node(args: argparse.Namespace) -> PacsNode | WebNode:
    if args.dicomweb:
        from dsaviewer.io.dicomweb import WebNode

        return WebNode(args.dicomweb.rstrip("/"), args.timeout)
    return PacsNode(args.host, args.port, args.called_aet, args.calling_aet, args.timeout)


def _echo(node: PacsNode | WebNode, args: argparse.Namespace) -> int:
    from dsaviewer.io.dicomweb import WebNode, echo_web
    from dsaviewer.io.pacs import echo

    if isinstance(node, WebNode):
        echo_web(node)
    else:
        echo(node)
    print(f"{node.describe()} answered " + ("QIDO-RS" if isinstance(node, WebNode) else "C-ECHO"))
    return 0


def _find(node: PacsNode | WebNode, args: argparse.Namespace) -> int:
    from dsaviewer.io.dicomweb import WebNode, find_series_web
    from dsaviewer.io.pacs import find_series

    query = SeriesQuery(
        patient_id=args.patient_id,
        patient_name=args.patient_name,
        date_from=args.date_from,
        date_to=args.date_to,
        modality=args.modality.upper(),
        study_uid=args.study,
    )
    found = (find_series_web if isinstance(node, WebNode) else find_series)(node, query)
    if args.json:
        print(json.dumps([series.as_dict() for series in found], indent=2))
        return 0
    for series in found:
        print(f"{series.study_date or '-':8}  {series.modality or '-':3}  "
              f"{series.number_of_frames:5d} frame(s)  {series.patient_id or '-'}  "
              f"{series.series_description or '-'}  study {series.study_uid}  "
              f"series {series.series_uid}")
    print(f"{len(found)} series", file=sys.stderr)
    return 0


def _get(node: PacsNode | WebNode, args: argparse.Namespace) -> int:
    from dsaviewer.io.dicomweb import WebNode, get_series_web
    from dsaviewer.io.pacs import study_of_series
    from dsaviewer.io.pacs_get import get_series
    from dsaviewer.resources import pacs_cache_dir

    web = isinstance(node, WebNode)
    if web and not args.study:
        raise InputError("with --dicomweb, name the series' study (--study UID)")
    study = args.study or study_of_series(node, args.series)

    def progress(received: int, total: int | None) -> None:
        of = f" of {total}" if total else ""
        print(f"\rreceived {received}{of} instance(s)", end="", file=sys.stderr, flush=True)

    retrieve = get_series_web if web else get_series
    retrieved = retrieve(node, study, args.series, args.out or pacs_cache_dir(),
                         progress=progress)
    print(file=sys.stderr)
    print(retrieved.folder)
    return 0


def _send(node: PacsNode | WebNode, args: argparse.Namespace) -> int:
    from dsaviewer.io.dicomweb import WebNode, send_files_web
    from dsaviewer.io.pacs_send import send_files

    files: list[Path] = []
    for path in args.files:
        if path.is_dir():
            inside = _dicom_files(path)
            if not inside:
                raise InputError("the folder holds no DICOM files", path)
            files.extend(inside)
        else:
            files.append(path)
    sent = (send_files_web if isinstance(node, WebNode) else send_files)(node, files)
    print(f"stored {len(sent)} file(s) on {node.describe()}")
    return 0


def _dicom_files(folder: Path) -> list[Path]:
    from dsaviewer.io.dicom import is_dicom_file

    return sorted(
        path
        for path in folder.rglob("*")
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and is_dicom_file(path)
    )


_COMMANDS = {"echo": _echo, "find": _find, "get": _get, "send": _send}


def _node_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="the PACS host name or address")
    parser.add_argument("--port", type=int, help="its DICOM port")
    parser.add_argument("--called-aet", metavar="AET", help="the PACS's AE title")
    parser.add_argument("--dicomweb", metavar="URL",
                        help="use DICOMweb (QIDO-RS, WADO-RS, STOW-RS) at this service root "
                        "instead of DICOM, e.g. http://pacs:8042/dicom-web")
    parser.add_argument("--calling-aet", default=DEFAULT_CALLING_AET, metavar="AET",
                        help=f"our AE title, as the PACS knows us (default {DEFAULT_CALLING_AET})")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for the node (default 30)")


def _date(text: str) -> datetime.date:
    for pattern in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYYMMDD or YYYY-MM-DD)")


if __name__ == "__main__":
    sys.exit(main())
