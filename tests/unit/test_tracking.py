"""MLflow tracking and registry against a real SQLite store (one per test)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

import pandas as pd
import pytest
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.exercises import CheckContext
from workbench.core.i18n import translate
from workbench.core.modeling import train_model
from workbench.core.settings import get_settings

pytestmark = pytest.mark.usefixtures("mlflow_store")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return generate_loan_data()


def _ctx(learner: str = "ana", lang: str = "en") -> CheckContext:
    return CheckContext(learner, lang, get_settings())


def test_store_is_sqlite_under_the_state_dir(isolated_state) -> None:
    assert get_settings().mlflow_tracking_uri == f"sqlite:///{isolated_state / 'mlflow.db'}"


def test_log_run_round_trip(data) -> None:
    logged = tracking.train_and_log(data, "random_forest", {"n_estimators": 30, "max_depth": 4}, "ana")
    assert logged.run_name == "random_forest n_estimators=30 max_depth=4 min_samples_leaf=3"
    runs = tracking.search_runs(learner="ana")
    assert list(runs["run_id"]) == [logged.run_id]
    row = runs.iloc[0]
    assert row["model"] == "random_forest" and row["params.n_estimators"] == "30"
    assert row["metrics.f1"] == pytest.approx(logged.metrics["f1"])
    assert row["metrics.baseline_accuracy"] == pytest.approx(0.6829, abs=0.01)

    detail = tracking.run_detail(logged.run_id, "fr")
    assert detail.tags["learner"] == "ana" and detail.tags["chapter"] == "05_mlflow"
    assert len(detail.tags["dataset_hash"]) == 16
    assert set(detail.figures) == {"confusion_matrix", "roc"}
    assert "Matrice de confusion" in detail.figures["confusion_matrix"]
    names = {name for name, _ in detail.model_files}
    assert {"MLmodel", "model.skops", "requirements.txt", "python_env.yaml", "input_example.json"} <= names
    assert "skops_trusted_types" in detail.mlmodel and "sklearn.tree._tree.Tree" in detail.mlmodel
    assert "signature" in detail.mlmodel
    assert detail.inputs and detail.inputs[0].startswith("loan (")
    requirements = dict(line.split("==") for line in tracking.model_requirements())
    assert set(requirements) == {"scikit-learn", "skops", "numpy", "pandas", "scipy"}


def test_search_filters(data) -> None:
    tracking.train_and_log(data, "logistic_regression", {"C": 1.0}, "ana")
    tracking.train_and_log(data, "decision_tree", {"max_depth": 1}, "bob")
    assert len(tracking.search_runs()) == 2
    assert list(tracking.search_runs(learner="bob")["model"]) == ["decision_tree"]
    assert list(tracking.search_runs(model="logistic_regression")["learner"]) == ["ana"]
    aucs = tracking.search_runs()["metrics.roc_auc"]
    assert aucs.nunique() == 2
    assert len(tracking.search_runs(metric="roc_auc", min_metric=aucs.max())) == 1
    assert tracking.search_runs(learner="nobody").empty
    assert tracking.search_runs(learner="o'brien").empty  # quotes do not break the filter


def test_grid_search_parent_and_children(data) -> None:
    seen = []
    result = tracking.grid_search(
        data,
        "ana",
        {"decision_tree": [{"max_depth": 2}, {"max_depth": 5}], "logistic_regression": [{"C": 1.0}]},
        progress=lambda done, total, label: seen.append((done, total)),
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    children = tracking.search_runs(learner="ana")
    assert len(children) == 3
    assert set(children["parent_run_id"]) == {result.parent_run_id}
    parent = tracking.client().get_run(result.parent_run_id)
    assert parent.data.tags["best_run_id"] == result.best.run_id
    assert parent.data.metrics["best_f1"] == pytest.approx(max(c.metrics["f1"] for c in result.children))
    assert len(tracking.search_runs(include_parents=True)) == 4


def test_compare_runs(data) -> None:
    a = tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "ana")
    b = tracking.train_and_log(data, "decision_tree", {"max_depth": 6}, "ana")
    c = tracking.train_and_log(data, "logistic_regression", {"C": 0.1}, "ana")
    comparison = tracking.compare_runs([a.run_id, b.run_id, c.run_id])
    assert set(comparison.differing_params) == {"C", "max_depth", "min_samples_leaf", "model"}
    assert "seed" not in comparison.differing_params
    assert comparison.metrics.loc["f1", comparison.runs.run_name[0]] == pytest.approx(a.metrics["f1"])
    bars = tracking.metric_bars_figure(comparison, "en")
    assert len(bars.data) == 3 and list(bars.data[0].x)[0] == "Accuracy"
    parallel = tracking.parallel_coordinates_figure(comparison)
    axes = {d.label: d for d in tracking.parallel_coordinates_figure(comparison, "en").data[0].dimensions}
    assert {"Model", "C (inverse regularisation strength)", "Maximum depth", "Minimum samples per leaf", "F1"} <= set(
        axes
    )  # families differ: axes stay
    assert "ROC-AUC" in axes and "roc_auc" not in axes  # axes named in words, not keys
    depth = axes["Maximum depth"]
    assert list(depth.ticktext) == [tracking.NOT_APPLICABLE, "2", "6"]  # the regression has no depth
    assert [depth.ticktext[int(v)] for v in depth.values] == ["2", "6", tracking.NOT_APPLICABLE]
    model = axes["Model"]
    tree, regression = translate("model.name_decision_tree", "en"), translate("model.name_logistic_regression", "en")
    assert [model.ticktext[int(v)] for v in model.values] == [tree, tree, regression]
    same = tracking.compare_runs([a.run_id, b.run_id])  # one family: plain numeric axes
    assert list(
        next(
            d for d in tracking.parallel_coordinates_figure(same, "en").data[0].dimensions if d.label == "Maximum depth"
        ).values
    ) == [2, 6]
    assert parallel.layout.separators == ",\u202f"  # 0,85 in French
    with pytest.raises(tracking.TrackingError):
        tracking.compare_runs([a.run_id])
    with pytest.raises(tracking.TrackingError, match="not found"):
        tracking.compare_runs([a.run_id, "0" * 32])


def test_runs_with_the_same_name_get_distinct_labels(data) -> None:
    assert tracking.run_labels(["a" * 32, "b" * 32, "c" * 32], ["x", "y", "x"]) == [
        f"x · {'a' * 8}",
        "y",
        f"x · {'c' * 8}",
    ]
    assert tracking.run_labels(["d" * 32], [None]) == ["d" * 8]
    first, second = (tracking.train_and_log(data, "logistic_regression", {"C": 1.0}, "ana") for _ in range(2))
    comparison = tracking.compare_runs([first.run_id, second.run_id])
    assert list(comparison.metrics.columns) == [
        f"{first.run_name} · {first.run_id[:8]}",
        f"{second.run_name} · {second.run_id[:8]}",
    ]


def test_registry_aliases_promote_and_rollback(data) -> None:
    runs = [tracking.train_and_log(data, "logistic_regression", {"C": c}, "ana") for c in (0.1, 1.0, 10.0)]
    v1, v2, v3 = (tracking.register_run_model(r.run_id, "ana", f"C run {i}") for i, r in enumerate(runs, 1))
    assert (v1.version, v2.version, v3.version) == (1, 2, 3)
    assert v1.description == "C run 1" and v1.tags["learner"] == "ana"
    assert tracking.aliases() == {}
    with pytest.raises(tracking.TrackingError, match="staging"):
        tracking.promote_staging("ana")

    tracking.set_alias("staging", 1, "ana")
    assert tracking.promote_staging("ana") == 1
    tracking.set_alias("staging", 2, "ana")
    tracking.promote_staging("ana")
    tracking.set_alias("production", 3, "ana")
    assert tracking.aliases() == {"staging": 2, "production": 3}
    listed = {v.version: v.aliases for v in tracking.list_versions()}
    assert listed == {3: ("production",), 2: ("staging",), 1: ()}

    assert tracking.rollback_production("ana") == 2
    assert tracking.rollback_production("ana") == 1  # walks back in time, no ping-pong
    with pytest.raises(tracking.TrackingError, match="no earlier"):
        tracking.rollback_production("ana")
    assert [h["action"] for h in tracking.production_history()] == ["promote"] * 3 + ["rollback"] * 2

    tracking.set_alias("challenger", 3, "ana")
    tracking.delete_alias("challenger", "ana")
    assert "challenger" not in tracking.aliases()
    with pytest.raises(tracking.TrackingError, match="unknown alias"):
        tracking.set_alias("prod", 1, "ana")
    with pytest.raises(tracking.TrackingError, match="does not exist"):
        tracking.set_alias("staging", 99, "ana")

    tracking.set_description(2, "better")
    tracking.set_version_tag(2, "reviewed", "yes")
    v2 = tracking.get_version(2)
    assert v2.description == "better" and v2.tags["reviewed"] == "yes"


def test_load_model_by_alias_predicts_like_the_pipeline(data) -> None:
    result = train_model(data, "gradient_boosting", {"max_iter": 20})
    logged = tracking.log_training_run(result, data, "ana")
    version = tracking.register_run_model(logged.run_id, "ana")
    tracking.set_alias("production", version.version, "ana")
    loaded = tracking.load_model("production")
    X = data.drop(columns=["Loan_ID", "Loan_Status"])
    pd.testing.assert_series_equal(
        pd.Series(loaded.predict_proba(X)[:, 1]), pd.Series(result.pipeline.predict_proba(X)[:, 1])
    )
    preds = tracking.predict_with_alias(data.head(5))
    assert list(preds.columns) == ["prediction", "probability"]
    with pytest.raises(tracking.TrackingError, match="challenger"):
        tracking.load_model("challenger")


def test_untrusted_types_are_refused() -> None:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    odd = Pipeline([("f", FunctionTransformer(json.dumps))])
    with pytest.raises(tracking.TrackingError, match="trusted list"):
        tracking.trusted_types_for(odd)


def test_register_unknown_run() -> None:
    with pytest.raises(tracking.TrackingError, match="not found"):
        tracking.register_run_model("0" * 32, "ana")


def test_checks_follow_the_learner_work(data) -> None:
    ctx = _ctx()
    assert "No run logged" in tracking.check_run_with_f1(ctx).missing[0]
    low = tracking.train_and_log(data, "decision_tree", {"max_depth": 1}, "ana")

    assert not tracking.check_compared_runs(ctx).passed
    others = [tracking.train_and_log(data, "logistic_regression", {"C": c}, "ana") for c in (0.1, 1.0)]
    tracking.record_comparison(get_settings(), "ana", [low.run_id, others[0].run_id])
    assert "2 runs;" in tracking.check_compared_runs(ctx).missing[0]
    tracking.record_comparison(get_settings(), "ana", [low.run_id, *[o.run_id for o in others]])
    assert tracking.check_compared_runs(ctx).passed
    assert not tracking.check_compared_runs(_ctx("bob")).passed

    assert "not registered" in tracking.check_production_alias(ctx).missing[0]
    v1 = tracking.register_run_model(others[0].run_id, "ana")
    assert "not pointed" in tracking.check_production_alias(ctx).missing[0]
    tracking.set_alias("production", v1.version, "ana")
    assert tracking.check_production_alias(ctx).passed
    assert not tracking.check_production_alias(_ctx("bob")).passed

    assert not tracking.check_rolled_back(ctx).passed
    v2 = tracking.register_run_model(others[1].run_id, "ana")
    tracking.set_alias("production", v2.version, "ana")
    tracking.rollback_production("ana")
    done = tracking.check_rolled_back(_ctx(lang="fr"))
    assert done.passed and "ramenée de la version 2 à la version 1" in done.detail


def test_best_run_exercise_asks_to_search_and_to_find_the_best(data) -> None:
    """The first click (one run with the form's defaults) does not pass; trying settings and marking the one
    with the best F1 does; marking another one does not."""
    ctx = _ctx()
    first = tracking.train_and_log(data, "logistic_regression", {}, "ana")  # the Track tab's defaults
    tracking.mark_best_run(first.run_id, "ana")
    result = tracking.check_run_with_f1(ctx)
    assert not result.passed and "You tried 1 different setting(s)" in result.missing[0]
    tracking.train_and_log(data, "logistic_regression", {}, "ana")  # the same settings again: not a new try
    tried = [
        tracking.train_and_log(data, m, p, "ana")
        for m, p in (
            ("decision_tree", {"max_depth": 1}),
            ("decision_tree", {"max_depth": 8, "min_samples_leaf": 1}),
            ("random_forest", {"n_estimators": 20, "max_depth": 2}),
        )
    ]
    runs = [first, *tried]
    best = max(runs, key=lambda r: r.metrics["f1"])
    worst = min(runs, key=lambda r: r.metrics["f1"])
    assert best.metrics["f1"] > worst.metrics["f1"]
    tracking.mark_best_run(worst.run_id, "ana")
    assert tracking.best_runs("ana") == [worst.run_id]  # one best at a time
    result = tracking.check_run_with_f1(ctx)
    assert not result.passed and "another of your 4 settings does better" in result.missing[0]
    tracking.mark_best_run(best.run_id, "ana")
    result = tracking.check_run_with_f1(_ctx(lang="fr"))
    assert result.passed and "parmi vos 4 réglages" in result.detail
    with pytest.raises(tracking.TrackingError, match="not one of bob's runs"):
        tracking.mark_best_run(best.run_id, "bob")
    assert "No run logged" in tracking.check_run_with_f1(_ctx("bob")).missing[0]


def _log_runs(uri_env: dict, worker: int, n: int) -> None:
    import os

    os.environ.update(uri_env)
    from workbench.core import tracking as tr
    from workbench.core.data import generate_loan_data as gen
    from workbench.core.settings import get_settings as gs

    gs.cache_clear()
    frame = gen(200, seed=worker)
    for i in range(n):
        tr.train_and_log(frame, "decision_tree", {"max_depth": 1 + i}, f"worker{worker}")


def test_four_processes_logging_at_once_lose_no_run(isolated_state) -> None:
    env = {"WORKBENCH_STATE_DIR": str(isolated_state), "MLFLOW_TRACKING_URI": get_settings().mlflow_tracking_uri}
    tracking.experiment_id()  # create the experiment first, as the page does
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_log_runs, args=(env, w, 3)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
        assert proc.exitcode == 0
    runs = tracking.search_runs()
    assert len(runs) == 12
    assert runs.groupby("learner").size().to_dict() == {f"worker{w}": 3 for w in range(4)}


def test_four_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path) -> None:
    """MLflow migrates a new SQLite file on first use; concurrent first uses must not break each other."""
    env = dict(os.environ, WORKBENCH_STATE_DIR=str(tmp_path), MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}")
    code = "from workbench.core import tracking; print(tracking.aliases(), tracking.experiment_id())"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [(proc.communicate(timeout=180)[1], proc.returncode) for proc in procs]
    assert [code for _, code in results] == [0, 0, 0, 0], [err.strip().splitlines()[-1:] for err, _ in results]


def test_store_survives_a_restart(data, isolated_state) -> None:
    logged = tracking.train_and_log(data, "logistic_regression", None, "ana")
    version = tracking.register_run_model(logged.run_id, "ana")
    tracking.set_alias("production", version.version, "ana")
    code = (
        "from workbench.core import tracking; import json; "
        "print(json.dumps([list(tracking.search_runs()['run_id']), tracking.aliases()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    run_ids, aliases = json.loads(out.stdout.strip().splitlines()[-1])
    assert run_ids == [logged.run_id] and aliases == {"production": 1}


def test_filter_runs_gives_what_search_runs_gives(data) -> None:
    tracking.train_and_log(data, "logistic_regression", {"C": 0.1}, "ana")
    tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "ana")
    tracking.train_and_log(data, "logistic_regression", {"C": 1.0}, "bob")
    everything = tracking.search_runs()
    cases = [
        {},
        {"learner": "ana"},
        {"learner": "bob", "model": "logistic_regression"},
        {"model": "decision_tree"},
        {"metric": "f1", "min_metric": 0.8},
        {"metric": "roc_auc", "min_metric": 0.99},
    ]
    for case in cases:
        expected = list(tracking.search_runs(**case)["run_id"])
        assert list(tracking.filter_runs(everything, **case)["run_id"]) == expected, case
    assert len(tracking.filter_runs(everything, learner="ana")) == 2


AWKWARD_NAMES = ["O'Brien", "x\\", 'Say "hi"', 'O\'Brien "Bob"', "O_Brien _Bob_", "50%_x", "a\\' and tags.x = 'y"]


def test_every_learner_finds_exactly_their_runs_whatever_their_name(data) -> None:
    """Quotes and backslashes in a name neither break the search nor let another learner's runs in."""
    from workbench.chapters.ch05_mlflow import tracking_code

    result = train_model(data, "decision_tree", {"max_depth": 2})
    logged = {name: tracking.log_training_run(result, data, name).run_id for name in AWKWARD_NAMES}
    everything = tracking.search_runs()
    for name, run_id in logged.items():
        assert list(tracking.search_runs(learner=name)["run_id"]) == [run_id], name
        assert list(tracking.filter_runs(everything, learner=name)["run_id"]) == [run_id], name
        assert tracking.check_run_with_f1(_ctx(name), target=0.0).passed, name
        namespace: dict = {}
        exec(tracking_code.search_runs_code(name, "decision_tree", "f1", 0.0), namespace)  # noqa: S102
        assert list(namespace["runs"]["run_id"]) == [run_id], name
    assert tracking.search_runs(learner="O'Brien", model="logistic_regression").empty


def test_three_processes_moving_production_at_once_lose_no_history_entry(data, isolated_state) -> None:
    """Rollback and two checks read the history: 3 processes x 20 moves must leave 60 entries."""
    for i in range(2):
        logged = tracking.train_and_log(data, "logistic_regression", {"C": 1.0 + i}, "ana")
        tracking.register_run_model(logged.run_id, "ana")
    env = dict(
        os.environ, WORKBENCH_STATE_DIR=str(isolated_state), MLFLOW_TRACKING_URI=get_settings().mlflow_tracking_uri
    )
    code = (
        "import sys; from workbench.core import tracking\n"
        "for i in range(20): tracking.set_alias('production', 1 + i % 2, f'proc{sys.argv[1]}')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(w)], env=env, stderr=subprocess.PIPE, text=True)
        for w in range(3)
    ]
    errors = [proc.communicate(timeout=600)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [e.strip().splitlines()[-1:] for e in errors]
    history = tracking.production_history()
    assert len(history) == 60
    assert {h["learner"]: 0 for h in history} == {"proc0": 0, "proc1": 0, "proc2": 0}
    assert all(sum(h["learner"] == f"proc{w}" for h in history) == 20 for w in range(3))
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_history_written_the_old_way_is_still_read(data) -> None:
    logged = tracking.train_and_log(data, "logistic_regression", None, "ana")
    tracking.register_run_model(logged.run_id, "ana")
    old = [{"action": "promote", "version": 1, "previous": None, "learner": "old", "at": 1.0}]
    tracking.client().set_registered_model_tag("loan-approval", tracking.HISTORY_TAG, json.dumps(old))
    tracking.set_alias("production", 1, "new")
    assert [h["learner"] for h in tracking.production_history()] == ["old", "new"]


def test_history_keeps_the_last_hundred_moves(data, monkeypatch) -> None:
    logged = tracking.train_and_log(data, "logistic_regression", None, "ana")
    tracking.register_run_model(logged.run_id, "ana")
    monkeypatch.setattr(tracking.registry, "HISTORY_KEEP", 5)  # where the history is trimmed
    for i in range(8):
        tracking.set_alias("production", 1, f"l{i}")
    assert [h["learner"] for h in tracking.production_history()] == [f"l{i}" for i in range(3, 8)]
