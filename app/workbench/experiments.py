"""Chapter XI: online experiments and business value — A/B tests (design, simulation, analysis, the
peeking pitfall), multi-armed bandits (ε-greedy, UCB1, Thompson sampling) against a fixed split, and
turning probabilities into decisions (risk bands, profit over the decision threshold).

Everything is simulated with seeded generators, so a learner and a check see the same numbers.
The "world" of the simulations is the generated twin of the course data: its labels say whether an
application would repay (Y) or default (N).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.data import FEATURES, TARGET, generate_loan_data
from workbench.exercises import CheckContext, CheckResult
from workbench.formatting import format_value, localize_figure, percent, percent_axis
from workbench.i18n import LocalizedError, translate
from workbench.learner_files import read_json, update_json
from workbench.security import one_thread
from workbench.settings import Settings

ANSWERS_FILE = "ch11_answers.json"
DEFAULT_SEED = 11


class ExperimentError(LocalizedError, ValueError):
    """Parameters an experiment cannot run with (`message(lang)` for the learner, `experiments.err_*`)."""

    namespace = "experiments"


# --------------------------------------------------------------------------------------------
# A/B test: design
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleSize:
    """Sample size per arm to detect `p_a` → `p_b` with a two-sided test."""

    p_a: float
    p_b: float
    alpha: float
    power: float
    n_per_arm: int  # normal approximation with unpooled variances (the lesson's formula)
    n_statsmodels: int  # statsmodels NormalIndPower on Cohen's h (arcsine), for comparison


def _z(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def sample_size(baseline: float, mde: float, alpha: float = 0.05, power: float = 0.8) -> SampleSize:
    """Units needed in each arm to detect an absolute change `mde` of a rate `baseline`.

    Args:
        baseline: the control's rate (e.g. 0.10 = 10 % of approved loans default).
        mde: minimum detectable effect, absolute and signed (-0.02: from 10 % to 8 %).
        alpha: significance level (two-sided).
        power: probability of detecting the effect if it is real.

    Raises:
        ExperimentError: a rate outside (0, 1), a zero effect, alpha or power outside (0, 1).
    """
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    p_b = baseline + mde
    if not (0 < baseline < 1 and 0 < p_b < 1):
        raise ExperimentError("err_rates")
    if mde == 0:
        raise ExperimentError("err_zero_effect")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ExperimentError("err_alpha_power")
    z = _z(1 - alpha / 2) + _z(power)
    n = z**2 * (baseline * (1 - baseline) + p_b * (1 - p_b)) / mde**2
    h = abs(proportion_effectsize(p_b, baseline))
    n_sm = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1.0, alternative="two-sided")
    return SampleSize(baseline, p_b, alpha, power, math.ceil(n), math.ceil(float(n_sm)))


def sample_size_curve(baseline: float, alpha: float, power: float, mdes: Sequence[float]) -> pd.DataFrame:
    """Sample size per arm (the lesson's formula) for several effects: the smaller the effect, the bigger
    the test. Effects that give a rate outside (0, 1) are skipped."""
    z = _z(1 - alpha / 2) + _z(power)
    rows = []
    for mde in mdes:
        p_b = baseline + mde
        if mde == 0 or not (0 < baseline < 1 and 0 < p_b < 1):
            continue
        n = z**2 * (baseline * (1 - baseline) + p_b * (1 - p_b)) / mde**2
        rows.append({"mde": mde, "n_per_arm": math.ceil(n)})
    return pd.DataFrame(rows, columns=["mde", "n_per_arm"])


# --------------------------------------------------------------------------------------------
# A/B test: analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ABAnalysis:
    """Two-proportion z-test of arm B against arm A (the metric is a rate where lower is better,
    e.g. the default rate of approved loans)."""

    successes_a: int
    n_a: int
    successes_b: int
    n_b: int
    rate_a: float
    rate_b: float
    difference: float  # rate_b - rate_a
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    chi2: float
    alpha: float

    @property
    def significant(self) -> bool:
        """True when the p-value is below alpha."""
        return self.p_value < self.alpha

    @property
    def decision(self) -> str:
        """`adopt_b` (B significantly lower), `keep_a` (B significantly higher) or `inconclusive`."""
        if not self.significant:
            return "inconclusive"
        return "adopt_b" if self.difference < 0 else "keep_a"


def analyse_ab(successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05) -> ABAnalysis:
    """Two-proportion z-test (pooled), chi-square without correction (same p-value) and a Wald
    confidence interval of the difference B − A.

    Raises:
        ExperimentError: empty arms or counts out of range.
    """
    if n_a <= 0 or n_b <= 0 or not (0 <= successes_a <= n_a and 0 <= successes_b <= n_b):
        raise ExperimentError("err_counts")
    from scipy.stats import norm

    rate_a, rate_b = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    diff = rate_b - rate_a
    z = diff / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * norm.sf(abs(z)))
    se = math.sqrt(rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b)
    half = _z(1 - alpha / 2) * se
    return ABAnalysis(successes_a, n_a, successes_b, n_b, rate_a, rate_b, diff, diff - half, diff + half, z, p_value,
                      z * z, alpha)  # fmt: skip


# --------------------------------------------------------------------------------------------
# A/B test: simulation with two model versions
# --------------------------------------------------------------------------------------------


@dataclass
class ABModel:
    """A model version taking part in the experiment."""

    label: str  # e.g. "@production (v3)" or "logistic_regression"
    pipeline: Any
    source: str  # "registry" | "trained"


@one_thread
def trained_ab_models(
    data: pd.DataFrame, model_a: str = "logistic_regression", model_b: str = "gradient_boosting"
) -> dict[str, ABModel]:
    """Two models trained on the fly on the course data: A (in place) and B (challenger)."""
    from workbench.modeling import train_model

    return {arm: ABModel(name, train_model(data, name).pipeline, "trained")
            for arm, name in (("A", model_a), ("B", model_b))}  # fmt: skip


def registry_ab_models(settings: Settings) -> dict[str, ABModel] | None:
    """`@production` (A) and `@challenger` (B) from the registry, or None when either alias is missing.

    Raises:
        workbench.safe_models.ModelRefused: one of them could run code when loaded (see `workbench.safe_models`).
    """
    from workbench import tracking
    from workbench.safe_models import ModelRefused

    try:
        aliases = tracking.aliases(settings)
        if "production" not in aliases or "challenger" not in aliases:
            return None
        return {
            "A": ABModel(f"@production (v{aliases['production']})", tracking.load_model("production", settings),
                         "registry"),
            "B": ABModel(f"@challenger (v{aliases['challenger']})", tracking.load_model("challenger", settings),
                         "registry"),
        }  # fmt: skip
    except ModelRefused:  # the learner must see why, not a silent swap for trained models
        raise
    except Exception:  # an unreachable or broken registry: the lab trains its own pair instead
        return None


@dataclass
class ABSimulation:
    """Simulated traffic split between two model versions, with the outcome of every approved loan."""

    models: dict[str, str]  # arm → model label
    applications: dict[str, int]
    approved: dict[str, int]
    defaults: dict[str, int]
    profit: dict[str, float]
    analysis: ABAnalysis
    daily: pd.DataFrame  # day, arm, approved, defaults (cumulative)
    seed: int


@one_thread
def simulate_ab(
    models: dict[str, ABModel],
    n_applications: int = 4000,
    split: float = 0.5,
    days: int = 20,
    gain: float = 1.0,
    loss: float = 4.0,
    alpha: float = 0.05,
    seed: int = DEFAULT_SEED,
) -> ABSimulation:
    """Send `n_applications` new applicants (the generated twin) at random to A or B; each arm's model
    approves or refuses; an approved loan repays or defaults according to the applicant's true label.
    The metric is the default rate of approved loans (lower is better), tested once at the end.

    Raises:
        ExperimentError: bad sizes, or an arm approved no loan.
    """
    if not 100 <= n_applications <= 200_000 or not 0.05 <= split <= 0.95 or days < 1:
        raise ExperimentError("err_ab_sizes")
    population = generate_loan_data(n_applications, seed=seed)
    rng = np.random.default_rng(seed)
    arm = np.where(rng.random(n_applications) < split, "A", "B")
    repaid = (population[TARGET] == "Y").to_numpy()
    day = np.sort(rng.integers(0, days, n_applications))  # applications arrive over the days
    approved = np.zeros(n_applications, dtype=bool)
    for name in ("A", "B"):
        rows = arm == name
        if rows.any():
            approved[rows] = models[name].pipeline.predict_proba(population.loc[rows, list(FEATURES)])[:, 1] >= 0.5
    counts = {}
    for name in ("A", "B"):
        rows = arm == name
        counts[name] = (int(rows.sum()), int((rows & approved).sum()), int((rows & approved & ~repaid).sum()))
    if any(c[1] == 0 for c in counts.values()):
        raise ExperimentError("err_no_approval")
    daily = []
    for d in range(days):
        upto = day <= d
        for name in ("A", "B"):
            rows = upto & (arm == name) & approved
            daily.append(
                {"day": d + 1, "arm": name, "approved": int(rows.sum()), "defaults": int((rows & ~repaid).sum())}
            )
    analysis = analyse_ab(counts["A"][2], counts["A"][1], counts["B"][2], counts["B"][1], alpha)
    return ABSimulation(
        models={k: m.label for k, m in models.items()},
        applications={k: c[0] for k, c in counts.items()},
        approved={k: c[1] for k, c in counts.items()},
        defaults={k: c[2] for k, c in counts.items()},
        profit={k: gain * (c[1] - c[2]) - loss * c[2] for k, c in counts.items()},
        analysis=analysis, daily=pd.DataFrame(daily), seed=seed,
    )  # fmt: skip


def daily_p_values(simulation: ABSimulation) -> pd.DataFrame:
    """The p-value the analyst would see each day if they looked (do not stop on it: see peeking)."""
    rows = []
    table = simulation.daily.pivot(index="day", columns="arm", values=["approved", "defaults"])
    for day, row in table.iterrows():
        n_a, n_b = int(row[("approved", "A")]), int(row[("approved", "B")])
        if n_a and n_b:
            a = analyse_ab(
                int(row[("defaults", "A")]), n_a, int(row[("defaults", "B")]), n_b, simulation.analysis.alpha
            )
            rows.append({"day": int(day), "p_value": a.p_value, "rate_a": a.rate_a, "rate_b": a.rate_b})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The peeking pitfall
# --------------------------------------------------------------------------------------------


@dataclass
class PeekingResult:
    """False-positive rates under H0 (both arms identical) when looking once vs every day."""

    rate: float
    n_per_day: int
    days: int
    alpha: float
    n_simulations: int
    fpr_once: float  # tested once, at the planned end
    fpr_peeking: float  # stopped at the first day with p < alpha
    stopped_by_day: pd.DataFrame  # day, share of experiments already (wrongly) stopped
    examples: pd.DataFrame  # day, simulation, p_value (a few trajectories)


def simulate_peeking(
    rate: float = 0.1,
    n_per_day: int = 100,
    days: int = 30,
    alpha: float = 0.05,
    n_simulations: int = 2000,
    seed: int = DEFAULT_SEED,
    progress: Callable[[float], None] | None = None,
) -> PeekingResult:
    """Simulate A/A experiments (no real difference) and count how often each way of looking
    declares a winner: the share is the false-positive rate, which should be `alpha`."""
    from scipy.stats import norm

    if not 0 < rate < 1 or n_per_day < 1 or days < 1 or not 10 <= n_simulations <= 100_000:
        raise ExperimentError("err_peeking")
    rng = np.random.default_rng(seed)
    events = rng.binomial(n_per_day, rate, size=(n_simulations, days, 2)).cumsum(axis=1)
    n = n_per_day * np.arange(1, days + 1)[None, :]
    a, b = events[..., 0] / n, events[..., 1] / n
    pooled = (events[..., 0] + events[..., 1]) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * 2 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (b - a) / se, 0.0)
    p = 2 * norm.sf(np.abs(z))
    if progress is not None:
        progress(1.0)
    rejected = p < alpha
    first = np.where(rejected.any(axis=1), rejected.argmax(axis=1) + 1, days + 1)
    stopped = pd.DataFrame({"day": np.arange(1, days + 1),
                            "stopped": [(first <= d).mean() for d in range(1, days + 1)]})  # fmt: skip
    shown = min(5, n_simulations)
    examples = pd.DataFrame(
        [{"day": d + 1, "simulation": s + 1, "p_value": float(p[s, d])} for s in range(shown) for d in range(days)]
    )
    return PeekingResult(rate, n_per_day, days, alpha, n_simulations, float(rejected[:, -1].mean()),
                         float(rejected.any(axis=1).mean()), stopped, examples)  # fmt: skip


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
            shares += [{"strategy": strategy, "step": min(end, horizon), "arm": j, "share": float(share[j])}
                       for j in range(k)]  # fmt: skip
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
        tuple(float(r) for r in rates_arr), horizon, runs, epsilon, regret_df, reward_df, pd.DataFrame(shares),
        {s: float(c[-1]) for s, c in regret_curves.items()}, {s: float(c[-1]) for s, c in reward_curves.items()},
        pulls,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Business value
# --------------------------------------------------------------------------------------------

BAND_EDGES: tuple[float, ...] = (0.0, 0.4, 0.6, 0.75, 0.9, 1.0)
BAND_NAMES: tuple[str, ...] = ("E", "D", "C", "B", "A")  # E: refuse … A: very safe


def risk_bands(probability: np.ndarray, repaid: np.ndarray) -> pd.DataFrame:
    """Five ranked risk bands of the probability of repayment, with what really happened in each.

    Returns:
        band (A = safest … E), low, high, applications, share, predicted (mean probability),
        observed (repayment rate; NaN for an empty band).
    """
    probability, repaid = np.asarray(probability, float), np.asarray(repaid, float)
    if len(probability) != len(repaid) or not len(probability):
        raise ExperimentError("err_probabilities")
    index = np.clip(np.searchsorted(BAND_EDGES, probability, side="right") - 1, 0, len(BAND_NAMES) - 1)
    rows = []
    for band in reversed(range(len(BAND_NAMES))):
        inside = index == band
        rows.append({
            "band": BAND_NAMES[band], "low": BAND_EDGES[band], "high": BAND_EDGES[band + 1],
            "applications": int(inside.sum()), "share": float(inside.mean()),
            "predicted": float(probability[inside].mean()) if inside.any() else float("nan"),
            "observed": float(repaid[inside].mean()) if inside.any() else float("nan"),
        })  # fmt: skip
    return pd.DataFrame(rows)


def profit_curve(
    probability: np.ndarray, repaid: np.ndarray, gain: float, loss: float, thresholds: np.ndarray | None = None
) -> pd.DataFrame:
    """Profit and accuracy of approving every application with a probability at or above each threshold.

    Profit = gain × repaid approved loans − loss × defaulted approved loans (refused loans earn nothing).
    """
    if gain < 0 or loss < 0:
        raise ExperimentError("err_negative_amounts")
    probability, repaid = np.asarray(probability, float), np.asarray(repaid).astype(bool)
    thresholds = np.round(np.linspace(0, 1, 101), 2) if thresholds is None else np.asarray(thresholds, float)
    approve = probability[None, :] >= thresholds[:, None]
    good = (approve & repaid[None, :]).sum(axis=1)
    bad = (approve & ~repaid[None, :]).sum(axis=1)
    accuracy = (approve == repaid[None, :]).mean(axis=1)
    return pd.DataFrame({"threshold": thresholds, "approved": approve.sum(axis=1), "profit": gain * good - loss * bad,
                         "accuracy": accuracy})  # fmt: skip


def best_threshold(curve: pd.DataFrame) -> tuple[float, float]:
    """The threshold with the highest profit (the lowest one among ties) and that profit."""
    row = curve.loc[curve["profit"].idxmax()]
    return float(row["threshold"]), float(row["profit"])


def break_even_threshold(gain: float, loss: float) -> float:
    """Theoretical threshold for calibrated probabilities: approve when p·gain > (1 − p)·loss."""
    if gain + loss <= 0:
        raise ExperimentError("err_gain_loss_zero")
    return loss / (gain + loss)


@dataclass
class Portfolio:
    """Models trained on the course data and scored on a portfolio of new applications."""

    probabilities: dict[str, np.ndarray]  # model family → probability of repayment per application
    repaid: np.ndarray
    size: int
    seed: int


@one_thread
def build_portfolio(
    data: pd.DataFrame, models: Sequence[str] | None = None, size: int = 3000, seed: int = 2024
) -> Portfolio:
    """Train each model family on the course data and score `size` new applications (generated twin)."""
    from workbench.modeling import MODEL_NAMES, train_model

    if not 100 <= size <= 100_000:
        raise ExperimentError("err_portfolio_size")
    portfolio = generate_loan_data(size, seed=seed)
    probabilities = {}
    for name in models or MODEL_NAMES:
        pipeline = train_model(data, name).pipeline
        probabilities[name] = pipeline.predict_proba(portfolio[list(FEATURES)])[:, 1]
    return Portfolio(probabilities, (portfolio[TARGET] == "Y").to_numpy(), size, seed)


def compare_models(portfolio: Portfolio, gain: float, loss: float) -> pd.DataFrame:
    """Per model: accuracy and profit at the default 0.5 threshold, and the most profitable threshold.

    Returns:
        model, accuracy_at_05, profit_at_05, best_threshold, best_profit, accuracy_at_best — sorted by
        best profit (highest first).
    """
    rows = []
    for name, probability in portfolio.probabilities.items():
        curve = profit_curve(probability, portfolio.repaid, gain, loss)
        at_half = curve.loc[np.isclose(curve["threshold"], 0.5)].iloc[0]
        threshold, profit = best_threshold(curve)
        at_best = curve.loc[np.isclose(curve["threshold"], threshold)].iloc[0]
        rows.append({
            "model": name, "accuracy_at_05": float(at_half["accuracy"]), "profit_at_05": float(at_half["profit"]),
            "best_threshold": threshold, "best_profit": profit, "accuracy_at_best": float(at_best["accuracy"]),
        })  # fmt: skip
    return pd.DataFrame(rows).sort_values("best_profit", ascending=False, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def model_label(label: str, lang: str) -> str:
    """A model's display name: the translated family name for a model trained here, else the label."""
    from workbench.modeling import MODEL_NAMES

    return translate(f"model.name_{label}", lang) if label in MODEL_NAMES else label


def _layout(fig, title: str, x: str, y: str, height: int = 360, *, lang: str):
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=height,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})  # fmt: skip
    return localize_figure(fig, lang)


