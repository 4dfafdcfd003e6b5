"""Predictions of the installed package, with the model it ships."""

from importlib import metadata

import pytest
from loan_model import config, make_prediction, predict_probability
from loan_model.predict import model_info

APPLICANT = {"Credit_History": 1, "ApplicantIncome": 5849, "LoanAmount": 128}


def test_prediction_is_y_or_n():
    result = make_prediction([APPLICANT])
    assert result[0] in {"Y", "N"}


def test_negative_amount_is_rejected():
    with pytest.raises(ValueError):
        make_prediction([{**APPLICANT, "LoanAmount": -5}])


def test_credit_history_drives_the_decision():
    good, bad = predict_probability([APPLICANT, {**APPLICANT, "Credit_History": 0}])
    assert 0 <= bad < 0.5 <= good <= 1


def test_one_answer_per_application():
    assert len(make_prediction([APPLICANT] * 3)) == 3


def test_the_model_file_ships_inside_the_package():
    assert config.MODEL_PATH.is_file()
    assert config.MODEL_PATH.parent.parent == config.PACKAGE_ROOT


def test_model_was_trained_with_the_installed_scikit_learn():
    trained = model_info()["versions"]["scikit-learn"]
    installed = metadata.version("scikit-learn")
    assert trained.split(".")[:2] == installed.split(".")[:2], "retrain with scripts/train_model.py"
