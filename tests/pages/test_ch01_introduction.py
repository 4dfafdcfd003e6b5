"""AppTest of chapter I: lifecycle explorer and first model, with its hands-on checks."""

from __future__ import annotations

from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app


def test_lifecycle_stage_details_follow_the_picker() -> None:
    at = open_app("en", "01_introduction")
    assert any(s.value == "1. Business problem" for s in at.subheader)
    at.segmented_control(key="ch01_stage").set_value("deployment").run()
    assert_no_exception(at)
    assert any(s.value == "7. Deployment" for s in at.subheader)
    assert any("Portability" in m.value for m in at.markdown)
    assert any(c.value == "Stages explored: 2/8" for c in at.caption)


def test_train_first_model_then_pass_the_checks() -> None:
    at = open_app("en", "01_introduction")
    at.selectbox(key="ch01_model").set_value("random_forest").run()
    at.button(key="ch01_train").click().run()
    assert_no_exception(at)
    assert any("Trained on 491 applications" in s.value for s in at.success)
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["Accuracy", "Precision", "Recall", "F1"]
    assert len(at.get("plotly_chart")) >= 3  # lifecycle + confusion matrix + ROC
    assert any("RandomForestClassifier" in c.value for c in at.code)

    assert any("Accuracy on the training applications" in c.value for c in at.caption)
    at.button(key="ch01_first_model_check").click().run()
    assert any("Not yet" in w.value for w in at.warning)  # beating the baseline is only half of it
    assert any("does **not** beat it" in m.value for m in at.markdown)
    at.button(key="ch01_compare_families_check").click().run()
    assert any("Train 1 more" in m.value for m in at.markdown)

    at.selectbox(key="ch01_model").set_value("logistic_regression").run()
    at.select_slider(key="ch01_logistic_regression_C").set_value(-3.0).run()  # C = 0.001: says yes to all
    at.button(key="ch01_train").click().run()
    assert any("does no better than approving everyone" in w.value for w in at.warning)
    at.button(key="ch01_first_model_check").click().run()
    assert any("above the baseline" in s.value for s in at.success)
    at.button(key="ch01_compare_families_check").click().run()
    assert any("Families compared" in s.value for s in at.success)
    history = at.dataframe[-1].value
    assert "Accuracy (training)" in history.columns and len(history) == 2
    done = ProgressStore(get_settings().progress_db).completed_items(get_settings().learner)
    assert done["01_introduction"] == {"first-model", "compare-families"}


def test_the_first_click_with_defaults_does_not_pass() -> None:
    at = open_app("en", "01_introduction")
    at.button(key="ch01_train").click().run()
    assert any("the model adds something" in i.value for i in at.info)
    at.button(key="ch01_first_model_check").click().run()
    assert not any("above the baseline" in s.value for s in at.success)
    assert "first-model" not in ProgressStore(get_settings().progress_db).completed_items(get_settings().learner).get(
        "01_introduction", set()
    )


def test_check_without_training_says_what_is_missing() -> None:
    at = open_app("fr", "01_introduction")
    at.button(key="ch01_first_model_check").click().run()
    assert_no_exception(at)
    assert any("Aucun modèle entraîné" in m.value for m in at.markdown)