def sample_size_figure(curve: pd.DataFrame, chosen: SampleSize, lang: str):
    """Sample size per arm vs the minimum detectable effect, the chosen design marked."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=curve["mde"], y=curve["n_per_arm"], mode="lines+markers",
                               name=translate("experiments.n_per_arm", lang)))  # fmt: skip
    fig.add_trace(go.Scatter(x=[chosen.p_b - chosen.p_a], y=[chosen.n_per_arm], mode="markers",
                             marker={"size": 14, "symbol": "star"}, name=translate("experiments.your_design", lang)))  # fmt: skip
    fig.update_yaxes(type="log", dtick=1)
    effects = [*curve["mde"], chosen.p_b - chosen.p_a]
    fig.update_xaxes(**percent_axis(min(effects), max(effects), lang, 1, as_points=True))  # a difference: points
    return _layout(fig, translate("experiments.ss_curve_title", lang), translate("experiments.mde", lang),
                   translate("experiments.n_per_arm", lang), lang=lang)  # fmt: skip


def ab_figure(simulation: ABSimulation, lang: str):
    """Default rate of each arm with its 95 % interval."""
    import plotly.graph_objects as go

    arms, rates, errors = [], [], []
    z = _z(1 - simulation.analysis.alpha / 2)
    for arm in ("A", "B"):
        n, d = simulation.approved[arm], simulation.defaults[arm]
        rate = d / n
        arms.append(f"{arm} — {model_label(simulation.models[arm], lang)}")
        rates.append(rate)
        errors.append(z * math.sqrt(rate * (1 - rate) / n))
    fig = go.Figure(go.Bar(x=arms, y=rates, error_y={"type": "data", "array": errors},
                           text=[percent(r, lang) for r in rates], marker_color=["#636efa", "#ef553b"]))  # fmt: skip
    fig.update_yaxes(**percent_axis(0.0, max(r + e for r, e in zip(rates, errors)), lang))
    return _layout(fig, translate("experiments.ab_title", lang), translate("experiments.arm", lang),
                   translate("experiments.default_rate", lang), lang=lang)  # fmt: skip


def p_value_figure(p_values: pd.DataFrame, alpha: float, lang: str):
    """The p-value day after day (what a peeking analyst sees), with alpha."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=p_values["day"], y=p_values["p_value"], mode="lines+markers", name="p"))
    fig.add_hline(y=alpha, line_dash="dash", line_color="red", annotation_text=f"α = {format_value(alpha, 'g', lang)}")
    return _layout(fig, translate("experiments.pvalue_title", lang), translate("experiments.day", lang), "p", lang=lang)


