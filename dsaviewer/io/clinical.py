"""The DSA-Net clinical variables (DESIGN.md, DSA-Net Table 1) and the case folders'
``clinical.csv``.

:data:`CLINICAL_FIELDS` describes every variable once (name, label, unit, kind, plausible range
or choices, help); the GUI form, :func:`parse_clinical` and the CSV reader and writer all use
it. Values are checked against a *plausible* range, wide enough for any real patient and
narrow enough to catch a wrong unit or a typing slip (AFP in µg/L is the same number, but
bilirubin in mg/dL is 17 times smaller than in µmol/L and albumin in g/dL 10 times smaller
than in g/L).

Missing values are None everywhere: an empty CSV cell, an empty form field.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dsaviewer.errors import InputError
from dsaviewer.io.boundary import reader_boundary
from dsaviewer.io.writers import replace_atomically

Value = float | int | str


@dataclass(frozen=True)
class ClinicalField:
    """One clinical variable.

    ``kind`` is ``"number"`` (float in ``[minimum, maximum]``), ``"integer"`` (whole number in
    ``[minimum, maximum]``) or ``"choice"`` (one of ``choices``: the values stored and written
    to CSV; ``choice_labels`` are what a person reads, and are accepted as input too).
    """

    name: str
    label: str
    unit: str
    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str | int, ...] = ()
    choice_labels: tuple[str, ...] = ()
    help: str = ""

    def allowed(self) -> str:
        """The allowed values in words, for error messages and tooltips."""
        if self.kind == "choice":
            return " or ".join(
                f"{choice} ({label})" if str(choice) != label else str(choice)
                for choice, label in zip(self.choices, self.choice_labels, strict=True)
            )
        whole = "a whole number" if self.kind == "integer" else "a number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{whole} from {_format(self.minimum)} to {_format(self.maximum)}{unit}"


_NO_YES = dict(kind="choice", choices=(0, 1), choice_labels=("no", "yes"))

CLINICAL_FIELDS: tuple[ClinicalField, ...] = (
    ClinicalField("age", "Age", "years", "integer", 10, 110, help="Age at the first TACE."),
    ClinicalField("sex", "Sex", "", "choice", choices=("M", "F"), choice_labels=("male", "female")),
    ClinicalField("hbv", "HBV infection", "", help="Hepatitis B virus infection.", **_NO_YES),
    ClinicalField(
        "afp", "AFP", "ng/mL", "number", 0, 1e7, help="Serum α-fetoprotein (ng/mL = µg/L)."
    ),
    ClinicalField("pt", "Prothrombin time", "s", "number", 5, 100, help="In seconds, not INR."),
    ClinicalField(
        "child_pugh",
        "Child-Pugh score",
        "points",
        "integer",
        5,
        9,
        help="Child-Pugh points: 5-6 is class A, 7-9 class B.",
    ),
    ClinicalField("ascites", "Ascites", "", help="Ascites present.", **_NO_YES),
    ClinicalField(
        "tbil", "Total bilirubin", "µmol/L", "number", 0, 1000, help="mg/dL × 17.1 = µmol/L."
    ),
    ClinicalField("alb", "Albumin", "g/L", "number", 10, 70, help="g/dL × 10 = g/L."),
    ClinicalField("ast", "AST", "IU/L", "number", 0, 10000, help="Aspartate aminotransferase."),
    ClinicalField("alt", "ALT", "IU/L", "number", 0, 10000, help="Alanine aminotransferase."),
    ClinicalField("crp", "CRP", "mg/L", "number", 0, 500, help="C-reactive protein."),
    ClinicalField(
        "bclc",
        "BCLC stage",
        "",
        "choice",
        choices=("A", "B"),
        choice_labels=("A", "B"),
        help="Barcelona Clinic Liver Cancer stage.",
    ),
)

RESPONSE_FIELD = ClinicalField(
    "response",
    "Response to the first TACE",
    "",
    "choice",
    choices=(0, 1),
    choice_labels=("non-responder", "responder"),
    help="mRECIST 4-6 weeks after the first TACE: responder = complete or partial response.",
)
CLINICAL_CSV_COLUMNS: tuple[str, ...] = (
    "case_id",
    *(spec.name for spec in CLINICAL_FIELDS),
    RESPONSE_FIELD.name,
)
_FIELDS_BY_NAME = {spec.name: spec for spec in CLINICAL_FIELDS}


@dataclass(frozen=True)
class ClinicalVariables:
    """One patient's clinical variables; None is missing. Choice fields hold one of their
    field's ``choices`` (sex ``"M"``/``"F"``, hbv and ascites 0/1, bclc ``"A"``/``"B"``)."""

    age: int | None = None
    sex: str | None = None
    hbv: int | None = None
    afp: float | None = None
    pt: float | None = None
    child_pugh: int | None = None
    ascites: int | None = None
    tbil: float | None = None
    alb: float | None = None
    ast: float | None = None
    alt: float | None = None
    crp: float | None = None
    bclc: str | None = None

    def missing(self) -> list[str]:
        """Names of the missing variables, in :data:`CLINICAL_FIELDS` order."""
        return [spec.name for spec in CLINICAL_FIELDS if getattr(self, spec.name) is None]

    def as_strings(self) -> dict[str, str]:
        """Every variable as text (empty when missing), as the CSV and a form show it."""
        return {spec.name: format_value(spec, getattr(self, spec.name)) for spec in CLINICAL_FIELDS}


