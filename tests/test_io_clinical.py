"""Clinical variables: parsing every field kind, and clinical.csv written and read back."""

from __future__ import annotations

import dataclasses
import math

import pytest

from dsaviewer.errors import InputError
from dsaviewer.io.clinical import (
    CLINICAL_CSV_COLUMNS,
    CLINICAL_FIELDS,
    RESPONSE_FIELD,
    ClinicalRow,
    ClinicalVariables,
    parse_clinical,
    parse_value,
    read_clinical_csv,
    write_clinical_csv,
)

DESIGN_HEADER = "case_id,age,sex,hbv,afp,pt,child_pugh,ascites,tbil,alb,ast,alt,crp,bclc,response"

TYPICAL = {
    "age": "61",
    "sex": "F",
    "hbv": "1",
    "afp": "1520.5",
    "pt": "12.8",
    "child_pugh": "6",
    "ascites": "0",
    "tbil": "18.6",
    "alb": "40.7",
    "ast": "52",
    "alt": "38",
    "crp": "3.1",
    "bclc": "B",
}


def test_fields_csv_header_and_dataclass_agree_with_design():
    assert ",".join(CLINICAL_CSV_COLUMNS) == DESIGN_HEADER
    assert [spec.name for spec in CLINICAL_FIELDS] == [
        field.name for field in dataclasses.fields(ClinicalVariables)
    ]
    for spec in CLINICAL_FIELDS:
        assert spec.kind in ("number", "integer", "choice")
        if spec.kind == "choice":
            assert len(spec.choices) == len(spec.choice_labels) >= 2
        else:
            assert spec.minimum < spec.maximum and spec.unit


def test_parse_typical_values_of_every_kind():
    variables = parse_clinical(TYPICAL)
    assert variables == ClinicalVariables(
        age=61,
        sex="F",
        hbv=1,
        afp=1520.5,
        pt=12.8,
        child_pugh=6,
        ascites=0,
        tbil=18.6,
        alb=40.7,
        ast=52.0,
        alt=38.0,
        crp=3.1,
        bclc="B",
    )
    assert variables.missing() == []
    assert isinstance(variables.age, int) and isinstance(variables.child_pugh, int)
    assert isinstance(variables.ast, float)


def test_parse_accepts_numbers_labels_any_case_and_whole_floats():
    variables = parse_clinical(
        {
            "age": 70.0,
            "sex": " male ",
            "hbv": "Yes",
            "ascites": True,
            "bclc": "a",
            "pt": 11,
            "child_pugh": "5.0",
            "afp": "1e3",
        }
    )
    assert (variables.age, variables.sex, variables.hbv, variables.ascites) == (70, "M", 1, 1)
    assert (variables.bclc, variables.pt, variables.child_pugh, variables.afp) == (
        "A",
        11.0,
        5,
        1000.0,
    )


def test_blank_none_nan_and_absent_are_missing():
    variables = parse_clinical({"age": "", "sex": "  ", "afp": None, "pt": math.nan, "alb": "40"})
    assert variables.missing() == [spec.name for spec in CLINICAL_FIELDS if spec.name != "alb"]
    assert parse_clinical({}).missing() == [spec.name for spec in CLINICAL_FIELDS]


def invalid_values(spec):
    """Wrong values for a field, derived from its own spec so every field is covered."""
    if spec.kind == "choice":
        return ["X", "maybe", 2, 0.5, [1]]
    wrong = ["abc", "12,8", "inf", "nan", True, spec.minimum - 1, spec.maximum + 1, [1]]
    if spec.kind == "integer":
        wrong += [spec.minimum + 0.5, f"{spec.minimum}.5"]
    return wrong


@pytest.mark.parametrize(
    ("spec", "raw"),
    [(spec, raw) for spec in CLINICAL_FIELDS for raw in invalid_values(spec)],
    ids=lambda item: getattr(item, "name", repr(item)),
)
def test_invalid_values_name_field_value_and_allowed_range(spec, raw):
    with pytest.raises(InputError) as caught:
        parse_clinical({spec.name: raw})
    message = str(caught.value)
    assert caught.value.source == spec.name
    assert spec.name in message and repr(raw) in message
    assert spec.allowed() in message
    if spec.kind == "choice":
        assert all(str(choice) in message for choice in spec.choices)
    else:
        assert f"{spec.minimum:.0f}" in message and f"{spec.maximum:.0f}" in message


@pytest.mark.parametrize("spec", [s for s in CLINICAL_FIELDS if s.kind != "choice"], ids=str)
def test_range_limits_are_inclusive(spec):
    assert parse_value(spec, spec.minimum) == spec.minimum
    assert parse_value(spec, str(spec.maximum)) == spec.maximum


def test_unknown_variable_is_refused():
    with pytest.raises(InputError, match="'weight'"):
        parse_clinical({"age": "50", "weight": "70"})


