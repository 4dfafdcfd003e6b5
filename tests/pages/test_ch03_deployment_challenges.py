"""AppTest of chapter III, tab by tab: lifecycle, batch vs REST, robustness, feedback loop."""

from __future__ import annotations

from workbench.chapters.ch03_deployment_challenges import lab as ch
from workbench.core.progress import ProgressStore
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app

PAGE = "03_deployment_challenges"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_lifecycle_tab_lists_what_each_stage_produces() -> None:
    at = open_app("en", PAGE)
    assert_no_exception(at)
    outputs = next(d.value for d in at.dataframe if "Produces" in d.value.columns)
    assert len(outputs) == 8 and outputs.iloc[0, 0] == "1. Business problem"
    at.segmented_control(key="ch03_stage").set_value("monitoring").run()
    assert_no_exception(at)
    assert any(s.value == "8. Monitor and optimize" for s in at.subheader)
    assert "What breaks in production" in "".join(m.value for m in at.markdown)


def test_batch_vs_one_call_per_row_is_measured() -> None:
    at = open_app("fr", PAGE)
    at.slider(key="ch03_serving_rows").set_value(100).run()
    at.slider(key="ch03_serving_budget").set_value(2).run()
    at.button(key="ch03_serving_run").click().run()
    assert_no_exception(at)
    labels = {m.label: m.value for m in at.metric}
    assert "Lot : demandes par seconde" in labels and "Le lot est plus rapide de" in labels
    assert labels["Le lot est plus rapide de"].startswith("× ")
    assert "Mêmes probabilités pour les" in _texts(at.success)
    assert any("predict_proba(X)" in c.value for c in at.code)


def test_robustness_presets_and_the_silent_failure_check() -> None:
    at = open_app("en", PAGE)
    at.selectbox(key="ch03_preset").set_value("income_text").run()
    assert at.text_input(key="ch03_field_ApplicantIncome").value == "five thousand"
    at.button(key="ch03_robust_send").click().run()
    assert_no_exception(at)
    assert "The model crashes" in _texts(at.error)
    assert "must be numeric" in "\n".join(m.value for m in at.markdown)
    at.button(key="ch03_silent_failure_check").click().run()
    assert "no application was accepted by the raw model" in "\n".join(m.value for m in at.markdown)

    at.selectbox(key="ch03_preset").set_value("unknown_area").run()  # the ready-made case: not enough
    at.button(key="ch03_robust_send").click().run()
    assert "returned without a murmur" in _texts(at.warning)
    assert "Refused before reaching the model" in _texts(at.info)
    at.button(key="ch03_silent_failure_check").click().run()
    assert "ready-made case 'Unknown area ('Downtown')'" in "\n".join(m.value for m in at.markdown)
    assert not any("Found:" in s.value for s in at.success)

    at.selectbox(key="ch03_preset").set_value("valid").run()
    at.text_input(key="ch03_field_Gender").input("Robot").run()  # the learner's own absurd value
    at.button(key="ch03_robust_send").click().run()
    assert "returned without a murmur" in _texts(at.warning)
    at.button(key="ch03_silent_failure_check").click().run()
    assert "Found: with Gender='Robot'" in _texts(at.success)


def test_feedback_loop_margin_then_the_check_passes() -> None:
    at = open_app("en", PAGE)
    assert "Run the simulation" in _texts(at.info)
    at.button(key="ch03_feedback_run").click().run()
    assert_no_exception(at)
    assert "fixed 68% threshold only fires once the model is below the baseline" in _texts(at.warning)
    assert "Raise the margin" in _texts(at.error)  # margin 0: too late
    verdict = ch.evaluate_threshold(ch.simulate_feedback(), 0.04)
    at.select_slider(key="ch03_margin").set_value(4.0).run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Your rule: week"] == str(verdict.trigger_week)
    assert metrics["Below the baseline: week"] == str(verdict.below_week)
    assert f"the alert fires at week {verdict.trigger_week}" in _texts(at.success)
    at.button(key="ch03_feedback_save").click().run()
    assert "Margin of 4.0 points saved" in _texts(at.success)
    at.button(key="ch03_relative_threshold_check").click().run()
    assert "triggers retraining at week" in _texts(at.success)
    done = ProgressStore(get_settings().progress_db).completed_items(get_settings().learner)
    assert done["03_deployment_challenges"] == {"relative-threshold"}


def test_feedback_loop_false_alarm_in_french() -> None:
    at = open_app("fr", PAGE)
    at.button(key="ch03_feedback_run").click().run()
    at.select_slider(key="ch03_margin").set_value(15.0).run()
    assert_no_exception(at)
    assert "une fausse alarme" in _texts(at.error)
    assert len(at.get("plotly_chart")) >= 2  # lifecycle + feedback figure
