"""AppTest of chapter X, tab by tab: drift lab, Evidently report, timeline, live monitoring of a real API."""

from __future__ import annotations

import json
import re

import pytest
from workbench.chapters.ch10_monitoring import drift
from workbench.core import api_client
from workbench.core.data import load_course_data
from workbench.core.settings import get_settings

from tests.conftest import free_port
from tests.pages.conftest import assert_no_exception, open_app

PAGE = "10_monitoring"


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_drift_lab_statistics_and_mystery_exercise() -> None:
    at = open_app("en", PAGE, timeout=120)
    assert_no_exception(at)
    assert "ApplicantIncome" in _texts(at.warning)  # default: income shift
    assert at.metric[0].label == "Drifting features" and at.metric[0].value.endswith("/ 13")
    table = at.dataframe[0].value
    assert list(table["Feature"])[-1] == "prediction" and "PSI / CSI" in table.columns
    assert at.selectbox(key="ch10_hist_feature").value == "ApplicantIncome"
    at.selectbox(key="ch10_lab_kind").set_value("unit_change").run()
    assert "Drift detected on: " in _texts(at.warning) and "LoanAmount" in _texts(at.warning)
    assert at.selectbox(key="ch10_hist_feature").value == "LoanAmount"  # the histogram follows the drift
    assert any("ks_2samp" in c.value for c in at.code)

    at.segmented_control(key="ch10_source").set_value("mystery").run()
    assert_no_exception(at)
    truth = drift.mystery_feature(get_settings().learner)
    assert truth not in _texts(at.warning) + _texts(at.success)  # the banner does not give the answer away
    assert at.metric[0].value == "?"
    table = at.dataframe[0].value
    assert "Verdict" not in table.columns and "Deciding test" in table.columns
    assert at.selectbox(key="ch10_hist_feature").value is None  # no histogram picked for the learner
    at.selectbox(key="ch10_hist_feature").set_value(truth).run()
    assert_no_exception(at)
    at.selectbox(key="ch10_mystery_answer").set_value(truth).run()
    at.button(key="ch10_mystery_save").click().run()
    at.button(key="ch10_mystery_drift_check").click().run()
    assert f"Well spotted: {truth}" in _texts(at.success)


def test_drift_lab_in_french_writes_shares_and_points_the_french_way() -> None:
    """The approval metric is `68,9 %` and its change in points (`+1,2 pts`), never `+1.2 pts` nor `%`."""
    at = open_app("fr", PAGE)
    approval = next(m for m in at.metric if m.label == "Taux d'acceptation prédit")
    assert approval.value.endswith("\u00a0%") and "," in approval.value
    assert re.fullmatch(r"[+-]\d+,\d\u00a0pts?", approval.delta), approval.delta
    assert "ms" in next(m.value for m in at.metric if "calcul" in m.label.lower())
    histogram = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "ch10_hist" in c.proto.id)
    assert histogram["layout"]["separators"] == ",\u202f"
    assert all(tick.endswith("\u00a0%") for tick in histogram["layout"]["yaxis"]["ticktext"])
    columns = list(next(d.value for d in at.dataframe if "Verdict" in d.value.columns).columns)
    assert columns[:4] == ["Variable", "Type", "Verdict", "Test décisif"]  # in view, not cut off to the right
    at.text_input(key="ch10_lab_seed").input("1,5").run()
    assert "n'est pas un nombre entier" in _texts(at.error)


def test_histogram_defaults_to_the_most_drifted_feature_of_each_scenario() -> None:
    at = open_app("en", PAGE, timeout=120)
    at.selectbox(key="ch10_lab_kind").set_value("category_mix").run()
    at.selectbox(key="ch10_lab_feature_category_mix").set_value("Married").run()
    assert at.selectbox(key="ch10_hist_feature").value == "Married"
    at.selectbox(key="ch10_hist_feature").set_value("Gender").run()  # the learner's own pick stays...
    assert at.selectbox(key="ch10_hist_feature").value == "Gender"
    at.selectbox(key="ch10_lab_feature_category_mix").set_value("Property_Area").run()
    assert at.selectbox(key="ch10_hist_feature").value == "Property_Area"  # ...until the scenario changes


