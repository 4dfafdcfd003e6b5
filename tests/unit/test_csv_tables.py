"""CSV files of applications: French Excel files read right, NUL bytes refused, downloads without formulas."""

from __future__ import annotations

import pandas as pd
import pytest
from workbench.core.csv_tables import CsvError, escape_formulas, read_applications_csv, sniff_delimiter, to_csv_bytes


@pytest.mark.parametrize(
    "text, delimiter",
    [("a,b,c\n1,2,3\n", ","), ("a;b;c\n1,5;2;3\n", ";"), ("a\tb\tc\n1\t2\t3\n", "\t"), ("Loan_ID\nLP1\n", ",")],
)
def test_sniff_delimiter(text, delimiter) -> None:
    assert sniff_delimiter(text) == delimiter


def test_french_excel_numbers() -> None:
    table = read_applications_csv("Loan_ID;ApplicantIncome;LoanAmount;Gender\nLP1;5 849;128,5;Male\nLP2;4000;;\n")
    assert (table.delimiter, table.decimal_comma) == (";", True)
    assert table.frame.to_dict("records") == [
        {"Loan_ID": "LP1", "ApplicantIncome": "5849", "LoanAmount": "128.5", "Gender": "Male"},
        {"Loan_ID": "LP2", "ApplicantIncome": "4000", "LoanAmount": None, "Gender": None},
    ]


def test_comma_files_keep_their_cells() -> None:
    table = read_applications_csv("Loan_ID,LoanAmount\n LP1 , 128.5\nLP2,\n")
    assert table.frame.to_dict("records") == [
        {"Loan_ID": "LP1 ", "LoanAmount": "128.5"},
        {"Loan_ID": "LP2", "LoanAmount": None},
    ]


def test_a_nul_byte_is_refused_with_its_line() -> None:
    with pytest.raises(CsvError) as info:
        read_applications_csv("Loan_ID,Gender\nLP1,Male\nLP2,Fe\x00male\n")
    assert info.value.kind == "nul" and "line 3" in str(info.value)


def test_formulas_are_escaped_on_export() -> None:
    frame = pd.DataFrame(
        {
            "Loan_ID": ['=HYPERLINK("http://x")', "+cmd", "-2+3", "@SUM(A1)", "\tx", "LP1", "-5"],
            "probability": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
        }
    )
    escaped = escape_formulas(frame)
    assert escaped["Loan_ID"].tolist() == [
        '\'=HYPERLINK("http://x")',
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "LP1",
        "-5",
    ]
    assert escaped["probability"].tolist() == frame["probability"].tolist()
    assert b"'=HYPERLINK" in to_csv_bytes(frame) and frame["Loan_ID"][0].startswith("=")  # the original is untouched