def peeking_figure(result: PeekingResult, lang: str):
    """Share of A/A experiments wrongly stopped by each day when peeking, vs alpha for one final look."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=result.stopped_by_day["day"], y=result.stopped_by_day["stopped"], mode="lines",
                             name=translate("experiments.peek_daily", lang)))  # fmt: skip
    fig.add_trace(go.Scatter(x=[result.days], y=[result.fpr_once], mode="markers", marker={"size": 12},
                             name=translate("experiments.peek_once", lang)))  # fmt: skip
    fig.add_hline(y=result.alpha, line_dash="dash", line_color="gray",
                  annotation_text=f"α = {format_value(result.alpha, 'g', lang)}")  # fmt: skip
    highest = max([*result.stopped_by_day["stopped"], result.fpr_once, result.alpha])
    fig.update_yaxes(**percent_axis(0.0, highest, lang), rangemode="tozero")
    return _layout(fig, translate("experiments.peek_title", lang), translate("experiments.day", lang),
                   translate("experiments.false_positive_rate", lang), lang=lang)  # fmt: skip


def regret_figure(result: BanditResult, lang: str):
    """Mean cumulative regret of each strategy over the requests."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy in result.final_regret:
        fig.add_trace(go.Scatter(x=result.regret["step"], y=result.regret[strategy], mode="lines",
                                 name=translate(f"experiments.strategy_{strategy}", lang)))  # fmt: skip
    return _layout(fig, translate("experiments.regret_title", lang), translate("experiments.requests", lang),
                   translate("experiments.cumulative_regret", lang), lang=lang)  # fmt: skip