# --- clinical.csv ------------------------------------------------------------------------------


def rows() -> dict[str, ClinicalRow]:
    return {
        "case_001": ClinicalRow(parse_clinical(TYPICAL), response=1),
        "case 002": ClinicalRow(parse_clinical({"age": "48", "sex": "M", "afp": "0.7"}), 0),
        "case,003": ClinicalRow(ClinicalVariables(), None),
    }


def test_csv_round_trip(tmp_path):
    path = write_clinical_csv(tmp_path / "clinical.csv", rows())
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == DESIGN_HEADER
    assert text.splitlines()[1] == "case_001,61,F,1,1520.5,12.8,6,0,18.6,40.7,52,38,3.1,B,1"
    assert text.splitlines()[3] == '"case,003",,,,,,,,,,,,,,'
    table = read_clinical_csv(path)
    assert table == rows()
    assert list(table) == list(rows())
    assert table.unknown_columns == () and table.missing_columns == ()
    assert [p.name for p in tmp_path.iterdir()] == ["clinical.csv"]


def test_csv_from_a_spreadsheet_export(tmp_path):
    path = tmp_path / "clinical.csv"
    rest = "hbv,pt,child_pugh,ascites,tbil,alb,ast,alt,crp"
    content = (
        f"\ufeff Case_ID ,AGE,Sex,bclc,ward,afp,{rest}\r\np1,70,f,A,3B,12{',' * 9}\r\n\r\n"
        f"p2,55,M,,,{',' * 9}\r\n"
    )
    path.write_bytes(content.encode("utf-8"))
    table = read_clinical_csv(path)
    assert table.unknown_columns == ("ward",)
    assert table.missing_columns == ("response",)
    assert table["p1"] == ClinicalRow(ClinicalVariables(age=70, sex="F", bclc="A", afp=12.0), None)
    assert table["p2"] == ClinicalRow(ClinicalVariables(age=55, sex="M"), None)
    assert path.read_bytes() == content.encode("utf-8")  # never written to


def with_all_columns(content: str) -> str:
    """``content`` with the clinical columns its header lacks appended, empty on every row;
    a header without case_id or with a repeated column is left as written."""
    lines = content.splitlines()
    header = lines[0].split(",") if lines else []
    if "case_id" not in header or len(set(header)) < len(header):
        return content
    extra = [name for name in CLINICAL_CSV_COLUMNS if name not in header]
    completed = [",".join(header + extra)] + [line + "," * len(extra) for line in lines[1:]]
    return "\n".join(completed) + "\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("age,sex\n50,M\n", "no 'case_id'"),
        ("case_id,age,Age\nc1,50,50\n", "repeats column"),
        ("case_id,age\nc1,50\nc1,60\n", "line 3: case 'c1' is already on line 2"),
        ("case_id,age\n,50\n", "line 2: the case_id is empty"),
        ("case_id,age\nc1,50,extra\n", "line 2 has 16 cells, the header 15"),
        ("case_id,age\nc1,50\nc2,500\n", r"line 3 \(case c2\): age: '500' is out of range"),
        ("case_id,sex\nc1,X\n", r"line 2 \(case c1\): sex: 'X'"),
        ("case_id,child_pugh\nc1,5.5\n", r"child_pugh: '5.5' is not a whole number"),
        ("case_id,tbil\nc1,high\n", r"tbil: 'high' is not a number"),
        ("case_id,response\nc1,2\n", r"response: '2' is not one of the choices"),
    ],
)
def test_bad_csv_raises_input_error_naming_line_case_and_field(tmp_path, content, message):
    path = tmp_path / "clinical.csv"
    path.write_text(with_all_columns(content), encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        read_clinical_csv(path)
    assert caught.value.source == str(path)


def test_unreadable_csv_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        read_clinical_csv(tmp_path / "absent.csv")
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("case_id,age\nJosé,50\n".encode("latin-1"))
    with pytest.raises(InputError, match="cannot read"):
        read_clinical_csv(latin)


@pytest.mark.parametrize(
    ("case_id", "variables", "response"),
    [
        ("", ClinicalVariables(), None),
        (" c1", ClinicalVariables(), None),
        ("c1", ClinicalVariables(), 2),
        ("c1", ClinicalVariables(), "1"),
        ("c1", ClinicalVariables(age=500), None),
        ("c1", ClinicalVariables(sex="male"), None),
    ],
)
def test_writer_refuses_bad_rows_and_keeps_the_old_file(tmp_path, case_id, variables, response):
    path = write_clinical_csv(tmp_path / "clinical.csv", rows())
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_clinical_csv(path, {case_id: ClinicalRow(variables, response)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["clinical.csv"]


def test_response_field_is_a_binary_choice():
    assert parse_value(RESPONSE_FIELD, "responder") == 1
    assert parse_value(RESPONSE_FIELD, "0") == 0
    assert parse_value(RESPONSE_FIELD, "") is None
