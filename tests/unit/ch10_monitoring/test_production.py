"""Capstone, chapter X: the drift report on the supplied production batch and the learner's decision."""

from __future__ import annotations

import hashlib

import pytest
from workbench.chapters.ch10_monitoring import production
from workbench.core.data import FEATURES, TARGET, load_course_data
from workbench.core.exercises import CheckContext, load_exercises, run_check
from workbench.core.records import records_for
from workbench.core.settings import get_settings

LEARNER = "test-learner"
DRIFTED = ["ApplicantIncome", "Property_Area"]


def _check(lang: str = "en"):
    exercise = next(h for h in load_exercises("capstone").hands_on if h.id == "capstone-production-drift")
    return run_check(exercise, CheckContext(LEARNER, lang, get_settings()))


def test_the_supplied_batch_is_fixed_unlabelled_and_really_shifted() -> None:
    batch = production.production_batch()
    assert len(batch) == production.PRODUCTION_ROWS and TARGET not in batch
    assert set(FEATURES) <= set(batch.columns)
    assert production.production_sha256() == hashlib.sha256(production.production_csv()).hexdigest()
    production._batch_csv.cache_clear()  # generated again: the same bytes
    assert production.production_sha256() == hashlib.sha256(production.production_csv()).hexdigest()
    reference = load_course_data(get_settings().data_path)
    assert production.drifted_features(reference) == DRIFTED
    assert batch["ApplicantIncome"].mean() > reference["ApplicantIncome"].mean() * 1.2
    assert (batch["Property_Area"] == "Rural").mean() > (reference["Property_Area"] == "Rural").mean() + 0.2


def test_the_check_fails_before_the_work_and_on_wrong_decisions_and_passes_on_the_data_s_answer() -> None:
    settings = get_settings()
    before = _check()
    assert not before.passed and "Run the drift report" in before.missing[0]
    stale = {"data_sha256": "0" * 64, "decision": "retrain", "features": DRIFTED}
    records_for(settings, LEARNER).put_json(production.RECORD_KEY, stale)
    other = _check()
    assert not other.passed and "not computed on the current supplied batch" in other.missing[0]
    production.save_report(settings, LEARNER, DRIFTED)
    undecided = _check()
    assert not undecided.passed and "Save your decision" in undecided.missing[0]
    cases = {
        ("keep", ()): "drifted in this batch",
        ("keep", tuple(DRIFTED)): "drifted in this batch",
        ("retrain", ("Credit_History", *DRIFTED)): "did not drift in this batch: Credit_History",
        ("investigate", ("ApplicantIncome",)): "1 feature that drifted is missing",
        ("retrain", ()): "2 features that drifted are missing",
    }
    for (decision, features), message in cases.items():
        production.save_decision(settings, LEARNER, decision, list(features))
        result = _check()
        assert not result.passed and message in result.missing[0], (decision, features, result)
    for decision in ("retrain", "investigate"):
        production.save_decision(settings, LEARNER, decision, DRIFTED)
        result = _check("fr")
        assert result.passed, result
        assert "ApplicantIncome, Property_Area" in result.detail
    production.save_report(settings, LEARNER, DRIFTED)  # a new report clears the decision taken on the old one
    assert not _check().passed


def test_unknown_decisions_and_features_are_refused() -> None:
    with pytest.raises(ValueError):
        production.save_decision(get_settings(), LEARNER, "panic", [])
    with pytest.raises(ValueError):
        production.save_decision(get_settings(), LEARNER, "retrain", ["Loan_Status"])


def test_evidently_configured_with_the_chapter_s_tests_finds_the_same_features() -> None:
    result = production.run_report(load_course_data(get_settings().data_path))
    assert sorted(result.table.loc[result.table["drift"], "column"]) == DRIFTED
    assert "<html" in result.html.lower()