def reward_figure(result: BanditResult, lang: str):
    """Mean cumulative reward of each strategy."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy in result.final_reward:
        fig.add_trace(go.Scatter(x=result.reward["step"], y=result.reward[strategy], mode="lines",
                                 name=translate(f"experiments.strategy_{strategy}", lang)))  # fmt: skip
    return _layout(fig, translate("experiments.reward_title", lang), translate("experiments.requests", lang),
                   translate("experiments.cumulative_reward", lang), lang=lang)  # fmt: skip


def share_figure(result: BanditResult, strategy: str, lang: str):
    """Share of the traffic each arm receives over time, for one strategy (stacked areas)."""
    import plotly.graph_objects as go

    data = result.share[result.share["strategy"] == strategy]
    fig = go.Figure()
    for arm, rate in enumerate(result.rates):
        rows = data[data["arm"] == arm]
        fig.add_trace(go.Scatter(x=rows["step"], y=rows["share"], stackgroup="one", mode="lines",
                                 name=translate("experiments.arm_label", lang, arm=arm + 1, rate=rate)))  # fmt: skip
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1])
    title = translate("experiments.share_title", lang, strategy=translate(f"experiments.strategy_{strategy}", lang))
    return _layout(fig, title, translate("experiments.requests", lang), translate("experiments.traffic_share", lang),
                   lang=lang)  # fmt: skip


def profit_figure(portfolio: Portfolio, gain: float, loss: float, lang: str, chosen: float | None = None):
    """Profit over the decision threshold, one line per model, with the break-even threshold."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, probability in portfolio.probabilities.items():
        curve = profit_curve(probability, portfolio.repaid, gain, loss)
        fig.add_trace(go.Scatter(x=curve["threshold"], y=curve["profit"], mode="lines",
                                 name=translate(f"model.name_{name}", lang)))  # fmt: skip
    fig.add_vline(x=break_even_threshold(gain, loss), line_dash="dash", line_color="gray",
                  annotation_text=translate("experiments.break_even", lang))  # fmt: skip
    if chosen is not None:
        fig.add_vline(x=chosen, line_color="red", annotation_text=translate("experiments.your_threshold", lang),
                      annotation_position="bottom right")  # fmt: skip
    return _layout(fig, translate("experiments.profit_title", lang), translate("experiments.threshold", lang),
                   translate("experiments.profit", lang), lang=lang)  # fmt: skip


