"""Reading and writing a dataset's ``clinical.csv`` (header: ``CLINICAL_CSV_COLUMNS``): one
row per case, the DSA-Net clinical variables and the response, checked with the rules of
:mod:`dsaviewer.io.clinical`."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.clinical import (
    CLINICAL_CSV_COLUMNS,
    CLINICAL_FIELDS,
    RESPONSE_FIELD,
    ClinicalRow,
    ClinicalTable,
    format_value,
    parse_clinical,
    parse_value,
)
from dsaviewer.io.writers import replace_atomically


def read_clinical_csv(path: str | Path) -> ClinicalTable:
    """Read a case folder's ``clinical.csv`` (header: :data:`CLINICAL_CSV_COLUMNS`).

    Column names are matched ignoring case and surrounding spaces; columns may come in any
    order, and columns of other names are kept in ``unknown_columns``. Every clinical variable
    needs its column (a cell may be empty); ``response`` may be left out (unknown for every
    case). Raises :class:`InputError` naming the file, the line, the case and the field at
    fault: missing columns by name, short or truncated rows by line number, and text that is
    not a plain decimal number ("1_000", "12,5").
    """
    source = Path(path)
    with reader_boundary(source, "clinical table"):
        return _read_clinical_csv(source)


def _read_clinical_csv(source: Path) -> ClinicalTable:
    try:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            # strict: an unterminated quote (a file cut inside a cell) is an error, not a cell.
            reader = csv.reader(handle, strict=True)
            lines = [(reader.line_num, cells) for cells in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"cannot read the CSV file: {error}", source) from error
    if not lines:
        raise InputError("the file is empty; it needs the header line first", source)

    header = [name.strip().lower() for name in lines[0][1]]
    duplicated = sorted({name for name in header if header.count(name) > 1 and name})
    if duplicated:
        raise InputError(f"the header repeats column(s) {', '.join(duplicated)}", source)
    if "case_id" not in header:
        raise InputError(
            f"the header has no 'case_id' column; expected {','.join(CLINICAL_CSV_COLUMNS)}",
            source,
        )
    known = {name: header.index(name) for name in CLINICAL_CSV_COLUMNS if name in header}
    unknown_columns = tuple(
        lines[0][1][i].strip() for i, name in enumerate(header) if name not in known
    )
    missing_columns = tuple(name for name in CLINICAL_CSV_COLUMNS if name not in known)
    lacking = [name for name in missing_columns if name != RESPONSE_FIELD.name]
    if lacking:
        renamed = (
            f"; it has column(s) {', '.join(map(repr, unknown_columns))} this program does not "
            "know (renamed?)"
            if unknown_columns
            else ""
        )
        raise InputError(
            f"the header lacks the column(s) {', '.join(lacking)}{renamed}; expected "
            f"{','.join(CLINICAL_CSV_COLUMNS)} (cells may be empty, columns may not be left out)",
            source,
        )

    rows: dict[str, ClinicalRow] = {}
    first_line: dict[str, int] = {}
    for line_number, cells in lines[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            kind = "short or truncated" if len(cells) < len(header) else "too long"
            raise InputError(
                f"line {line_number} has {len(cells)} cells, the header {len(header)}: the row "
                f"is {kind}",
                source,
            )
        cells = [cell.strip() for cell in cells]
        case_id = cells[known["case_id"]]
        if not case_id:
            raise InputError(f"line {line_number}: the case_id is empty", source)
        if case_id in rows:
            raise InputError(
                f"line {line_number}: case {case_id!r} is already on line {first_line[case_id]}",
                source,
            )
        try:
            variables = parse_clinical(
                {spec.name: cells[known[spec.name]] for spec in CLINICAL_FIELDS}
            )
            response = (
                parse_value(RESPONSE_FIELD, cells[known[RESPONSE_FIELD.name]])
                if RESPONSE_FIELD.name in known
                else None
            )
        except InputError as error:
            raise InputError(f"line {line_number} (case {case_id}): {error}", source) from error
        rows[case_id] = ClinicalRow(variables, response)
        first_line[case_id] = line_number
    return ClinicalTable(rows, unknown_columns, missing_columns)


def write_clinical_csv(path: str | Path, rows: Mapping[str, ClinicalRow]) -> Path:
    """Write ``rows`` (case_id -> :class:`ClinicalRow`) as ``clinical.csv`` with the header
    :data:`CLINICAL_CSV_COLUMNS`, replacing the file atomically; return the path."""
    target = Path(path)
    for case_id, row in rows.items():
        if not isinstance(case_id, str) or not case_id.strip() or case_id != case_id.strip():
            raise ValueError(f"a case_id must be non-blank text without outer spaces: {case_id!r}")
        try:
            readable = parse_clinical(row.variables.as_strings()) == row.variables
        except InputError:
            readable = False
        if not readable:
            raise ValueError(f"case {case_id}: the variables are not valid: {row.variables}")
        if row.response not in (None, *RESPONSE_FIELD.choices):
            raise ValueError(f"case {case_id}: response must be 0, 1 or None, not {row.response!r}")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CLINICAL_CSV_COLUMNS)
    for case_id, row in rows.items():
        cells = row.variables.as_strings()
        writer.writerow(
            [
                case_id,
                *(cells[spec.name] for spec in CLINICAL_FIELDS),
                format_value(RESPONSE_FIELD, row.response),
            ]
        )
    with replace_atomically(target) as temporary:
        temporary.write_text(text.getvalue(), encoding="utf-8", newline="")
    return target