def test_evidently_report_and_categorical_test_exercise_in_french() -> None:
    at = open_app("fr", PAGE, timeout=120)
    at.radio(key="ch10_test_answer").set_value("ks").run()
    at.button(key="ch10_test_save").click().run()
    at.button(key="ch10_categorical_test_check").click().run()
    assert "valeurs ordonnées" in _texts(at.markdown)
    at.radio(key="ch10_test_answer").set_value("chi2").run()
    at.button(key="ch10_test_save").click().run()
    at.button(key="ch10_categorical_test_check").click().run()
    assert_no_exception(at)
    assert "le khi-deux compare des effectifs" in _texts(at.success)

    assert "Choisissez un scénario" in _texts(at.info)
    at.button(key="ch10_ev_run").click().run()
    assert_no_exception(at)
    table = at.dataframe[1].value  # the drift lab's table comes first
    assert (table["Evidently"] == table["Notre verdict (même test)"]).all()
    assert "Même test, même verdict : sur les 12 colonnes" in _texts(at.success)
    assert "LoanAmount" in set(table.loc[table["Evidently"], "Variable"])
    differ = table[table["Evidently"] != table["Notre verdict (test décisif)"]]
    if len(differ):  # only the chi-square flavours: goodness of fit (Evidently) vs homogeneity (ours)
        assert set(differ["Méthode"]) == {"chisquare"}
        assert "prend les proportions de la référence comme exactes" in _texts(at.info)
    two = table[table["Variable"].isin(["Gender", "Married", "Education", "Self_Employed", "Credit_History"])]
    assert set(two["Méthode"]) == {"z"} and set(two["Même test chez nous"]) == {"χ² homogénéité (p)"}
    assert [m.value for m in at.metric if m.label == "Dérive du jeu (≥ 50 %)"] == ["non"]
    assert any("DataDriftPreset" in c.value for c in at.code)


def test_timeline_tab_strategies_and_threshold_exercise() -> None:
    at = open_app("en", PAGE, timeout=120)
    baseline = drift.majority_baseline(load_course_data())
    assert "68 % accuracy" in _texts(at.info) and f"already scores {baseline:.1%}" in _texts(at.info)
    at.select_slider(key="ch10_tl_margin").set_value(-0.02).run()
    assert "would never fire the alert" in _texts(at.error)
    at.select_slider(key="ch10_tl_margin").set_value(0.05).run()
    at.button(key="ch10_tl_run").click().run()
    assert_no_exception(at)
    summary = next(d.value for d in at.dataframe if "Strategy" in d.value.columns)
    assert list(summary["Strategy"]) == [
        "Never",
        "Periodic (every 4 weeks)",
        "On data-drift alert",
        "On accuracy alert",
    ]
    assert list(summary["Retrainings"])[:3] == [0, 4, 0]  # concept drift: no input drift to alert on
    assert "No control-chart rule fired." in _texts(at.info)

    at.button(key="ch10_thr_save").click().run()  # the slider's start, the textbook 0.25: too late here
    at.button(key="ch10_alert_threshold_check").click().run()
    assert any("Not yet" in w.value for w in at.warning)

    timeline, values = drift.threshold_exercise(get_settings().learner, load_course_data())
    start = timeline.start_week
    good = round(round(float(values[: start - 1].max() + values[start - 1]) / 2 / 0.005) * 0.005, 3)  # slider step
    at.select_slider(key="ch10_thr_value").set_value(good).run()
    at.button(key="ch10_thr_save").click().run()
    at.button(key="ch10_alert_threshold_check").click().run()
    assert f"raises the alert in week {start}" in _texts(at.success)


