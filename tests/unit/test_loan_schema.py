"""The loan schema exists once (core/loan_schema.py): the CSV validator, the API and the security chapter's
input checks agree on every value, and the example package's own copy agrees with it."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest
from pydantic import ValidationError
from workbench.core.data import ID, validate_loan_frame
from workbench.core.loan_schema import CATEGORIES, FEATURES, LOAN_SCHEMA, NULLABLE, Interval

from tests.conftest import REPO_ROOT

VALID = {
    "Gender": "Male",
    "Married": "Yes",
    "Dependents": "0",
    "Education": "Graduate",
    "Self_Employed": "No",
    "ApplicantIncome": 5849.0,
    "CoapplicantIncome": 0.0,
    "LoanAmount": 128.0,
    "Loan_Amount_Term": 360.0,
    "Credit_History": 1.0,
    "Property_Area": "Urban",
}


def _probes(name: str) -> list[object]:
    """Values around every edge of a column: each category and near-misses, each bound and its neighbours."""
    column = LOAN_SCHEMA[name]
    if column.kind == "category":
        return [*column.categories, "x", column.categories[0].lower(), column.categories[0].upper()]
    low, high = column.interval.low, column.interval.high
    return [low - 1, low - 0.5, low, low + 0.5, low + 1, (low + high) / 2, high - 0.5, high, high + 0.5, high + 1]


def _csv_accepts(name: str, value: object) -> bool:
    row = {ID: "LP1", **{k: str(v) for k, v in VALID.items()}, name: str(value)}
    result = validate_loan_frame(pd.DataFrame([row], dtype=str))
    return not any(p.column == name for p in result.errors)


def _api_accepts(name: str, value: object) -> bool:
    from workbench.api.schemas import LoanApplication

    try:
        LoanApplication.model_validate({**VALID, name: value})
    except ValidationError:
        return False
    return True


def _security_accepts(name: str, value: object) -> bool:
    from workbench.chapters.ch11_post_production.security import application_problems

    return application_problems({**VALID, name: value}) == []


def _package():
    path = REPO_ROOT / "examples" / "loan_model_package" / "src" / "loan_model" / "processing.py"
    spec = importlib.util.spec_from_file_location("example_loan_model_processing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package_accepts(package, name: str, value: object) -> bool:
    try:
        package.validate_records([{**VALID, name: value}])
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", FEATURES)
def test_the_three_validators_accept_and_refuse_the_same_values(name) -> None:
    verdicts = {
        repr(value): (_csv_accepts(name, value), _api_accepts(name, value), _security_accepts(name, value))
        for value in _probes(name)
    }
    disagree = {value: v for value, v in verdicts.items() if len(set(v)) > 1}
    assert disagree == {}, "(csv, api, security)"
    assert any(all(v) for v in verdicts.values()) and any(not any(v) for v in verdicts.values())


def test_the_api_requires_exactly_the_columns_the_data_never_misses() -> None:
    from workbench.api.schemas import LoanApplication

    required = {name for name, field in LoanApplication.model_fields.items() if field.is_required()}
    assert required == set(FEATURES) - set(NULLABLE)


def test_the_example_package_keeps_a_copy_that_agrees() -> None:
    """The package ships on its own (no import of the workbench); its copy must say what the schema says."""
    package = _package()
    assert package.CATEGORIES == CATEGORIES
    assert set(package.FEATURES) == set(FEATURES)
    disagree = [
        (name, value)
        for name in package.RANGES
        for value in _probes(name)
        if _package_accepts(package, name, value) != (LOAN_SCHEMA[name].problems(value) == [])
    ]
    assert disagree == []


def test_an_interval_is_written_the_language_s_way() -> None:
    assert Interval(0, 1_000_000).message("fr") == "[0 ; 1\u202f000\u202f000]"
    assert Interval(0, 600, low_open=True).message("fr") == "]0 ; 600]"
    assert Interval(0, 600, low_open=True).message("en") == "(0, 600]"
    assert Interval(0, 600, low_open=True).whole_range() == (1, 600) and Interval(0, 1).whole_range() == (0, 1)


def test_every_column_says_what_it_accepts() -> None:
    for column in LOAN_SCHEMA.values():
        assert (column.kind == "category") == bool(column.categories) == (column.interval is None), column.name
        assert all(alias not in column.categories and value in column.categories for alias, value in column.aliases)