def bands_figure(bands: pd.DataFrame, lang: str):
    """Applications per risk band and the observed repayment rate."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=bands["band"], y=bands["applications"], name=translate("experiments.applications", lang)))
    fig.add_trace(go.Scatter(x=bands["band"], y=bands["observed"], mode="lines+markers",
                             name=translate("experiments.observed_repayment", lang)), secondary_y=True)  # fmt: skip
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1], showgrid=False, secondary_y=True)
    return _layout(fig, translate("experiments.bands_title", lang), translate("experiments.band", lang),
                   translate("experiments.applications", lang), lang=lang)  # fmt: skip


# --------------------------------------------------------------------------------------------
# "Show me the code"
# --------------------------------------------------------------------------------------------


def sample_size_code(baseline: float, mde: float, alpha: float, power: float) -> str:
    """Plain Python (scipy + statsmodels) for the sample size."""
    return f"""from math import ceil
from scipy.stats import norm
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

p_a, p_b, alpha, power = {baseline!r}, {round(baseline + mde, 6)!r}, {alpha!r}, {power!r}
z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
n = z**2 * (p_a * (1 - p_a) + p_b * (1 - p_b)) / (p_a - p_b) ** 2
print("per arm (formula):", ceil(n))

h = proportion_effectsize(p_b, p_a)          # Cohen's h (arcsine transform)
n_sm = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power, alternative="two-sided")
print("per arm (statsmodels):", ceil(n_sm))
"""


def analysis_code(analysis: ABAnalysis) -> str:
    """Plain Python (statsmodels + scipy) for the analysis of an A/B test."""
    return f"""import numpy as np
