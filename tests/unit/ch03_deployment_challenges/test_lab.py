"""Chapter III core: batch vs per-row timing, robustness outcomes, the feedback-loop simulation, checks."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest
from workbench.chapters.ch03_deployment_challenges import lab as ch
from workbench.chapters.ch03_deployment_challenges.lifecycle import load_stages
from workbench.core.data import generate_loan_data, split_features_target
from workbench.core.exercises import CheckContext
from workbench.core.modeling import build_pipeline
from workbench.core.records import records_for
from workbench.core.settings import get_settings


@pytest.fixture(scope="module")
def pipeline():
    X, y = split_features_target(generate_loan_data(200, seed=5))
    return build_pipeline("logistic_regression").fit(X, y)


@pytest.fixture(scope="module")
def sim() -> ch.FeedbackSimulation:
    return ch.simulate_feedback()


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext("ana", lang, get_settings())


def test_stage_outputs_has_one_row_per_stage() -> None:
    stages = load_stages()
    table = ch.stage_outputs(stages, "fr")
    assert list(table.columns) == ["Étape", "Produit", "Ce qui casse en production"]
    assert len(table) == len(stages) and table.iloc[0, 0] == "1. Problème métier"
    assert "Énoncé du problème" in table.iloc[0, 1]
    # chapter III looks at each stage from production: its words are not chapter I's challenges again
    for row, stage in zip(table.itertuples(index=False), stages):
        assert row[2] and not set(stage.challenges["fr"]) & set(row[2].split("; "))


def test_compare_serving_with_plain_callables() -> None:
    frame = pd.DataFrame({"x": np.arange(50.0)})
    result = ch.compare_serving(frame, lambda f: f["x"].to_numpy() / 100, lambda r: r["x"] / 100, mode="fake")
    assert (result.mode, result.n, result.single_rows, result.same) == ("fake", 50, 50, True)
    assert not result.extrapolated and result.single_seconds_for_n == pytest.approx(result.single_seconds)
    assert result.batch_rows_per_s > 0 and result.ratio > 0

    wrong = ch.compare_serving(frame, lambda f: f["x"].to_numpy() / 100, lambda r: 0.0)
    assert not wrong.same and wrong.max_abs_diff == pytest.approx(0.49)


def test_time_budget_stops_row_by_row_and_extrapolates() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0)})
    seen = []
    result = ch.compare_serving(
        frame,
        lambda f: f["x"].to_numpy(),
        lambda r: r["x"],
        time_budget=0.0,
        progress=lambda done, n: seen.append(done),
    )
    assert result.single_rows == 1 and result.extrapolated and result.same
    assert result.single_seconds_for_n == pytest.approx(200 * result.single_seconds)


def test_in_process_batch_and_single_predictions_agree(pipeline) -> None:
    predict_many, predict_one = ch.in_process_predictors(pipeline)
    rows = ch.serving_rows(60)
    assert len(rows) == 60 and list(rows.columns)[0] == "Gender"
    seen = []
    result = ch.compare_serving(rows, predict_many, predict_one, progress=lambda done, n: seen.append((done, n)))
    assert result.same and result.single_rows == 60 and result.ratio > 1
    assert seen[-1] == (60, 60)
    with pytest.raises(ValueError):
        ch.serving_rows(ch.MAX_ROWS + 1)


def test_serving_code_is_valid_python() -> None:
    compile(ch.serving_code(500), "serving.py", "exec")
    assert "predict_proba(X)" in ch.serving_code(500) and ".sample(500" in ch.serving_code(500)


def test_naive_record_keeps_what_does_not_parse() -> None:
    record = ch.naive_record({**ch.default_application(), "ApplicantIncome": "five thousand", "LoanAmount": " "})
    assert record["ApplicantIncome"] == "five thousand" and record["LoanAmount"] is None
    assert record["Credit_History"] == 1.0 and record["Property_Area"] == "Urban"


@pytest.mark.parametrize(
    "preset, raw_accepted, validated_accepted, message",
    [
        ("valid", True, True, None),
        ("income_text", False, False, "must be numeric"),
        ("negative_loan", True, False, "outside the expected range"),
        ("unknown_area", True, False, "unknown value: 'Downtown'"),
        ("credit_two", True, False, "Credit_History"),
        ("huge_income", True, False, "ApplicantIncome"),
        ("missing_income", True, True, "missing value"),
    ],
)
def test_raw_model_vs_validation(pipeline, preset, raw_accepted, validated_accepted, message) -> None:
    form = ch.apply_preset(preset)
    raw = ch.raw_model_outcome(pipeline, form)
    checked = ch.validated_outcome(pipeline, form, "en")
    assert raw.accepted is raw_accepted and checked.accepted is validated_accepted
    if raw.accepted:
        assert raw.prediction in {"Y", "N"} and 0 <= raw.probability <= 1
    else:
        assert raw.error.startswith("ValueError") and "five thousand" in raw.error
    if message:
        assert any(message in m for m in checked.messages)
    else:
        assert checked.messages == ()


def test_robustness_code_validates_before_predicting(pipeline) -> None:
    good = {**ch.naive_record(ch.default_application()), "Credit_History": 1}
    for payload, expected in ((good, "probability"), ({**good, "LoanAmount": -5}, "ValidationError")):
        out = io.StringIO()
        namespace = {"payload": payload, "pipeline": pipeline}
        with contextlib.redirect_stdout(out):
            exec(ch.robustness_code(), namespace)
        if expected == "probability":
            assert 0 <= namespace["probability"] <= 1
        else:
            assert "greater than or equal to 1" in out.getvalue() and "probability" not in namespace


def test_check_silent_failure(pipeline) -> None:
    settings = get_settings()
    assert "No trial yet" in ch.check_silent_failure(_ctx()).missing[0]
    for preset in ("valid", "income_text"):
        form = ch.apply_preset(preset)
        ch.record_trial(
            settings, "ana", form, ch.raw_model_outcome(pipeline, form), ch.validated_outcome(pipeline, form, "en")
        )
    result = ch.check_silent_failure(_ctx("fr"))
    assert not result.passed and "2 essais" in result.missing[0]
    # a ready-made case shows the danger, but picking it is not finding one (spacing or "2.0" changes nothing)
    for form in (
        ch.apply_preset("negative_loan"),
        {**ch.apply_preset("credit_two"), "Credit_History": " 2.0 ", "Gender": "Female"},
    ):
        ch.record_trial(
            settings, "ana", form, ch.raw_model_outcome(pipeline, form), ch.validated_outcome(pipeline, form, "en")
        )
        result = ch.check_silent_failure(_ctx())
        assert not result.passed and "ready-made case" in result.missing[0]
    form = {**ch.default_application(), "LoanAmount": "-45"}  # the learner's own absurd value
    ch.record_trial(
        settings, "ana", form, ch.raw_model_outcome(pipeline, form), ch.validated_outcome(pipeline, form, "en")
    )
    result = ch.check_silent_failure(_ctx())
    assert result.passed and result.evidence["fields"] == {"LoanAmount": "-45"}
    assert "LoanAmount='-45'" in result.detail
    assert records_for(settings, "ana").keys() == [ch.ROBUSTNESS_KEY]


def test_simulation_is_deterministic_and_declines_below_the_baseline(sim) -> None:
    again = ch.simulate_feedback()
    np.testing.assert_array_equal(sim.accuracy, again.accuracy)
    assert not np.array_equal(sim.accuracy, ch.simulate_feedback(seed=8).accuracy)
    assert len(sim.weeks) == 30 and sim.drift[: sim.drift_start].max() == 0 and sim.drift[-1] == 1
    assert 0.66 < sim.approval_rate.mean() < 0.72  # the share of approvals stays about the same
    assert (sim.accuracy[: sim.drift_start] > sim.baseline[: sim.drift_start] + 0.05).all()
    assert sim.accuracy[-5:].mean() < sim.baseline[-5:].mean()


def test_fixed_threshold_fires_only_once_the_model_is_useless(sim) -> None:
    verdict = ch.evaluate_threshold(sim, 0.0)
    assert verdict.below_week is not None and verdict.fixed_week is not None
    # when 68 % fires, the model is below that week's ~69 % baseline or less than a point above it
    assert verdict.fixed_week >= verdict.below_week or verdict.edge_at_fixed < ch.USELESS_EDGE
    assert verdict.fixed_too_late
    assert (
        ch.evaluate_threshold(sim, 0.04).trigger_week < verdict.fixed_week - 2
    )  # a relative margin warns weeks earlier


@pytest.mark.parametrize(
    "margin, ok, too_early, too_late",
    [(0.0, False, False, True), (0.04, True, False, False), (0.15, False, True, False), (-0.2, False, False, True)],
)
def test_baseline_relative_threshold_verdicts(sim, margin, ok, too_early, too_late) -> None:
    verdict = ch.evaluate_threshold(sim, margin)
    assert (verdict.ok, verdict.too_early, verdict.too_late) == (ok, too_early, too_late)
    if ok:
        assert sim.drift_start <= verdict.trigger_week < verdict.below_week and verdict.weeks_of_warning > 0


def test_feedback_figure_shows_every_line_and_alert(sim) -> None:
    fig = ch.feedback_figure(sim, 0.04, "en")
    names = [trace.name for trace in fig.data]
    assert names[:3] == [
        "Model accuracy",
        "Baseline (the week's majority class)",
        "Baseline + 4.0 points (your threshold)",
    ]
    verdict = ch.evaluate_threshold(sim, 0.04)
    assert f"Your alert (week {verdict.trigger_week})" in names
    assert f"Below the baseline (week {verdict.below_week})" in names


def test_should_retrain_code_runs() -> None:
    namespace: dict = {}
    exec(ch.should_retrain_code(0.05), namespace)
    y_true = pd.Series([1] * 7 + [0] * 3)
    assert namespace["should_retrain"](y_true, pd.Series([1] * 10))  # 70 % = the baseline: retrain
    assert not namespace["should_retrain"](y_true, y_true)


def test_check_retrain_threshold() -> None:
    settings = get_settings()
    assert "No margin saved" in ch.check_retrain_threshold(_ctx()).missing[0]
    ch.save_threshold_choice(settings, "ana", 0.15, 7)
    assert "false alarm" in ch.check_retrain_threshold(_ctx()).missing[0]
    ch.save_threshold_choice(settings, "ana", 0.0, 7)
    assert "too late" in ch.check_retrain_threshold(_ctx()).missing[0]
    ch.save_threshold_choice(settings, "ana", -0.3, 7)
    assert "never fires" in ch.check_retrain_threshold(_ctx()).missing[0]
    ch.save_threshold_choice(settings, "ana", 0.04, 7)
    result = ch.check_retrain_threshold(_ctx("fr"))
    assert result.passed and "Référence + 4,0 points" in result.detail
    assert ch.load_threshold_choice(settings, "ana") == ch.ThresholdChoice(0.04, 7)
