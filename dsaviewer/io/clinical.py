"""The DSA-Net clinical variables (DESIGN.md, DSA-Net Table 1) and the case folders'
``clinical.csv``.

:data:`CLINICAL_FIELDS` describes every variable once (name, label, unit, kind, plausible range
or choices, help); the GUI form, :func:`parse_clinical` and the CSV reader and writer all use
it. Values are checked against a *plausible* range, wide enough for any real patient and
narrow enough to catch a wrong unit or a typing slip (AFP in µg/L is the same number, but
bilirubin in mg/dL is 17 times smaller than in µmol/L and albumin in g/dL 10 times smaller
than in g/L).

Missing values are None everywhere: an empty CSV cell, an empty form field.

Reading and writing ``clinical.csv`` live in :mod:`dsaviewer.io.clinical_csv`; their two
functions are offered here too (``read_clinical_csv``, ``write_clinical_csv``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dsaviewer.errors import InputError

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


def __getattr__(name: str) -> object:
    # The CSV reader and writer use this module's definitions, so they live in their own
    # module and are found from here on first use (no import cycle).
    if name in ("read_clinical_csv", "write_clinical_csv"):
        from dsaviewer.io import clinical_csv

        return getattr(clinical_csv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