@pytest.fixture
def api_port(monkeypatch, mlflow_store):
    port = free_port()
    monkeypatch.setenv("WORKBENCH_API_PORT", str(port))
    monkeypatch.setenv("WORKBENCH_API_POLL_SECONDS", "0")
    get_settings.cache_clear()
    yield port
    api_client.stop(get_settings())


def test_live_tab_against_a_real_api(api_port) -> None:
    at = open_app("en", PAGE, timeout=180)
    assert "The API is stopped" in _texts(at.info) or any("stopped" in i.value for i in at.info)
    at.button(key="ch10_live_start").click().run()
    assert_no_exception(at)
    assert api_client.status().healthy
    at.button(key="ch10_live_burst").click().run()
    assert_no_exception(at)
    assert "No alert" in _texts(at.success)
    assert next(m.value for m in at.metric if m.label == "Inputs kept by the API") == "50"

    at.segmented_control(key="ch10_live_mode").set_value("drifted").run()
    for _ in range(2):
        at.button(key="ch10_live_burst").click().run()
    alerts = _texts(at.error)
    assert "CreditHistoryMissingSpike" in alerts and "PredictionMixShift" in alerts
    assert any("Credit_History" in str(d.value) for d in at.dataframe)

    at.segmented_control(key="ch10_live_mode").set_value("normal").run()
    for _ in range(2):
        at.button(key="ch10_live_burst").click().run()
    assert "No alert" in _texts(at.success)
    rate = next(m.value for m in at.metric if m.label == "Throughput")
    assert rate.endswith("/s")

    at.segmented_control(key="lang").set_value("fr").run()  # the charts speak French, not column names
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    legends = {trace.get("name") for chart in charts for trace in chart["data"]}
    assert {"p50", "p95", "p99", "Part refusée (422)", "Taux d'erreur (5xx)"} <= legends
    assert not legends & {"p50_ms", "p95_ms", "rejected_share", "error_rate"}
    assert all(chart["layout"]["separators"] == ",\u202f" for chart in charts)
    assert "Latence (ms)" in {chart["layout"]["yaxis"]["title"]["text"] for chart in charts}
    at.button(key="ch10_live_stop").click().run()
    assert not api_client.status().healthy


def test_retraining_strategy_exercise_shows_data_not_answers_then_replays_the_choice_in_french() -> None:
    from workbench.chapters.ch10_monitoring import strategy

    at = open_app("fr", PAGE, timeout=240)
    assert_no_exception(at)
    assert at.radio(key="ch10_st_strategy").value is None  # no strategy chosen for the learner
    assert at.button(key="ch10_st_save").disabled
    assert any(e.label == "Vos 20 semaines, semaine par semaine" for e in at.expander)
    at.button(key="ch10_retraining_strategy_check").click().run()
    assert "Choisissez une stratégie" in _texts(at.markdown)
    at.radio(key="ch10_st_strategy").set_value("accuracy").run()
    assert at.select_slider(key="ch10_st_accuracy").value == 0.5  # starts where it triggers nothing
    at.button(key="ch10_st_save").click().run()
    assert_no_exception(at)
    assert "0 réentraînement" in _texts(at.caption)
    at.button(key="ch10_retraining_strategy_check").click().run()
    assert "une autre stratégie dans le budget de 2" in _texts(at.markdown)
    best = strategy.best_within(strategy.grid_outcomes(get_settings().learner, get_settings()))
    at.radio(key="ch10_st_strategy").set_value(best.strategy).run()
    if best.strategy == "periodic":
        at.slider(key="ch10_st_period").set_value(int(best.parameter)).run()
    elif best.strategy != "never":
        at.select_slider(key=f"ch10_st_{best.strategy}").set_value(best.parameter).run()
    at.button(key="ch10_st_save").click().run()
    at.button(key="ch10_retraining_strategy_check").click().run()
    assert_no_exception(at)
    assert re.search(r"garde une exactitude moyenne de 0,\d{3}", _texts(at.success))


