"""Multi-armed bandits: epsilon-greedy, UCB, Thompson sampling, their regret."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.chapters.ch11_post_production.ab_tests.ab_test import DEFAULT_SEED, ExperimentError
from workbench.chapters.ch11_post_production.security import one_thread

# --------------------------------------------------------------------------------------------
# Multi-armed bandits
# --------------------------------------------------------------------------------------------

STRATEGIES: tuple[str, ...] = ("fixed", "epsilon_greedy", "ucb1", "thompson")
DEFAULT_RATES: tuple[float, ...] = (0.40, 0.55, 0.70)
DEFAULT_HORIZON = 10_000
DEFAULT_EPSILON = 0.1


@dataclass
class BanditResult:
    """Strategies run on the same simulated traffic (same rewards for every arm at every step)."""

    rates: tuple[float, ...]
    horizon: int
    runs: int
    epsilon: float
    regret: pd.DataFrame  # step, one column per strategy: mean cumulative regret
    reward: pd.DataFrame  # step, one column per strategy: mean cumulative reward
    share: pd.DataFrame  # strategy, window_end, arm, share of the traffic in that window
    final_regret: dict[str, float]
    final_reward: dict[str, float]
    pulls: dict[str, list[float]]  # strategy → mean share of all traffic per arm

    @property
    def best_strategy(self) -> str:
        """The strategy with the lowest final regret."""
        return min(self.final_regret, key=self.final_regret.get)


@one_thread
def simulate_bandits(
    rates: Sequence[float] = DEFAULT_RATES,
    horizon: int = DEFAULT_HORIZON,
    epsilon: float = 0.1,
    runs: int = 20,
    seed: int = DEFAULT_SEED,
    strategies: Sequence[str] = STRATEGIES,
    windows: int = 40,
    progress: Callable[[float], None] | None = None,
) -> BanditResult:
    """Run each strategy `runs` times over `horizon` requests, on rewards drawn once for all strategies.

    Each arm is a model version; a request served by arm k earns a reward with probability `rates[k]`
    (e.g. the customer accepts the offer). Regret is the expected reward lost against always serving
    the best arm: sum over steps of (best rate − rate of the arm served).

    Raises:
        ExperimentError: fewer than two arms, rates outside [0, 1], bad sizes or strategy names.
    """
    rates_arr = np.asarray(rates, dtype=float)
    k = len(rates_arr)
    if k < 2 or np.any((rates_arr < 0) | (rates_arr > 1)):
        raise ExperimentError("err_arms")
    if not 10 <= horizon <= 200_000 or not 1 <= runs <= 200 or not 0 <= epsilon <= 1:
        raise ExperimentError("err_bandit_sizes")
    unknown = set(strategies) - set(STRATEGIES)
    if unknown or not strategies:
        raise ExperimentError("err_strategies", strategies=", ".join(STRATEGIES))
    rng = np.random.default_rng(seed)
    rewards = rng.random((horizon, runs, k)) < rates_arr  # the same traffic for every strategy
    best = rates_arr.max()
    index = np.arange(runs)
    window = max(1, horizon // windows)
    regret_curves, reward_curves, shares, pulls = {}, {}, [], {}
    for number, strategy in enumerate(strategies):
        local = np.random.default_rng(seed + 1 + number)
        counts, wins = np.zeros((runs, k)), np.zeros((runs, k))
        served = np.zeros((horizon, runs), dtype=np.int64)
        got_all = np.zeros((horizon, runs))
        if strategy in ("fixed", "epsilon_greedy"):  # random numbers drawn up front: same stream, faster loop
            random_arm = local.integers(0, k, (horizon, runs))
            explore = local.random((horizon, runs)) < epsilon
            jitter = 1e-9 * local.random((horizon, runs, k))
        for t in range(horizon):
            if strategy == "fixed":
                arm = random_arm[t]
            elif strategy == "epsilon_greedy":
                means = wins / np.maximum(counts, 1)
                means[counts == 0] = np.inf  # untried arms first
                arm = np.where(explore[t], random_arm[t], np.argmax(means + jitter[t], axis=1))
            elif strategy == "ucb1":
                arm = (
                    np.full(runs, t) if t < k else np.argmax(wins / counts + np.sqrt(2 * math.log(t) / counts), axis=1)
                )
            else:  # thompson
                arm = np.argmax(local.beta(1 + wins, 1 + counts - wins), axis=1)
            got = rewards[t, index, arm]
            counts[index, arm] += 1
            wins[index, arm] += got
            served[t], got_all[t] = arm, got
        regret = (best - rates_arr[served]).mean(axis=1)
        reward = got_all.mean(axis=1)
        for end in range(window, horizon + window, window):
            block = served[end - window : min(end, horizon)].ravel()
            if not len(block):
                break
            share = np.bincount(block, minlength=k) / len(block)
            shares += [
                {"strategy": strategy, "step": min(end, horizon), "arm": j, "share": float(share[j])} for j in range(k)
            ]
        regret_curves[strategy] = regret.cumsum()
        reward_curves[strategy] = reward.cumsum()
        pulls[strategy] = (counts.sum(axis=0) / counts.sum()).tolist()
        if progress is not None:
            progress((number + 1) / len(strategies))
    steps = np.arange(1, horizon + 1)
    keep = np.unique(np.r_[np.linspace(0, horizon - 1, min(horizon, 400)).astype(int), horizon - 1])
    regret_df = pd.DataFrame({"step": steps[keep], **{s: c[keep] for s, c in regret_curves.items()}})
    reward_df = pd.DataFrame({"step": steps[keep], **{s: c[keep] for s, c in reward_curves.items()}})
    return BanditResult(
        tuple(float(r) for r in rates_arr),
        horizon,
        runs,
        epsilon,
        regret_df,
        reward_df,
        pd.DataFrame(shares),
        {s: float(c[-1]) for s, c in regret_curves.items()},
        {s: float(c[-1]) for s, c in reward_curves.items()},
        pulls,
    )