from scipy.stats import chi2_contingency
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

defaults = np.array([{analysis.successes_a}, {analysis.successes_b}])   # events in A, B
approved = np.array([{analysis.n_a}, {analysis.n_b}])                   # units in A, B
z, p_value = proportions_ztest(defaults, approved)
print(f"z = {{z:.3f}}, p-value = {{p_value:.4f}}")

table = [[defaults[0], approved[0] - defaults[0]], [defaults[1], approved[1] - defaults[1]]]
chi2, p_chi2, _, _ = chi2_contingency(table, correction=False)   # same p-value as the z-test
print(f"chi2 = {{chi2:.3f}}, p-value = {{p_chi2:.4f}}")

low, high = confint_proportions_2indep(defaults[1], approved[1], defaults[0], approved[0], method="wald",
                                       alpha={analysis.alpha})
print(f"difference B - A: {{defaults[1] / approved[1] - defaults[0] / approved[0]:+.4f}} "
      f"[{{low:+.4f}}, {{high:+.4f}}]")
"""


def peeking_code(rate: float, n_per_day: int, days: int, alpha: float, n_simulations: int) -> str:
    """Plain Python (NumPy + scipy) for the peeking simulation."""
    return f"""import numpy as np
from scipy.stats import norm

rng = np.random.default_rng({DEFAULT_SEED})
rate, n_per_day, days, alpha, sims = {rate!r}, {n_per_day}, {days}, {alpha!r}, {n_simulations}
# A/A tests: both arms have the same rate, so every "winner" is a false positive
events = rng.binomial(n_per_day, rate, size=(sims, days, 2)).cumsum(axis=1)
n = n_per_day * np.arange(1, days + 1)
pooled = events.sum(axis=2) / (2 * n)
z = (events[..., 1] - events[..., 0]) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)
p = 2 * norm.sf(np.abs(z))
print("false positives, one look at the end:", (p[:, -1] < alpha).mean())
print("false positives, a look every day:   ", (p < alpha).any(axis=1).mean())
"""


def bandit_code(rates: Sequence[float], horizon: int, epsilon: float) -> str:
    """Plain Python (NumPy) for the four strategies on one simulated traffic."""
    return f"""import math
