"""Chapter X: a retraining strategy chosen from data, replayed for real on the learner's own timeline.

Each learner gets 20 weeks of production where the concept drifts from a learner-specific week (labels
arrive two weeks late). The page shows the data a team would have — each week's largest PSI against the
training data and the accuracy of the model in place, once its labels arrive — and asks for a strategy
(never, periodic every N weeks, triggered by data drift above a PSI threshold, triggered by accuracy below
a threshold) and its parameter, under a budget of retrainings. The check replays the learner's choice with
`simulate_retraining` (the model is really retrained on the latest labelled weeks when triggered), replays a
grid of alternatives the same way, and passes when the choice stays within the budget and keeps a mean
accuracy within `MARGIN` of the best strategy of the grid within that budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.chapters.ch10_monitoring.drift.retraining import max_psi, simulate_retraining
from workbench.chapters.ch10_monitoring.drift.simulation import (
    Timeline,
    _seed,
    fit_model,
    predicted_labels,
    simulate_timeline,
)
from workbench.core.data import TARGET
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

RECORD_KEY = "ch10_monitoring/strategy.json"  # the learner's chosen strategy and parameter
BUDGET = 2  # retrainings allowed over the 20 weeks
MARGIN = 0.01  # mean accuracy the choice may lose against the best strategy within budget
LABEL_DELAY = 2
WEEKS = 20
#: the parameter each strategy takes: (min, max, step); `never` takes none
PARAMETERS: dict[str, tuple[float, float, float] | None] = {
    "never": None,
    "periodic": (1, 10, 1),
    "data_drift": (0.05, 0.5, 0.05),
    "accuracy": (0.5, 0.9, 0.01),
}
GRID: tuple[tuple[str, float | None], ...] = (
    ("never", None),
    *(("periodic", float(p)) for p in (2, 3, 4, 5, 6, 8, 10)),
    *(("data_drift", t) for t in (0.1, 0.2, 0.3)),
    *(("accuracy", t) for t in (0.65, 0.7, 0.75, 0.8)),
)


def strategy_timeline(learner: str) -> Timeline:
    """The learner's 20 weeks: concept drift from a learner-specific week (between 6 and 11)."""
    key = learner.strip().casefold()
    start = 6 + _seed("strategy-start", key) % 6
    return simulate_timeline("concept", None, weeks=WEEKS, start_week=start, batch_size=200, seed=_seed("st", key))


