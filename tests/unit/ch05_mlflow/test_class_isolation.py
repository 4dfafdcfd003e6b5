"""Learners isolated in one MLflow store (class mode), against a real SQLite store; solo mode as before."""

from __future__ import annotations

import pandas as pd
import pytest
from workbench.core import tracking
from workbench.core.data import generate_loan_data
from workbench.core.exercises import CheckContext
from workbench.core.settings import get_settings

pytestmark = pytest.mark.usefixtures("mlflow_store")

ANA, BOB = "Ana", "Bob"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return generate_loan_data()


@pytest.fixture
def class_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_MODE", "class")
    get_settings.cache_clear()


def _train_register_promote(data: pd.DataFrame, learner: str, depth: int) -> tracking.LoggedRun:
    logged = tracking.train_and_log(data, "decision_tree", {"max_depth": depth}, learner)
    version = tracking.register_run_model(logged.run_id, learner).version
    tracking.set_alias("staging", version, learner)
    tracking.promote_staging(learner)
    return logged


def _registered_models() -> set[str]:
    return {m.name for m in tracking.client().search_registered_models()}


def _error_key(info: pytest.ExceptionInfo) -> str:
    return info.value.key


@pytest.mark.usefixtures("class_mode")
def test_two_learners_each_train_register_and_promote_their_own_model(data) -> None:
    settings = get_settings()
    ana = _train_register_promote(data, ANA, 2)
    bob = _train_register_promote(data, BOB, 3)
    ana_model, bob_model = settings.learner_model_name(ANA), settings.learner_model_name(BOB)
    assert ana_model != bob_model and ana_model.startswith("loan-approval-Ana-")
    assert _registered_models() == {ana_model, bob_model}  # nothing in the shared `loan-approval`

    assert list(tracking.search_runs(learner=ANA)["run_id"]) == [ana.run_id]
    assert list(tracking.search_runs(learner=BOB)["run_id"]) == [bob.run_id]
    assert [(v.version, v.run_id) for v in tracking.list_versions(learner=ANA)] == [(1, ana.run_id)]
    assert [(v.version, v.run_id) for v in tracking.list_versions(learner=BOB)] == [(1, bob.run_id)]
    assert tracking.aliases(learner=ANA) == {"staging": 1, "production": 1}
    assert [h["learner"] for h in tracking.production_history(learner=BOB)] == [BOB]
    assert (
        tracking.get_version(1, learner=ANA).tags["workbench.learner"]
        != tracking.get_version(1, learner=BOB).tags["workbench.learner"]
    )
    model = tracking.load_model("production", learner=ANA)
    assert model.predict_proba(data.drop(columns="Loan_Status").head(2)).shape == (2, 2)

    for learner in (ANA, BOB):  # each one's exercise checks read their own model
        ctx = CheckContext(learner, "en", settings)
        assert tracking.check_production_alias(ctx).passed


@pytest.mark.usefixtures("class_mode")
def test_a_learner_cannot_see_or_move_another_learners_work(data) -> None:
    settings = get_settings()
    _train_register_promote(data, ANA, 2)
    bob = _train_register_promote(data, BOB, 3)
    bob_model = settings.learner_model_name(BOB)
    before = tracking.aliases(learner=BOB)

    for call in (
        lambda: tracking.set_alias("production", 1, ANA, model=bob_model),
        lambda: tracking.delete_alias("production", ANA, model=bob_model),
        lambda: tracking.promote_staging(ANA, model=bob_model),
        lambda: tracking.rollback_production(ANA, model=bob_model),
        lambda: tracking.set_description(1, "mine now", learner=ANA, model=bob_model),
        lambda: tracking.set_version_tag(1, "k", "v", learner=ANA, model=bob_model),
        lambda: tracking.list_versions(learner=ANA, model=bob_model),
        lambda: tracking.aliases(learner=ANA, model=bob_model),
        lambda: tracking.production_history(learner=ANA, model=bob_model),
        lambda: tracking.load_model("production", learner=ANA, model=bob_model),
        lambda: tracking.register_run_model(bob.run_id, ANA, model=bob_model),
    ):
        with pytest.raises(tracking.TrackingError) as info:
            call()
        assert _error_key(info) == "model_not_yours"
    assert "Bob" in info.value.message("en") and "own model" in info.value.message("en")
    assert tracking.aliases(learner=BOB) == before
    assert tracking.get_version(1, learner=BOB).description == ""

    for call in (  # Bob's runs, by id: neither shown, compared, registered nor marked by Ana
        lambda: tracking.run_detail(bob.run_id, "en", learner=ANA),
        lambda: tracking.compare_runs([bob.run_id, tracking.search_runs(learner=ANA)["run_id"].iloc[0]], learner=ANA),
        lambda: tracking.register_run_model(bob.run_id, ANA),
        lambda: tracking.mark_best_run(bob.run_id, ANA),
    ):
        with pytest.raises(tracking.TrackingError) as info:
            call()
        assert _error_key(info) == "run_not_yours"
    assert [v.run_id for v in tracking.list_versions(learner=ANA)] != [bob.run_id]

    with pytest.raises(tracking.TrackingError) as info:  # no listing of the whole class
        tracking.search_runs()
    assert _error_key(info) == "learner_required"
    with pytest.raises(tracking.TrackingError):
        tracking.list_versions()


@pytest.mark.usefixtures("class_mode")
def test_look_alike_names_do_not_share_runs_or_models(data) -> None:
    settings = get_settings()
    tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "bob_")
    tracking.train_and_log(data, "decision_tree", {"max_depth": 2}, "bob'")
    assert tracking.search_runs(learner="bob?").empty  # LIKE would match both: the key tag is exact
    assert len(tracking.search_runs(learner="bob_")) == 1 and len(tracking.search_runs(learner="bob'")) == 1
    assert settings.learner_model_name("bob_") != settings.learner_model_name("bob'")


def test_solo_mode_keeps_one_shared_model_and_every_run(data) -> None:
    settings = get_settings()
    assert not settings.class_mode
    ana = _train_register_promote(data, ANA, 2)
    bob = _train_register_promote(data, BOB, 3)
    assert _registered_models() == {"loan-approval"}
    assert [v.run_id for v in tracking.list_versions()] == [bob.run_id, ana.run_id]
    assert tracking.aliases() == {"staging": 2, "production": 2}
    assert set(tracking.search_runs()["run_id"]) == {ana.run_id, bob.run_id}
    # the laptop's learner may still work on a model they name
    tracking.set_alias("challenger", 1, ANA, model="loan-approval")
    assert tracking.resolve_alias("challenger", learner=BOB) == 1
    assert tracking.run_detail(bob.run_id, "en", learner=ANA).run_id == bob.run_id
