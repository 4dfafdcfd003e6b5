"""AppTest of chapter V, tab by tab, against a real MLflow store."""

from __future__ import annotations

import pytest
from workbench.core import services, tracking
from workbench.core.data import generate_loan_data
from workbench.core.settings import get_settings

from tests.conftest import free_port
from tests.pages.conftest import assert_no_exception, open_app

pytestmark = pytest.mark.usefixtures("mlflow_store")
PAGE = "05_mlflow"


def _texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def test_track_tab_trains_and_the_run_appears_in_the_runs_table() -> None:
    at = open_app("en", PAGE)
    assert_no_exception(at)
    at.selectbox(key="ch05_track_model").set_value("decision_tree").run()
    at.button(key="ch05_train").click().run()
    assert_no_exception(at)
    assert "Run **decision_tree max_depth=4 min_samples_leaf=5** logged" in _texts(at.success)
    runs = tracking.search_runs(learner=get_settings().learner)
    assert len(runs) == 1
    table = at.dataframe[0].value if at.dataframe else None
    assert table is not None and "decision_tree max_depth=4 min_samples_leaf=5" in set(table["run"])
    assert any("mlflow.sklearn.log_model" in c.value for c in at.code)


def test_grid_search_logs_parent_and_children() -> None:
    at = open_app("fr", PAGE)
    at.button(key="ch05_grid").click().run()
    assert_no_exception(at)
    assert "Meilleur run enfant" in _texts(at.success)
    children = tracking.search_runs()
    assert len(children) == sum(len(v) for v in tracking.DEFAULT_GRID.values())
    assert children["parent_run_id"].nunique() == 1


def test_runs_tab_compares_three_runs_and_the_check_passes() -> None:
    data = generate_loan_data()
    learner = get_settings().learner
    ids = [tracking.train_and_log(data, "decision_tree", {"max_depth": d}, learner).run_id for d in (1, 3, 8)]
    at = open_app("en", PAGE)
    at.multiselect(key="ch05_compare_pick").set_value(ids).run()
    at.button(key="ch05_compare").click().run()
    assert_no_exception(at)
    assert any(s.value == "Comparison" for s in at.subheader)
    assert len(at.get("plotly_chart")) >= 2
    at.button(key="ch05_compare_three_check").click().run()
    assert "You compared 3 runs" in _texts(at.success)


def test_two_runs_with_the_same_name_can_be_told_apart_and_compared_across_families() -> None:
    import json

    data = generate_loan_data()
    learner = get_settings().learner
    twins = [tracking.train_and_log(data, "logistic_regression", {"C": 1.0}, learner).run_id for _ in range(2)]
    tree = tracking.train_and_log(data, "decision_tree", {"max_depth": 3}, learner).run_id
    at = open_app("en", PAGE)
    pick = at.multiselect(key="ch05_compare_pick")
    assert len(set(pick.options)) == len(pick.options) == 3
    assert {o for o in pick.options if o.startswith("logistic_regression C=1")} == {
        f"logistic_regression C=1 · {run_id[:8]}" for run_id in twins
    }
    pick.set_value([*twins, tree]).run()
    at.button(key="ch05_compare").click().run()
    assert_no_exception(at)
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    parallel = next(f["data"][0] for f in figures if f["data"] and f["data"][0]["type"] == "parcoords")
    axes = [d["label"] for d in parallel["dimensions"]]
    assert {"Model", "C (inverse regularization strength)", "Maximum depth"} <= set(axes) and "F1" in axes


def test_the_first_click_does_not_pass_and_marking_the_best_run_does() -> None:
    at = open_app("en", PAGE)
    at.button(key="ch05_train").click().run()  # the form's defaults
    at.button(key="ch05_run_f1_check").click().run()
    assert "You tried 1 different setting(s)" in _texts(at.markdown)
    data = generate_loan_data()
    learner = get_settings().learner
    for depth in (1, 3, 8):
        tracking.train_and_log(data, "decision_tree", {"max_depth": depth}, learner)
    runs = tracking.search_runs(learner=learner)
    best = runs.loc[runs["metrics.f1"].idxmax(), "run_id"]
    at = open_app("en", PAGE)
    at.selectbox(key="ch05_detail_run").set_value(best).run()
    at.button(key="ch05_mark_best").click().run()
    assert_no_exception(at)
    assert "This run carries the tag `best = true`" in _texts(at.caption)
    at.button(key="ch05_run_f1_check").click().run()
    assert "has the best test F1" in _texts(at.success)


def test_registry_tab_register_promote_and_roll_back() -> None:
    data = generate_loan_data()
    learner = get_settings().learner
    first = tracking.train_and_log(data, "logistic_regression", {"C": 0.1}, learner)
    second = tracking.train_and_log(data, "logistic_regression", {"C": 10.0}, learner)
    at = open_app("en", PAGE)
    assert "does not point to any version yet" in _texts(at.markdown)
    for run in (first, second):
        at.selectbox(key="ch05_register_run").set_value(run.run_id).run()
        at.button(key="ch05_register").click().run()
        assert_no_exception(at)
    assert [v.version for v in tracking.list_versions()] == [2, 1]

    for version in (1, 2):
        at.selectbox(key="ch05_alias").set_value("staging").run()
        at.selectbox(key="ch05_alias_version").set_value(version).run()
        at.button(key="ch05_set_alias").click().run()
        at.button(key="ch05_promote").click().run()
        assert_no_exception(at)
        assert f"Production → version {version}" in _texts(at.success)
        assert tracking.aliases()["production"] == version
    assert "`@production` → version **2**" in _texts(at.markdown)

    at.button(key="ch05_rollback").click().run()
    assert "Production rolled back to version 1" in _texts(at.success)
    assert tracking.aliases() == {"production": 1, "staging": 2}
    at.button(key="ch05_production_alias_check").click().run()
    at.button(key="ch05_rollback_check").click().run()
    assert "You put your version" in _texts(at.success)
    assert "rolled back from version 2 to version 1" in _texts(at.success)