import numpy as np

rates = np.array({[float(r) for r in rates]!r})       # reward rate of each model version (arm)
horizon, epsilon, k = {horizon}, {epsilon!r}, len(rates)
rewards = np.random.default_rng({DEFAULT_SEED}).random((horizon, k)) < rates   # the same traffic for all

def run(choose):
    rng = np.random.default_rng(0)
    counts, wins, regret = np.zeros(k), np.zeros(k), 0.0
    for t in range(horizon):
        arm = choose(t, counts, wins, rng)
        counts[arm] += 1
        wins[arm] += rewards[t, arm]
        regret += rates.max() - rates[arm]
    return regret

strategies = {{
    "fixed split": lambda t, n, w, rng: rng.integers(k),
    "epsilon-greedy": lambda t, n, w, rng: rng.integers(k) if rng.random() < epsilon
        else int(np.argmax(np.where(n > 0, w / np.maximum(n, 1), np.inf))),
    "UCB1": lambda t, n, w, rng: t if t < k else int(np.argmax(w / n + np.sqrt(2 * math.log(t) / n))),
    "Thompson": lambda t, n, w, rng: int(np.argmax(rng.beta(1 + w, 1 + n - w))),
}}
for name, choose in strategies.items():
    print(f"{{name:15s}} regret = {{run(choose):7.1f}}")
"""


def profit_code(gain: float, loss: float, model_name: str, size: int = 3000, seed: int = 2024) -> str:
    """Plain Python for the risk bands and the profit curve of one model."""
    from workbench.modeling import training_code

    training = training_code(model_name, {}).split("pipeline.fit(X_train, y_train)")[0]
    return (
        training
        + f"""pipeline.fit(X_train, y_train)

