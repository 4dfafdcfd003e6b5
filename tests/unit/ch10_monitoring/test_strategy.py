"""Chapter X: a retraining strategy chosen from the learner's own data, replayed for real by the check."""

from __future__ import annotations

import numpy as np
import pytest
from workbench.chapters.ch10_monitoring import strategy
from workbench.chapters.ch10_monitoring.drift import simulate_retraining, simulate_timeline
from workbench.core.data import load_course_data
from workbench.core.exercises import CheckContext, load_exercises, run_check
from workbench.core.settings import get_settings

LEARNER = "test-learner"


def _check(lang: str = "en"):
    exercise = next(h for h in load_exercises("10_monitoring").hands_on if h.id == "retraining-strategy")
    return run_check(exercise, CheckContext(LEARNER, lang, get_settings()))


def _choose(name: str, parameter: float | None):
    settings = get_settings()
    outcome = strategy.replay(LEARNER, load_course_data(settings.data_path), name, parameter)
    strategy.save_choice(settings, LEARNER, name, parameter, outcome)
    return outcome


def test_the_check_fails_before_a_choice_on_defaults_and_wrong_choices_and_passes_on_the_best() -> None:
    before = _check()
    assert not before.passed and "Choose a strategy" in before.missing[0]
    grid = strategy.grid_outcomes(LEARNER, get_settings())
    best = strategy.best_within(grid)
    never = next(o for o in grid if o.strategy == "never")
    assert never.accuracy < best.accuracy - strategy.MARGIN  # doing nothing is never the answer on this data
    assert best.retrainings <= strategy.BUDGET
    # what the page's sliders start on (data drift at 0.5, accuracy at 0.5) retrains nothing useful
    for name, parameter in (("never", None), ("data_drift", 0.5), ("accuracy", 0.5)):
        _choose(name, parameter)
        result = _check()
        assert not result.passed and "another strategy" in result.missing[0], (name, result)
    over = _choose("periodic", 1.0)
    result = _check("fr")
    assert over.retrainings > strategy.BUDGET
    assert not result.passed and "le budget est de 2" in result.missing[0]
    mine = _choose(best.strategy, best.parameter)
    assert mine == best  # the replay is deterministic: the check's grid and the page agree
    result = _check("fr")
    assert result.passed, result
    assert f"{best.accuracy:.3f}".replace(".", ",") in result.detail
    assert result.evidence["retrainings"] == best.retrainings


def test_the_learners_data_shows_the_drift_without_any_strategy_s_result() -> None:
    data = strategy.observed_data(LEARNER, load_course_data(get_settings().data_path))
    start = strategy.strategy_timeline(LEARNER).start_week
    assert list(data.columns) == ["week", "max_psi", "accuracy", "known"]
    assert len(data) == strategy.WEEKS and (data["known"] == data["week"] + strategy.LABEL_DELAY).all()
    before, after = data[data["week"] < start], data[data["week"] >= start]
    assert before["accuracy"].mean() > after["accuracy"].mean() + 0.05  # concept drift: accuracy drops…
    assert abs(before["max_psi"].mean() - after["max_psi"].mean()) < 0.1  # …while the inputs barely move


def test_each_learner_gets_their_own_timeline() -> None:
    assert strategy.strategy_timeline("ana").batches[0].equals(strategy.strategy_timeline(" ANA ").batches[0])
    assert not strategy.strategy_timeline("ana").batches[0].equals(strategy.strategy_timeline("bob").batches[0])


@pytest.mark.parametrize("name, parameter", [("periodic", 0.0), ("data_drift", None), ("accuracy", 2.0), ("x", 1)])
def test_invalid_choices_are_refused(name, parameter) -> None:
    with pytest.raises(ValueError):
        strategy.replay(LEARNER, load_course_data(get_settings().data_path), name, parameter)


def test_a_saved_invalid_choice_fails_with_a_message() -> None:
    from workbench.core.records import records_for

    records_for(get_settings(), LEARNER).put_json(strategy.RECORD_KEY, {"strategy": "periodic", "parameter": 99})
    result = _check("fr")
    assert not result.passed and "pas une stratégie valide" in result.missing[0]


def test_the_memo_of_fitted_models_changes_no_result() -> None:
    reference = load_course_data(get_settings().data_path)
    timeline = simulate_timeline("concept", None, weeks=8, start_week=4, batch_size=120, seed=2)
    memo: dict = {}
    for period, psi in ((2, 0.1), (3, 0.2)):
        plain = simulate_retraining(timeline, reference, period=period, psi_threshold=psi)
        shared = simulate_retraining(timeline, reference, period=period, psi_threshold=psi, fitted=memo)
        for name, run in plain.runs.items():
            assert run.retrain_weeks == shared.runs[name].retrain_weeks
            np.testing.assert_allclose(run.accuracy, shared.runs[name].accuracy)
    assert any(key[0] == "model" for key in memo)