def test_production_batch_report_and_decision_on_the_evidently_tab_in_french() -> None:
    from workbench.chapters.ch10_monitoring import production
    from workbench.core.exercises import CheckContext, load_exercises, run_check

    at = open_app("fr", PAGE, timeout=240)
    assert "Lancez d'abord le rapport" in _texts(at.info)
    assert any(b.proto.label == "Télécharger le lot (CSV)" for b in at.get("download_button"))
    at.button(key="ch10_prod_run").click().run()
    assert_no_exception(at)
    table = next(d.value for d in at.dataframe if "Evidently" in d.value.columns and len(d.value) == 11)
    assert sorted(table.loc[table["Evidently"], "Variable"]) == ["ApplicantIncome", "Property_Area"]
    assert at.radio(key="ch10_prod_decision").value is None
    at.radio(key="ch10_prod_decision").set_value("investigate")
    at.multiselect(key="ch10_prod_features").set_value(["ApplicantIncome", "Property_Area"])
    at.button(key="FormSubmitter:ch10_prod_form-Enregistrer ma décision").click().run()
    assert_no_exception(at)
    assert "Décision enregistrée : Enquêter d'abord ; variables : ApplicantIncome, Property_Area." in _texts(at.caption)
    record = production.load_record(get_settings(), get_settings().learner)
    assert record["data_sha256"] == production.production_sha256() and record["decision"] == "investigate"
    exercise = next(h for h in load_exercises("capstone").hands_on if h.id == "capstone-production-drift")
    assert run_check(exercise, CheckContext(get_settings().learner, "en", get_settings())).passed


def test_promql_exercise_on_a_real_prometheus(api_port, monkeypatch) -> None:
    from workbench.chapters.ch10_monitoring import promql
    from workbench.core import services

    if promql.prometheus_binary() is None:
        if __import__("os").environ.get("WORKBENCH_REQUIRE_PROMETHEUS"):
            pytest.fail("prometheus is not installed but WORKBENCH_REQUIRE_PROMETHEUS is set")
        pytest.skip("prometheus is not installed")
    monkeypatch.setenv("WORKBENCH_PROMETHEUS_PORT", str(services.free_port()))
    at = open_app("fr", PAGE, timeout=240)
    at.button(key="ch10_live_start").click().run()
    try:
        assert "Exercice : une requête PromQL" in _texts(at.subheader)
        at.button(key="ch10_prom_start").click().run()
        assert_no_exception(at)
        assert "Prometheus tourne sur" in _texts(at.success)
        assert "Envoyez d'abord votre rafale" in _texts(at.info)
        at.button(key="ch10_prom_send").click().run()
        assert_no_exception(at)
        assert "Heure d'évaluation figée" in _texts(at.caption)
        at.text_area(key="ch10_prom_query").input('workbench_api_requests_total{endpoint="/predict",status="422"}')
        at.button(key="FormSubmitter:ch10_prom_form-Évaluer et enregistrer").click().run()
        at.button(key="ch10_promql_422_rate_check").click().run()
        assert "Vérifiez la métrique, les libellés" in _texts(at.markdown)  # a counter's total is not a rate
        at.text_area(key="ch10_prom_query").input(
            'rate(workbench_api_requests_total{endpoint="/predict",status="422"}[1m])'
        )
        at.button(key="FormSubmitter:ch10_prom_form-Évaluer et enregistrer").click().run()
        assert_no_exception(at)
        values = next(d.value for d in at.dataframe if "Valeur" in d.value.columns)
        assert re.fullmatch(r"0,\d{4}", values["Valeur"][0])
        at.button(key="ch10_promql_422_rate_check").click().run()
        assert "réponse 422 par seconde" in _texts(at.success)
        at.button(key="ch10_prom_stop").click().run()
    finally:
        promql.stop(get_settings())