import numpy as np
from workbench.data import generate_loan_data   # new applications (the generated twin)
portfolio = generate_loan_data({size}, seed={seed})
p = pipeline.predict_proba(portfolio[numeric + categorical])[:, 1]
repaid = (portfolio["Loan_Status"] == "Y").to_numpy()

bands = pd.cut(p, [0, 0.4, 0.6, 0.75, 0.9, 1.0], labels=["E", "D", "C", "B", "A"], include_lowest=True)
print(pd.DataFrame({{"band": bands, "repaid": repaid}}).groupby("band", observed=False)["repaid"].agg(["size", "mean"]))

gain, loss = {gain!r}, {loss!r}
thresholds = np.round(np.linspace(0, 1, 101), 2)
profit = [gain * (repaid & (p >= t)).sum() - loss * (~repaid & (p >= t)).sum() for t in thresholds]
best = thresholds[int(np.argmax(profit))]
print(f"most profitable threshold: {{best:.2f}} (profit {{max(profit):.0f}}); "
      f"break-even for calibrated p: {{loss / (gain + loss):.2f}}")
"""
    )


# --------------------------------------------------------------------------------------------
# The learner's saved answers and the hands-on checks
# --------------------------------------------------------------------------------------------


def answers_path(settings: Settings, learner: str) -> Path:
    """Where the learner's chapter XI answers are saved."""
    return settings.learner_dir(learner) / ANSWERS_FILE


def load_answers(settings: Settings, learner: str) -> dict:
    """The learner's saved answers (empty when none or unreadable)."""
    data = read_json(answers_path(settings, learner), {})
    return data if isinstance(data, dict) else {}


def save_answer(settings: Settings, learner: str, key: str, value: Any) -> dict:
    """Save one answer (`sample_size`, `bandit_choice`, `threshold`), atomically."""
    return update_json(answers_path(settings, learner), {key: value, f"{key}_at": time.time()})


def _result(ok: bool, ctx: CheckContext, key: str, score: float | None = None, **values: Any) -> CheckResult:
    text = translate(f"experiments.{key}", ctx.lang, **values)
    evidence = {k: v for k, v in values.items() if isinstance(v, int | float | str)}
    if ok:
        return CheckResult(True, detail=text, score=score, evidence=evidence)
    return CheckResult(False, (text,), evidence=evidence)


def check_sample_size(
    ctx: CheckContext, baseline: float = 0.10, mde: float = -0.02, alpha: float = 0.05, power: float = 0.8,
    tolerance: float = 0.05,
) -> CheckResult:  # fmt: skip
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
        save_answer(settings, learner, "bandit_default_run",
                    {"runs": result.runs, "final_regret": result.final_regret, "best": result.best_strategy})  # fmt: skip


def check_lowest_regret(ctx: CheckContext, horizon: int = DEFAULT_HORIZON, runs: int = 5) -> CheckResult:
    """Passed when the learner ran the default simulation, then saved the strategy with the lowest regret
    on it (replayed here, seeded)."""
    answers = load_answers(ctx.settings, ctx.learner)
    choice = answers.get("bandit_choice")
    if choice not in STRATEGIES:
        return _result(False, ctx, "check_bandit_none")
    ran_at, chosen_at = answers.get("bandit_default_run_at"), answers.get("bandit_choice_at")
    if not isinstance(answers.get("bandit_default_run"), dict) or ran_at is None or (chosen_at or 0) < ran_at:
        return _result(False, ctx, "check_bandit_not_run", rates=", ".join(f"{r:.0%}" for r in DEFAULT_RATES),
                       horizon=DEFAULT_HORIZON)  # fmt: skip
    result = simulate_bandits(DEFAULT_RATES, horizon, runs=runs)
    best = result.best_strategy
    name = translate(f"experiments.strategy_{choice}", ctx.lang)
    if choice == best:
        return _result(True, ctx, "check_bandit_ok", strategy=name, regret=result.final_regret[best])
    return _result(False, ctx, "check_bandit_wrong", strategy=name, regret=result.final_regret[choice],
                   best=result.final_regret[best])  # fmt: skip


def check_profit_threshold(
    ctx: CheckContext, gain: float = 1.0, loss: float = 4.0, model: str = "logistic_regression",
    tolerance: float = 0.02,
) -> CheckResult:  # fmt: skip
    """Passed when the saved threshold earns at least (1 − tolerance) of the best profit on the portfolio."""
    from workbench.data import load_course_data

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
    return _result(False, ctx, "check_threshold_low", threshold=given, profit=profit, best=best_profit,
                   tolerance=tolerance)  # fmt: skip
