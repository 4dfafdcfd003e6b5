"""The learner's saved answers and the hands-on checks (A/B tests, bandits, business value)."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from workbench.chapters.ch11_post_production.ab_tests.ab_test import sample_size
from workbench.chapters.ch11_post_production.ab_tests.bandits import (
    DEFAULT_EPSILON,
    DEFAULT_HORIZON,
    DEFAULT_RATES,
    STRATEGIES,
    BanditResult,
    simulate_bandits,
)
from workbench.chapters.ch11_post_production.ab_tests.business import best_threshold, build_portfolio, profit_curve
from workbench.core.exercises import CheckContext, CheckResult, failed, passed
from workbench.core.i18n import translate
from workbench.core.records import records_for
from workbench.core.settings import Settings

# --------------------------------------------------------------------------------------------
# The learner's saved answers and the hands-on checks
# --------------------------------------------------------------------------------------------


ANSWERS_KEY = "ch11_post_production/ab_answers.json"  # the learner's A/B test, bandit and threshold answers


def load_answers(settings: Settings, learner: str) -> dict:
    """The learner's saved answers (empty when none or unreadable)."""
    data = records_for(settings, learner).get_json(ANSWERS_KEY, {})
    return data if isinstance(data, dict) else {}


def save_answer(settings: Settings, learner: str, key: str, value: Any) -> dict:
    """Save one answer (`sample_size`, `bandit_choice`, `threshold`), atomically."""
    return records_for(settings, learner).update_json(ANSWERS_KEY, {key: value, f"{key}_at": time.time()})


def _result(ok: bool, ctx: CheckContext, key: str, score: float | None = None, **values: Any) -> CheckResult:
    text = translate(f"experiments.{key}", ctx.lang, **values)
    evidence = {k: v for k, v in values.items() if isinstance(v, int | float | str)}
    return passed(text, score=score, evidence=evidence) if ok else failed(text, evidence=evidence)


def check_sample_size(
    ctx: CheckContext,
    baseline: float = 0.10,
    mde: float = -0.02,
    alpha: float = 0.05,
    power: float = 0.8,
    tolerance: float = 0.05,
) -> CheckResult:
    """Passed when the saved sample size per arm is within `tolerance` (relative) of the computed one."""
    answer = load_answers(ctx.settings, ctx.learner).get("sample_size")
    if answer is None:
        return _result(False, ctx, "check_ss_none")
    expected = sample_size(baseline, mde, alpha, power).n_per_arm
    try:
        given = float(answer)
    except (TypeError, ValueError):
        return _result(False, ctx, "check_ss_none")
    error = abs(given - expected) / expected
    if error <= tolerance:
        return _result(True, ctx, "check_ss_ok", score=1 - error, given=int(given), expected=expected)
    return _result(False, ctx, "check_ss_off", given=int(given), error=error, tolerance=tolerance)


def is_default_bandit_run(result: BanditResult) -> bool:
    """The simulation the bandit exercise is about: default arms, horizon and ε (any number of runs)."""
    return (
        len(result.rates) == len(DEFAULT_RATES)
        and np.allclose(result.rates, DEFAULT_RATES)
        and result.horizon == DEFAULT_HORIZON
        and math.isclose(result.epsilon, DEFAULT_EPSILON)
    )


def record_bandit_run(settings: Settings, learner: str, result: BanditResult) -> None:
    """Remember that the learner ran the exercise's simulation, and what it showed them."""
    if is_default_bandit_run(result):
        save_answer(
            settings,
            learner,
            "bandit_default_run",
            {"runs": result.runs, "final_regret": result.final_regret, "best": result.best_strategy},
        )


