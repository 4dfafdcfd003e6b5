"""Chapter XI, Responsible AI: fairness metrics and mitigation (fairlearn), explanations, model card, signing,
and the two hands-on checks — on inline data, the course data, a learner's own registered model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from workbench.chapters.ch11_post_production import responsible as rai
from workbench.core.data import FEATURES, TARGET, generate_loan_data, load_course_data
from workbench.core.exercises import CheckContext
from workbench.core.safe_models import ModelRefused
from workbench.core.settings import get_settings

from tests.api.conftest import learner_pipeline, log_learner_model, log_pickle_model


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext(learner=get_settings().learner, lang=lang, settings=get_settings())


# ------------------------------------------------------------------ fairness on inline data


def _groups(values: list) -> pd.Series:
    return rai.group_labels(pd.DataFrame({"Gender": values}), "Gender")


def test_missing_values_are_their_own_group() -> None:
    assert _groups(["Male", None, "Female", np.nan]).tolist() == ["Male", rai.MISSING, "Female", rai.MISSING]


def test_parity_and_equal_opportunity_differences() -> None:
    # Male: 10 rows, 8 approved; of 6 who repay, 6 approved. Female: 10 rows, 4 approved; of 5 who repay, 3 approved.
    y_true = [1] * 6 + [0] * 4 + [1] * 5 + [0] * 5
    y_pred = [1] * 6 + [1, 1, 0, 0] + [1, 1, 1, 0, 0] + [1, 0, 0, 0, 0]
    groups = _groups(["Male"] * 10 + ["Female"] * 10)
    report = rai.compute_fairness(y_true, np.array(y_pred), groups, min_group=5)
    assert report.dp_difference == pytest.approx(0.8 - 0.4)
    assert report.eo_difference == pytest.approx(1.0 - 0.6)
    by_group = report.by_group.set_index("group")
    assert by_group.loc["Female", "fpr"] == pytest.approx(0.2) and by_group.loc["Male", "fpr"] == pytest.approx(0.5)
    assert by_group["count"].to_dict() == {"Female": 10, "Male": 10}
    assert report.left_out == [] and report.approval_rate == pytest.approx(0.6)
    low, high = report.dp_interval
    assert low <= report.dp_difference <= high


def test_small_and_missing_groups_are_shown_but_not_compared() -> None:
    groups = _groups(["Male"] * 10 + ["Female"] * 10 + [None] * 3)
    y_true = np.array([1, 0] * 10 + [1, 1, 1])
    y_pred = np.array([1] * 10 + [0] * 10 + [1, 1, 1])
    report = rai.compute_fairness(y_true, y_pred, groups, min_group=5)
    assert report.left_out == [rai.MISSING]
    assert report.dp_difference == pytest.approx(1.0)  # the missing group (rate 1) is not one of the compared
    excluded = rai.compute_fairness(y_true, y_pred, groups, min_group=5, exclude_missing=True)
    assert rai.MISSING not in set(excluded.by_group["group"]) and excluded.left_out == []
    with pytest.raises(rai.ResponsibleError) as err:
        rai.compute_fairness(y_true, y_pred, groups, min_group=11)
    assert "fewer than two `Gender` groups have at least 11" in err.value.message("en")


def test_a_group_where_nobody_repays_has_no_true_positive_rate() -> None:
    groups = _groups(["Male"] * 4 + ["Female"] * 4)
    report = rai.compute_fairness(
        np.array([1, 1, 0, 0, 0, 0, 0, 0]), np.array([1, 0, 0, 0, 1, 0, 0, 0]), groups, min_group=2
    )
    assert math.isnan(report.by_group.set_index("group").loc["Female", "tpr"]) and math.isnan(report.eo_difference)


# ------------------------------------------------------------------ the course pipeline and other data


@pytest.fixture(scope="module")
def course() -> rai.Subject:
    return rai.course_subject(load_course_data())


def test_the_course_pipeline_is_reviewed_on_the_held_out_rows(course) -> None:
    assert course.source == "course" and len(course.X_test) == round(0.2 * len(load_course_data()))
    report = rai.review_fairness(course, "Married")
    assert set(report.by_group["group"]) >= {"Yes", "No"} and 0 <= report.dp_difference <= 1


@pytest.mark.parametrize("constraint", rai.CONSTRAINTS)
def test_mitigation_reports_its_cost(course, constraint: str) -> None:
    result = rai.mitigate(course, "Gender", constraint)
    assert result.before.accuracy == pytest.approx(
        float((rai.decisions(course.model, course.X_test) == course.y_test.to_numpy()).mean()), abs=0.05
    )
    assert set(result.thresholds) <= set(result.before.by_group["group"])
    assert (
        result.profit_before
        == rai.fairness.profit(course.y_test.to_numpy(), rai.decisions(course.model, course.X_test))
        or result.dropped
    )  # rows of degenerate groups are left out of both sides
    assert 0 <= result.after.approval_rate <= 1


def test_mitigation_narrows_a_disparity_built_into_the_data() -> None:
    data = generate_loan_data(3000, seed=7)
    women = data["Gender"] == "Female"
    refused = women & (np.random.default_rng(0).random(len(data)) < 0.5)
    data.loc[refused, TARGET] = "N"  # past decisions against women: a model trained on them learns it
    subject = rai.course_subject(data)
    result = rai.mitigate(subject, "Gender", "demographic_parity")
    assert result.before.dp_difference > 0.1
    assert result.after.dp_difference < result.before.dp_difference / 2


def test_data_without_outcomes_or_too_small_is_refused_with_a_reason() -> None:
    data = generate_loan_data(200, seed=1)
    with pytest.raises(rai.ResponsibleError) as err:
        rai.course_subject(data.drop(columns=TARGET))
    assert "Loan_Status" in err.value.message("fr")
    with pytest.raises(rai.ResponsibleError):
        rai.course_subject(data.head(20))


def test_unseen_group_at_mitigation_is_explained(course) -> None:
    odd = rai.Subject(**{**course.__dict__, "X_test": course.X_test.assign(Gender="Other")})
    with pytest.raises(rai.ResponsibleError):
        rai.mitigate(odd, "Gender", min_group=2)


# ------------------------------------------------------------------ explanations


def test_permutation_importance_puts_credit_history_first(course) -> None:
    table = rai.permutation_importances(course, n_repeats=3)
    assert table["feature"].iloc[0] == "Credit_History" and set(table["feature"]) == set(FEATURES)


def test_per_decision_explanation_on_a_model_that_only_reads_credit_history() -> None:
    data = load_course_data()
    only = Pipeline(
        [
            ("pick", ColumnTransformer([("c", OneHotEncoder(handle_unknown="ignore"), ["Credit_History"])])),
            ("lr", LogisticRegression()),
        ]
    )
    subject = rai.course_subject(data)
    subject.model = only.fit(subject.X_train.fillna({"Credit_History": 1.0}), subject.y_train)
    application = subject.X_test.iloc[0].to_dict() | {"Credit_History": 0.0}
    explanation = rai.explain_decision(subject, application)
    contributions = explanation.contributions.set_index("feature")["contribution"]
    assert contributions["Credit_History"] < -0.3  # a bad history is what counts against
    assert (contributions.drop("Credit_History").abs() < 1e-12).all()  # nothing else is read
    assert not explanation.approved and explanation.reference_probability > explanation.probability
    assert rai.reasons(explanation)["feature"].tolist() == ["Credit_History"]
    with pytest.raises(rai.ResponsibleError):
        rai.explain_decision(subject, {"Gender": "Male"})


def test_refused_applicants_are_refused_and_closest_first(course) -> None:
    refused = rai.refused_applicants(course)
    assert (refused["probability"] < 0.5).all() and refused["probability"].is_monotonic_decreasing


# ------------------------------------------------------------------ registry: the learner's own model


def test_a_learners_plain_sklearn_model_is_reviewed_carded_and_signed(mlflow_store, course) -> None:
    settings = get_settings()
    version, _ = log_learner_model()
    subject = rai.load_subject(load_course_data(), settings)
    assert subject.source == "registry" and subject.version == int(version)
    report = rai.review_fairness(subject, "Gender")
    assert report.accuracy > 0.6
    card = rai.model_card(subject, "en", [report], rai.permutation_importances(subject, n_repeats=2))
    assert f"| Version | {version} |" in card and "## Fairness by Gender" in card and "Annex III" in card
    assert f"| Fingerprint of the reviewed data | {subject.data_hash} |" in card
    assert "may have seen some test applications" in card  # a learner's own run logged no split
    card_fr = rai.model_card(subject, "fr", [report])
    assert "Équité par Gender" in card_fr and "pts" in card_fr

    result = rai.sign_model(subject, settings, settings.learner)
    assert result.verified.ok and not result.tampered.ok and "mismatch" in result.tampered.reason.lower()
    assert "MLmodel" in result.files and any(f.endswith(".skops") for f in result.files)
    assert rai.check_signed_model(_ctx()).passed
    paths = rai.signing_paths(settings, settings.learner)
    (paths.model / "MLmodel").write_text((paths.model / "MLmodel").read_text() + "\n# edited\n")
    verdict = rai.check_signed_model(_ctx())
    assert not verdict.passed and "no longer matches" in verdict.missing[0]


def test_a_pickled_registered_model_is_refused_not_reviewed(mlflow_store, tmp_path) -> None:
    marker = tmp_path / "pwned"
    log_pickle_model(marker)
    with pytest.raises(ModelRefused):
        rai.load_subject(load_course_data(), get_settings())
    assert not marker.exists()


# ------------------------------------------------------------------ checks


def test_signing_check_without_a_signature_fails() -> None:
    verdict = rai.check_signed_model(_ctx("fr"))
    assert not verdict.passed and "Aucun modèle signé" in verdict.missing[0]


def test_fairness_check_replays_the_saved_choice(mlflow_store) -> None:
    settings = get_settings()
    assert not rai.check_fairness_mitigation(_ctx()).passed
    rai.save_choice(settings, settings.learner, "Gender", "demographic_parity", False)
    verdict = rai.check_fairness_mitigation(_ctx())
    subject = rai.course_subject(load_course_data())
    replay = rai.mitigate(subject, "Gender", "demographic_parity")
    assert verdict.passed == (replay.after.dp_difference < replay.before.dp_difference)
    assert verdict.evidence["before"] == pytest.approx(replay.before.dp_difference)
    rai.save_choice(settings, settings.learner, "Religion", "demographic_parity", False)
    assert not rai.check_fairness_mitigation(_ctx()).passed


def test_a_group_with_one_outcome_in_training_is_left_out_of_the_mitigation(course) -> None:
    # as in the real course file: the few applications with no `Married` value were all approved
    X_train, X_test = course.X_train.copy(), course.X_test.copy()
    approved = course.y_train.to_numpy() == 1
    X_train.loc[X_train.index[approved][:3], "Married"] = None
    X_train.loc[X_train.index[~approved], "Married"] = X_train.loc[X_train.index[~approved], "Married"].fillna("No")
    X_test.loc[X_test.index[:2], "Married"] = None
    subject = rai.Subject(**{**course.__dict__, "X_train": X_train, "X_test": X_test})
    result = rai.mitigate(subject, "Married", "demographic_parity")
    assert result.dropped == [rai.MISSING]
    assert rai.MISSING not in set(result.after.by_group["group"])


def test_class_mode_reviews_each_learners_own_model(mlflow_store, monkeypatch) -> None:
    import mlflow
    import skops.io as sio

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    settings = get_settings()
    pipeline, X = learner_pipeline("logistic_regression")
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_experiment("ana-loan-model")
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            pipeline,
            name="model",
            serialization_format="skops",
            skops_trusted_types=sio.get_untrusted_types(data=sio.dumps(pipeline)),
            registered_model_name=settings.learner_model_name("ana"),
            input_example=X.head(2),
        )
    ana = rai.load_subject(load_course_data(), settings, "ana")
    assert ana.source == "registry" and ana.model_name == settings.learner_model_name("ana")
    bob = rai.load_subject(load_course_data(), settings, "bob")  # nothing registered: the course pipeline
    assert bob.source == "course"