def test_registry_errors_are_messages_not_tracebacks() -> None:
    data = generate_loan_data()
    run = tracking.train_and_log(data, "logistic_regression", None, get_settings().learner)
    tracking.register_run_model(run.run_id, get_settings().learner)
    at = open_app("en", PAGE)
    at.button(key="ch05_promote").click().run()
    assert_no_exception(at)
    assert "no version has the 'staging' alias" in _texts(at.error)
    at.button(key="ch05_rollback").click().run()
    assert "no earlier production version" in _texts(at.error)


def test_mlproject_tab_runs_the_project() -> None:
    at = open_app("en", PAGE, timeout=180)
    assert any("entry_points" in c.value for c in at.code)
    at.selectbox(key="ch05_project_model").set_value("decision_tree").run()
    at.button(key="ch05_project_run").click().run()
    assert_no_exception(at)
    assert "The project finished: run" in _texts(at.success)
    assert len(tracking.search_runs(learner=get_settings().learner)) == 1


def test_own_mlproject_editor_saves_and_tries_it_for_real() -> None:
    from workbench.chapters.ch05_mlflow import own_mlproject
    from workbench.core.records import records_for

    from tests.unit.ch05_mlflow.test_own_mlproject import GOOD

    at = open_app("en", PAGE, timeout=180)
    assert at.text_area(key="ch05_own_mlproject").value == own_mlproject.TEMPLATE  # the incomplete skeleton
    at.button(key="ch05_own_mlproject_try").click().run()
    assert_no_exception(at)
    assert "no `parameters` block" in _texts(at.error)
    at.text_area(key="ch05_own_mlproject").set_value(GOOD).run()
    at.button(key="ch05_own_mlproject_try").click().run()
    assert_no_exception(at)
    assert "succeeded (run" in _texts(at.success) and "-P max_depth=5" in _texts(at.success)
    assert records_for(get_settings(), get_settings().learner).get_text(own_mlproject.RECORD_KEY) == GOOD
    assert any("mlflow.cli" in c.value or "=== Run" in c.value for c in at.code)  # the mlflow run log


def test_mlflow_ui_tab_starts_and_stops_the_real_ui() -> None:
    at = open_app("en", PAGE, timeout=180)
    assert "The MLflow UI is stopped." in _texts(at.info)
    at.text_input(key="ch05_ui_port").input(str(free_port())).run()
    try:
        at.button(key="ch05_ui_start").click().run()
        assert_no_exception(at)
        assert "The MLflow UI is running" in _texts(at.success)
        assert services.status(get_settings(), "mlflow-ui").healthy
        at.button(key="ch05_ui_stop").click().run()
        assert "The MLflow UI is stopped." in _texts(at.info)
    finally:
        services.stop(get_settings(), "mlflow-ui")


def test_mlflow_ui_on_a_taken_port_says_why_it_did_not_start() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        at = open_app("fr", PAGE)
        at.text_input(key="ch05_ui_port").input(str(port)).run()
        at.button(key="ch05_ui_start").click().run()
    assert_no_exception(at)
    assert f"le port {port} de 127.0.0.1 est déjà occupé" in _texts(at.error)  # was English in the French UI
    at.segmented_control(key="lang").set_value("en").run()
    assert f"Could not start the MLflow UI: port {port} on 127.0.0.1 is already in use" in _texts(at.error)
    assert "The MLflow UI is stopped." in _texts(at.info)


def test_class_mode_shows_the_signed_in_learner_only_their_runs_and_their_model(monkeypatch) -> None:
    from tests.pages.conftest import open_class_app

    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()
    data = generate_loan_data()
    ana = tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "Ana")
    bob = tracking.train_and_log(data, "decision_tree", {"max_depth": 3}, "Bob")
    tracking.register_run_model(bob.run_id, "Bob")
    at = open_class_app("en", "Ana", PAGE)  # signed in by a real join link
    assert_no_exception(at)
    assert at.selectbox(key="ch05_filter_who").options == ["me (Ana)"]  # no "everyone" in a class
    tables = [frame.value for frame in at.dataframe]
    assert set(tables[0]["run_id"]) == {ana.run_id}  # the runs table: Bob's run is not there
    assert len(at.selectbox(key="ch05_register_run").options) == 1
    model = get_settings().learner_model_name("Ana")
    assert f"of model `{model}`" in _texts(at.markdown) and "of model `loan-approval`" not in _texts(at.markdown)
    assert "No version registered yet" in _texts(at.info)  # Bob's version is not Ana's
    at.button(key="ch05_register").click().run()
    assert_no_exception(at)
    assert f"Version 1 of `{model}` created." in _texts(at.success)
    assert [v.run_id for v in tracking.list_versions(learner="Ana")] == [ana.run_id]
    assert [v.run_id for v in tracking.list_versions(learner="Bob")] == [bob.run_id]
    assert "is not started from the workbench" in _texts(at.info)
    assert not any(b.key == "ch05_ui_start" for b in at.button)
    assert at.button(key="ch05_own_mlproject_try").disabled  # `mlflow run` would run Ana's command on the server
    assert "does not run your code" in _texts(at.info)