def observed_data(learner: str, reference: pd.DataFrame) -> pd.DataFrame:
    """What a team sees week by week without retraining: the largest PSI of the week's inputs against the
    training data, and the accuracy of the model in place (known `LABEL_DELAY` weeks later)."""
    timeline = strategy_timeline(learner)
    model = fit_model(reference)
    rows = []
    for week, batch in zip(timeline.weeks, timeline.batches):
        accuracy = float(np.mean(predicted_labels(model, batch) == batch[TARGET].to_numpy()))
        rows.append(
            {"week": week, "max_psi": max_psi(reference, batch), "accuracy": accuracy, "known": week + LABEL_DELAY}
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Outcome:
    """A strategy replayed: how often it retrained (the cost) and the mean weekly accuracy kept (the benefit)."""

    strategy: str
    parameter: float | None
    retrainings: int
    accuracy: float


def replay(
    learner: str, reference: pd.DataFrame, strategy: str, parameter: float | None, fitted: dict | None = None
) -> Outcome:
    """Replay one strategy on the learner's timeline, retraining for real when it triggers (`fitted`: a memo
    of the models already fitted on this learner's timeline and reference, see `simulate_retraining`).

    Raises:
        ValueError: unknown strategy or a parameter outside its range.
    """
    if strategy not in PARAMETERS:
        raise ValueError(f"unknown strategy {strategy!r}")
    bounds = PARAMETERS[strategy]
    if bounds is not None and (parameter is None or not bounds[0] <= parameter <= bounds[1]):
        raise ValueError(f"{strategy}: parameter must be within {bounds[0]}–{bounds[1]}")
    options: dict = {"strategies": (strategy,), "label_delay": LABEL_DELAY, "fitted": fitted}
    if strategy == "periodic":
        options["period"] = int(parameter or 1)
    elif strategy == "data_drift":
        options["psi_threshold"] = float(parameter or 0)
    elif strategy == "accuracy":
        options["threshold"] = float(parameter or 0)
    run = simulate_retraining(strategy_timeline(learner), reference, **options).runs[strategy]
    return Outcome(strategy, parameter, run.retrainings, float(run.accuracy.mean()))


@lru_cache(maxsize=32)
def _grid(learner: str, data_key: tuple) -> tuple[Outcome, ...]:
    from workbench.core.data import load_course_data

    reference, fitted = load_course_data(Path(data_key[0])), {}  # one memo: strategies share their models
    return tuple(replay(learner, reference, s, p, fitted) for s, p in GRID)


def grid_outcomes(learner: str, settings: Settings) -> tuple[Outcome, ...]:
    """Every strategy of the grid replayed on the learner's timeline (cached per learner and data file)."""
    path = Path(settings.data_path)
    stat = path.stat()
    return _grid(learner.strip().casefold(), (str(path), stat.st_mtime_ns, stat.st_size))


def best_within(outcomes: tuple[Outcome, ...], budget: int = BUDGET) -> Outcome:
    """The outcome keeping the most accuracy with at most `budget` retrainings (the cheapest on a tie)."""
    return max((o for o in outcomes if o.retrainings <= budget), key=lambda o: (o.accuracy, -o.retrainings))


def load_choice(settings: Settings, learner: str) -> dict:
    """The learner's saved choice (empty when none)."""
    data = records_for(settings, learner).get_json(RECORD_KEY, {})
    return data if isinstance(data, dict) else {}


def save_choice(settings: Settings, learner: str, strategy: str, parameter: float | None, outcome: Outcome) -> None:
    """Save the learner's choice with what its replay gave."""
    records_for(settings, learner).put_json(
        RECORD_KEY,
        {
            "strategy": strategy,
            "parameter": parameter,
            "retrainings": outcome.retrainings,
            "accuracy": outcome.accuracy,
        },
    )


def check_retraining_strategy(ctx: CheckContext, budget: int = BUDGET, margin: float = MARGIN) -> CheckResult:
    """Passed when the learner's saved strategy, replayed on their timeline, stays within the budget and
    keeps a mean accuracy within `margin` of the best strategy of the grid within that budget."""
    from workbench.core.data import load_course_data

    lang = ctx.lang
    choice = load_choice(ctx.settings, ctx.learner)
    if not choice.get("strategy"):
        return failed(translate("strategy.check_no_choice", lang))
    strategy, parameter = str(choice["strategy"]), choice.get("parameter")
    try:
        mine = replay(ctx.learner, load_course_data(ctx.settings.data_path), strategy, parameter)
    except ValueError:
        return failed(translate("strategy.check_invalid", lang))
    best = best_within(grid_outcomes(ctx.learner, ctx.settings), budget)
    evidence = {
        "strategy": strategy,
        "parameter": parameter,
        "retrainings": mine.retrainings,
        "accuracy": mine.accuracy,
    }
    name = translate(f"strategy.name_{strategy}", lang)
    if mine.retrainings > budget:
        return failed(
            translate("strategy.check_over_budget", lang, name=name, n=mine.retrainings, budget=budget),
            evidence=evidence,
        )
    if mine.accuracy < best.accuracy - margin:
        return failed(
            translate(
                "strategy.check_too_low",
                lang,
                name=name,
                accuracy=mine.accuracy,
                n=mine.retrainings,
                best=best.accuracy,
                budget=budget,
            ),
            evidence=evidence,
        )
    return passed(
        translate("strategy.check_ok", lang, name=name, accuracy=mine.accuracy, n=mine.retrainings, best=best.accuracy),
        evidence=evidence,
    )
