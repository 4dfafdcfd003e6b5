"""Validation of incoming applications."""

import math

import pytest
from loan_model.processing import FEATURES, validate_records

VALID = {"Credit_History": 1, "ApplicantIncome": 5849, "LoanAmount": 128, "Property_Area": "Urban"}


def test_missing_fields_are_filled_for_imputation():
    frame = validate_records([VALID])
    assert list(frame.columns) == list(FEATURES)
    assert frame.loc[0, "ApplicantIncome"] == 5849.0
    assert math.isnan(frame.loc[0, "Loan_Amount_Term"])
    assert frame.loc[0, "Gender"] is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"ApplicantIncome": "five thousand"}, "must be a number"),
        ({"LoanAmount": -5}, "outside"),
        ({"Credit_History": 2}, "outside"),
        ({"Property_Area": "Downtown"}, "is not one of"),
    ],
)
def test_bad_values_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        validate_records([{**VALID, **change}])


def test_no_application_is_an_error():
    with pytest.raises(ValueError, match="no application"):
        validate_records([])