def check_lowest_regret(ctx: CheckContext, horizon: int = DEFAULT_HORIZON, runs: int = 5) -> CheckResult:
    """Passed when the learner ran the default simulation, then saved the strategy with the lowest regret
    on it (replayed here, seeded)."""
    answers = load_answers(ctx.settings, ctx.learner)
    choice = answers.get("bandit_choice")
    if choice not in STRATEGIES:
        return _result(False, ctx, "check_bandit_none")
    ran_at, chosen_at = answers.get("bandit_default_run_at"), answers.get("bandit_choice_at")
    if not isinstance(answers.get("bandit_default_run"), dict) or ran_at is None or (chosen_at or 0) < ran_at:
        return _result(
            False,
            ctx,
            "check_bandit_not_run",
            rates=", ".join(f"{r:.0%}" for r in DEFAULT_RATES),
            horizon=DEFAULT_HORIZON,
        )
    result = simulate_bandits(DEFAULT_RATES, horizon, runs=runs)
    best = result.best_strategy
    name = translate(f"experiments.strategy_{choice}", ctx.lang)
    if choice == best:
        return _result(True, ctx, "check_bandit_ok", strategy=name, regret=result.final_regret[best])
    return _result(
        False,
        ctx,
        "check_bandit_wrong",
        strategy=name,
        regret=result.final_regret[choice],
        best=result.final_regret[best],
    )


def check_profit_threshold(
    ctx: CheckContext,
    gain: float = 1.0,
    loss: float = 4.0,
    model: str = "logistic_regression",
    tolerance: float = 0.02,
) -> CheckResult:
    """Passed when the saved threshold earns at least (1 − tolerance) of the best profit on the portfolio."""
    from workbench.core.data import load_course_data

    answer = load_answers(ctx.settings, ctx.learner).get("threshold")
    if answer is None:
        return _result(False, ctx, "check_threshold_none")
    portfolio = build_portfolio(load_course_data(ctx.settings.data_path), [model])
    curve = profit_curve(portfolio.probabilities[model], portfolio.repaid, gain, loss)
    best_t, best_profit = best_threshold(curve)
    given = round(min(1.0, max(0.0, float(answer))), 2)
    profit = float(curve.loc[np.isclose(curve["threshold"], given), "profit"].iloc[0])
    enough = profit >= best_profit - tolerance * abs(best_profit)
    if enough:
        score = profit / best_profit if best_profit > 0 else 1.0
        return _result(True, ctx, "check_threshold_ok", score=score, threshold=given, profit=profit, best=best_profit)
    return _result(
        False, ctx, "check_threshold_low", threshold=given, profit=profit, best=best_profit, tolerance=tolerance
    )


def save_epsilon_choice(settings: Settings, learner: str, epsilon: float, ucb_regret: float) -> dict:
    """Save the learner's ε for ε-greedy and their reading of UCB1's regret (default arms and horizon)."""
    choice = {"epsilon": float(min(max(epsilon, 0.0), 1.0)), "ucb_regret": float(ucb_regret)}
    return save_answer(settings, learner, "epsilon_choice", choice)


def check_epsilon_vs_ucb(ctx: CheckContext, runs: int = 20, tolerance: float = 0.1) -> CheckResult:
    """Passed when the learner's ε makes ε-greedy lose less than UCB1 on the default simulation, and their
    reading of UCB1's regret is within `tolerance` (relative) of the replayed one (seeded, `runs` runs)."""
    choice = load_answers(ctx.settings, ctx.learner).get("epsilon_choice")
    if not isinstance(choice, dict) or "epsilon" not in choice:
        return _result(False, ctx, "check_eps_none")
    epsilon, reading = float(choice["epsilon"]), float(choice.get("ucb_regret") or 0.0)
    result = simulate_bandits(DEFAULT_RATES, DEFAULT_HORIZON, epsilon, runs)  # every strategy: the page's seeds
    eps_regret, ucb_regret = result.final_regret["epsilon_greedy"], result.final_regret["ucb1"]
    missing = []
    if eps_regret >= ucb_regret:
        missing.append(translate("experiments.check_eps_high", ctx.lang, epsilon=epsilon, regret=eps_regret))
    if abs(reading - ucb_regret) > tolerance * ucb_regret:
        missing.append(translate("experiments.check_eps_ucb_off", ctx.lang, reading=reading, runs=runs))
    evidence = {"epsilon": epsilon, "epsilon_regret": eps_regret, "ucb_regret": ucb_regret}
    if missing:
        return failed(*missing, evidence=evidence)
    text = translate("experiments.check_eps_ok", ctx.lang, epsilon=epsilon, regret=eps_regret, ucb=ucb_regret)
    return passed(text, evidence=evidence, score=1 - eps_regret / ucb_regret)
