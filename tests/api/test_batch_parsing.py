"""The pure batch parser: JSON and CSV batches → applications, or errors naming the line, column or field."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from workbench.api import batch_parsing
from workbench.api.batch_parsing import BatchError, check_size, decode_csv, parse_csv_batch, parse_json_batch

from tests.api.conftest import ROW

HEADER = "Loan_ID,Gender,Married,Dependents,Education,Self_Employed,ApplicantIncome,CoapplicantIncome,LoanAmount,Loan_Amount_Term,Credit_History,Property_Area"
LINE = "LP1,Male,Yes,0,Graduate,No,5849,0,128,360,1,Urban"


def errors_of(call, *args) -> list[dict]:
    with pytest.raises(BatchError) as caught:
        call(*args)
    return caught.value.errors


def test_the_module_imports_neither_fastapi_nor_starlette() -> None:
    tree = ast.parse(Path(batch_parsing.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"fastapi", "starlette"}


def test_json_batch_gives_validated_applications() -> None:
    applications = parse_json_batch(json.dumps([ROW, {**ROW, "Loan_ID": "LP2", "Dependents": 3}]).encode(), 10)
    assert [a.Loan_ID for a in applications] == [None, "LP2"]
    assert applications[1].Dependents == "3+"
    assert applications[0].features() == {**ROW, "ApplicantIncome": 5849.0, "CoapplicantIncome": 0.0,
                                          "LoanAmount": 128.0, "Loan_Amount_Term": 360.0}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "loc", "kind"),
    [
        (json.dumps([ROW, {**ROW, "Gender": "X"}]), ["body", 1, "Gender"], "literal_error"),
        (json.dumps([{k: v for k, v in ROW.items() if k != "Education"}]), ["body", 0, "Education"], "missing"),
        (json.dumps([{**ROW, "ApplicantIncome": float("nan")}]), ["body", 0, "ApplicantIncome"], "finite_number"),
        (json.dumps([{**ROW, "Color": "red"}]), ["body", 0, "Color"], "extra_forbidden"),
        ("{not json", ["body"], "json_invalid"),
        (json.dumps(ROW), ["body"], "list_type"),
    ],
)
def test_json_errors_name_the_item_and_field(body: str, loc: list, kind: str) -> None:
    errors = errors_of(parse_json_batch, body.encode(), 10)
    assert errors[0]["loc"] == loc
    assert errors[0]["type"] == kind


@pytest.mark.parametrize(("count", "kind"), [(0, "too_short"), (3, "too_long")])
def test_json_batch_size_is_bounded(count: int, kind: str) -> None:
    errors = errors_of(parse_json_batch, json.dumps([ROW] * count).encode(), 2)
    assert [(e["loc"], e["type"]) for e in errors] == [(["body"], kind)]
    assert ("at most 2 applications per batch, got 3" if count else "the batch is empty") == errors[0]["msg"]


def test_csv_batch_reads_french_excel() -> None:
    text = HEADER.replace(",", ";") + "\n" + LINE.replace(",", ";").replace("5849", "5849,5") + "\n"
    (application,) = parse_csv_batch(text, 10)
    assert application.Loan_ID == "LP1"
    assert application.ApplicantIncome == 5849.5
    assert application.Credit_History == 1


def test_csv_row_errors_name_the_spreadsheet_line_and_column() -> None:
    text = f"{HEADER}\n{LINE}\n{LINE.replace('Urban', 'Moon')}\n"
    errors = errors_of(parse_csv_batch, text, 10)
    assert [e["loc"] for e in errors] == [["body", "line 3", "Property_Area"]]


def test_csv_column_errors_name_the_columns() -> None:
    text = HEADER.replace("Gender", "Genre") + "\n" + LINE + "\n"
    errors = errors_of(parse_csv_batch, text, 10)
    assert {(tuple(e["loc"]), e["type"]) for e in errors} == {
        (("body", "Gender"), "missing"),
        (("body", "Genre"), "extra_forbidden"),
    }


def test_csv_without_any_expected_column_says_what_it_found() -> None:
    (error,) = errors_of(parse_csv_batch, "a,b\n1,2\n", 10)
    assert error["type"] == "csv_columns"
    assert "a, b" in error["msg"]


def test_csv_too_many_rows_and_empty() -> None:
    (error,) = errors_of(parse_csv_batch, "\n".join([HEADER, LINE, LINE, LINE]), 2)
    assert error["msg"] == "at most 2 rows per batch, got 3"
    (error,) = errors_of(parse_csv_batch, HEADER + "\n", 2)
    assert error["type"] == "too_short"


def test_csv_must_be_utf8() -> None:
    assert decode_csv("\ufeffé".encode()) == "é"
    (error,) = errors_of(decode_csv, "é".encode("latin-1"))
    assert (error["loc"], error["type"]) == (["body"], "encoding")


def test_check_size_accepts_the_bounds() -> None:
    check_size(1, 1)
    assert str(errors_of(check_size, 2, 1)[0]["msg"]) == "at most 1 applications per batch, got 2"