@dataclass(frozen=True)
class ClinicalRow:
    """One row of ``clinical.csv``: the variables and the response (1 responder,
    0 non-responder, None unknown)."""

    variables: ClinicalVariables
    response: int | None = None


class ClinicalTable(dict):
    """``clinical.csv`` as read: case_id -> :class:`ClinicalRow`, in file order, plus the
    columns the reader did not use (``unknown_columns``) and the known ones the file lacks
    (``missing_columns``, read as missing values)."""

    def __init__(
        self,
        rows: Mapping[str, ClinicalRow],
        unknown_columns: tuple[str, ...] = (),
        missing_columns: tuple[str, ...] = (),
    ) -> None:
        super().__init__(rows)
        self.unknown_columns = unknown_columns
        self.missing_columns = missing_columns


def parse_clinical(values: Mapping[str, Value | None]) -> ClinicalVariables:
    """Check and convert raw values (form text, CSV cells or numbers) keyed by field name.

    Absent keys, None, blank strings and NaN are missing. Raises :class:`InputError` naming
    the field, the value and what is allowed for a value of the wrong type or out of range,
    and for a key that is no clinical variable.
    """
    unknown = [name for name in values if name not in _FIELDS_BY_NAME]
    if unknown:
        raise InputError(
            f"unknown clinical variable(s) {', '.join(map(repr, unknown))}; known: "
            f"{', '.join(_FIELDS_BY_NAME)}",
            "clinical variables",
        )
    return ClinicalVariables(
        **{name: parse_value(_FIELDS_BY_NAME[name], raw) for name, raw in values.items()}
    )


def parse_value(
    spec: ClinicalField, raw: Value | None, decimal_separator: str = "."
) -> Value | None:
    """One value of ``spec`` from text or a number; None when missing (see
    :func:`parse_clinical`). Text typed by a person may use ``decimal_separator``, their
    locale's (``18,6`` where it is a comma), as well as a point."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, float) and math.isnan(raw):
        return None

    def refuse(problem: str) -> InputError:
        shown = repr(raw) if len(repr(raw)) <= 40 else repr(raw)[:36] + "...'"
        return InputError(
            f"{shown} {problem} for {spec.label}; allowed: {spec.allowed()}", spec.name
        )

    if spec.kind == "choice":
        choice = _match_choice(spec, raw)
        if choice is None:
            raise refuse("is not one of the choices")
        return choice
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise refuse(f"is a {type(raw).__name__}, not a number")
    text = raw.strip() if isinstance(raw, str) else raw
    if isinstance(text, str) and decimal_separator not in (".", "") and "." not in text:
        text = text.replace(decimal_separator, ".", 1)
    try:
        number = _to_float(text)
    except (ValueError, OverflowError):
        raise refuse("is not a number") from None
    if not math.isfinite(number):
        raise refuse("is not a finite number")
    if spec.kind == "integer":
        if not number.is_integer():
            raise refuse("is not a whole number")
        number = int(number)
    if not spec.minimum <= number <= spec.maximum:
        raise refuse("is out of range")
    return number


def format_value(spec: ClinicalField, value: Value | None) -> str:
    """``value`` as CSV/form text that :func:`parse_value` reads back to the same value."""
    if value is None:
        return ""
    if spec.kind == "number":
        return _format(value)
    return str(value)


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


def _match_choice(spec: ClinicalField, raw: Value) -> str | int | None:
    if isinstance(raw, str):
        text = raw.strip().lower()
        for choice, label in zip(spec.choices, spec.choice_labels, strict=True):
            if text in (str(choice).lower(), label.lower()):
                return choice
            if isinstance(choice, int) and _is_number(text) and float(text) == choice:
                return choice
        return None
    if isinstance(raw, int | float):  # bool included: True is 1 for a no/yes field
        for choice in spec.choices:
            if isinstance(choice, int) and raw == choice:
                return choice
    return None


def _is_number(text: str) -> bool:
    try:
        _to_float(text)
    except (ValueError, OverflowError):
        return False
    return True


# A decimal number as people write it: Python's float() also takes "1_000", "0x..." is int's.
_NUMBER_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _to_float(raw: float | int | str) -> float:
    """A number from a number or from decimal text; ValueError for other text ("1_000",
    "nan", "½") and OverflowError for an integer beyond float range."""
    if isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER_TEXT.match(text):
            raise ValueError(f"not decimal text: {text!r}")
        return float(text)
    return float(raw)


def _format(value: float | int | None) -> str:
    """Shortest text that reads back to the same number: 12.8, 5, 1e+06 -> 1000000."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))
