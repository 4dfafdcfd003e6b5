"""Experiments core (chapter XI): A/B statistics against scipy/statsmodels, peeking, bandits, business
value, the generated code and the hands-on checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from workbench.chapters.ch11_post_production import ab_tests as experiments
from workbench.core.data import generate_loan_data
from workbench.core.exercises import CheckContext
from workbench.core.records import records_for
from workbench.core.settings import get_settings


@pytest.fixture(scope="module")
def data():
    return generate_loan_data()


# --- A/B design and analysis --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "baseline, mde, alpha, power", [(0.10, -0.02, 0.05, 0.8), (0.2, -0.03, 0.05, 0.9), (0.5, 0.05, 0.01, 0.95)]
)
def test_sample_size_matches_statsmodels(baseline, mde, alpha, power) -> None:
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    design = experiments.sample_size(baseline, mde, alpha, power)
    h = proportion_effectsize(baseline + mde, baseline)
    expected = NormalIndPower().solve_power(abs(h), alpha=alpha, power=power, alternative="two-sided")
    assert design.n_statsmodels == math.ceil(expected)
    assert abs(design.n_per_arm - expected) / expected < 0.02  # the lesson's formula is close


def test_sample_size_of_the_lesson_example() -> None:
    assert experiments.sample_size(0.10, -0.02).n_per_arm == 3211  # "about 3,200 loans per arm"


@pytest.mark.parametrize("args", [(0.0, 0.1), (0.95, 0.1), (0.1, 0.0), (0.1, 0.02, 1.5, 0.8)])
def test_sample_size_rejects_bad_designs(args) -> None:
    with pytest.raises(experiments.ExperimentError):
        experiments.sample_size(*args)


def test_sample_size_curve_grows_as_the_effect_shrinks() -> None:
    curve = experiments.sample_size_curve(0.1, 0.05, 0.8, [-0.05, -0.02, -0.01, -0.2])
    assert list(curve["mde"]) == [-0.05, -0.02, -0.01]  # -0.2 gives a negative rate: skipped
    assert curve["n_per_arm"].is_monotonic_increasing


@pytest.mark.parametrize("counts", [(300, 3000, 240, 3000), (50, 400, 52, 410), (0, 100, 3, 100)])
def test_analysis_matches_statsmodels_and_scipy(counts) -> None:
    from scipy.stats import chi2_contingency
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    a, n_a, b, n_b = counts
    result = experiments.analyse_ab(a, n_a, b, n_b)
    z, p = proportions_ztest([b, a], [n_b, n_a])
    assert result.z == pytest.approx(z) and result.p_value == pytest.approx(p)
    chi2, p_chi2, _, _ = chi2_contingency([[a, n_a - a], [b, n_b - b]], correction=False)
    assert result.chi2 == pytest.approx(chi2) and result.p_value == pytest.approx(p_chi2)
    low, high = confint_proportions_2indep(b, n_b, a, n_a, method="wald")
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))


def test_analysis_decisions() -> None:
    assert experiments.analyse_ab(300, 3000, 240, 3000).decision == "adopt_b"
    assert experiments.analyse_ab(240, 3000, 300, 3000).decision == "keep_a"
    assert experiments.analyse_ab(50, 400, 52, 410).decision == "inconclusive"
    with pytest.raises(experiments.ExperimentError):
        experiments.analyse_ab(5, 0, 1, 10)


def test_simulate_ab_with_two_trained_models(data) -> None:
    models = experiments.trained_ab_models(data, "logistic_regression", "decision_tree")
    assert {m.label for m in models.values()} == {"logistic_regression", "decision_tree"}
    sim = experiments.simulate_ab(models, 2000, split=0.5, days=10, gain=1, loss=4)
    assert sum(sim.applications.values()) == 2000 and 800 < sim.applications["A"] < 1200
    for arm in "AB":
        assert 0 < sim.defaults[arm] < sim.approved[arm] <= sim.applications[arm]
        assert sim.profit[arm] == (sim.approved[arm] - sim.defaults[arm]) - 4 * sim.defaults[arm]
    assert sim.analysis.n_a == sim.approved["A"] and sim.analysis.successes_b == sim.defaults["B"]
    last = sim.daily[sim.daily["day"] == 10].set_index("arm")
    assert last.loc["A", "approved"] == sim.approved["A"]
    p_values = experiments.daily_p_values(sim)
    assert len(p_values) == 10 and p_values["p_value"].iloc[-1] == pytest.approx(sim.analysis.p_value)
    again = experiments.simulate_ab(models, 2000, split=0.5, days=10)
    assert again.defaults == sim.defaults  # seeded
    with pytest.raises(experiments.ExperimentError):
        experiments.simulate_ab(models, 50)


def test_registry_pair_is_none_without_aliases(mlflow_store) -> None:
    assert experiments.registry_ab_models(get_settings()) is None


# --- peeking -----------------------------------------------------------------------------------------


def test_peeking_inflates_false_positives() -> None:
    result = experiments.simulate_peeking(0.1, 100, 30, 0.05, 2000)
    assert 0.03 < result.fpr_once < 0.07  # one look: about alpha
    assert result.fpr_peeking > 3 * result.fpr_once  # a look a day: far more
    assert result.stopped_by_day["stopped"].is_monotonic_increasing
    assert result.stopped_by_day["stopped"].iloc[-1] == pytest.approx(result.fpr_peeking)
    assert len(result.examples) == 5 * 30
    with pytest.raises(experiments.ExperimentError):
        experiments.simulate_peeking(rate=1.5)


# --- bandits -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bandits():
    return experiments.simulate_bandits(runs=5)


def test_thompson_and_ucb_beat_epsilon_greedy_and_the_fixed_split(bandits) -> None:
    regret = bandits.final_regret
    for smart in ("thompson", "ucb1"):
        assert regret[smart] < regret["epsilon_greedy"] < regret["fixed"]
    assert bandits.best_strategy == "thompson"
    # a fixed split serves every arm equally: regret = T * (mean gap)
    gaps = max(experiments.DEFAULT_RATES) - np.array(experiments.DEFAULT_RATES)
    assert regret["fixed"] == pytest.approx(experiments.DEFAULT_HORIZON * gaps.mean(), rel=0.03)
    assert bandits.pulls["thompson"][-1] > 0.95 and abs(bandits.pulls["fixed"][0] - 1 / 3) < 0.02


def test_bandit_curves_and_shares(bandits) -> None:
    assert bandits.regret["step"].iloc[-1] == experiments.DEFAULT_HORIZON
    assert bandits.regret["thompson"].is_monotonic_increasing
    last = bandits.share[(bandits.share["strategy"] == "ucb1") & (bandits.share["step"] == bandits.horizon)]
    assert last["share"].sum() == pytest.approx(1.0) and last.set_index("arm")["share"][2] > 0.8
    assert bandits.final_reward["thompson"] > bandits.final_reward["fixed"]


@pytest.mark.parametrize(
    "kwargs", [{"rates": [0.5]}, {"rates": [0.5, 1.2]}, {"horizon": 5}, {"strategies": ["greedy"]}]
)
def test_bandits_reject_bad_parameters(kwargs) -> None:
    with pytest.raises(experiments.ExperimentError):
        experiments.simulate_bandits(**kwargs)


# --- business value ----------------------------------------------------------------------------------


def test_risk_bands_and_profit_curve_on_small_data() -> None:
    p = np.array([0.95, 0.8, 0.65, 0.5, 0.1, 0.05])
    repaid = np.array([1, 1, 0, 1, 0, 0])
    bands = experiments.risk_bands(p, repaid)
    assert list(bands["band"]) == ["A", "B", "C", "D", "E"]
    assert list(bands["applications"]) == [1, 1, 1, 1, 2] and bands["observed"].iloc[-1] == 0
    curve = experiments.profit_curve(p, repaid, gain=1, loss=4, thresholds=np.array([0.0, 0.5, 0.7]))
    assert list(curve["profit"]) == [3 - 12, 3 - 4, 2]
    assert list(curve["approved"]) == [6, 4, 2]
    assert curve["accuracy"].iloc[2] == pytest.approx(5 / 6)
    assert experiments.best_threshold(curve) == (0.7, 2.0)
    assert experiments.break_even_threshold(1, 4) == 0.8
    with pytest.raises(experiments.ExperimentError):
        experiments.profit_curve(p, repaid, -1, 1)


@pytest.fixture(scope="module")
def portfolio(data):
    return experiments.build_portfolio(data, size=3000)


def test_profit_not_accuracy_picks_the_threshold(portfolio) -> None:
    table = experiments.compare_models(portfolio, gain=1, loss=4)
    assert table["best_profit"].is_monotonic_decreasing
    assert (table["best_profit"] > table["profit_at_05"]).all()  # 0.5 is never the right threshold here
    assert (table["best_threshold"] > 0.6).all()  # a default costs 4 repaid loans: be stricter than 0.5
    assert (table["accuracy_at_best"] < table["accuracy_at_05"]).all()  # the most profitable is less accurate


def test_figures_build(portfolio, bandits) -> None:
    lang = "en"
    assert len(experiments.profit_figure(portfolio, 1, 4, lang, 0.7).data) == 4
    bands = experiments.risk_bands(portfolio.probabilities["logistic_regression"], portfolio.repaid)
    assert len(experiments.bands_figure(bands, lang).data) == 2
    assert len(experiments.regret_figure(bandits, lang).data) == 4
    assert len(experiments.share_figure(bandits, "thompson", lang).data) == 3
    peek = experiments.simulate_peeking(n_simulations=100)
    assert experiments.peeking_figure(peek, "fr").layout.title.text.startswith("Part des tests A/A")
    design = experiments.sample_size(0.1, -0.02)
    curve = experiments.sample_size_curve(0.1, 0.05, 0.8, [-0.01, -0.02])
    assert len(experiments.sample_size_figure(curve, design, lang).data) == 2


# --- show me the code --------------------------------------------------------------------------------


def test_generated_code_runs(capsys) -> None:
    snippets = [
        experiments.sample_size_code(0.1, -0.02, 0.05, 0.8),
        experiments.analysis_code(experiments.analyse_ab(300, 3000, 240, 3000)),
        experiments.peeking_code(0.1, 100, 20, 0.05, 500),
        experiments.bandit_code([0.4, 0.55, 0.7], 500, 0.1),
        experiments.profit_code(1, 4, "logistic_regression", size=300),
    ]
    for code in snippets:
        exec(compile(code, "<snippet>", "exec"), {})
    out = capsys.readouterr().out
    assert "per arm (formula): 3211" in out and "per arm (statsmodels): 3205" in out
    assert "chi2 =" in out and "a look every day" in out and "Thompson" in out
    assert "most profitable threshold" in out


# --- hands-on checks ---------------------------------------------------------------------------------


def _ctx(lang: str = "en") -> CheckContext:
    return CheckContext(get_settings().learner, lang, get_settings())


def test_check_sample_size() -> None:
    ctx = _ctx()
    assert "No size saved" in experiments.check_sample_size(ctx).missing[0]
    expected = experiments.sample_size(0.2, -0.03, 0.05, 0.9).n_per_arm
    experiments.save_answer(ctx.settings, ctx.learner, "sample_size", int(expected * 1.2))
    assert "20%" in experiments.check_sample_size(ctx, 0.2, -0.03, 0.05, 0.9).missing[0]
    experiments.save_answer(ctx.settings, ctx.learner, "sample_size", expected + 10)
    result = experiments.check_sample_size(ctx, 0.2, -0.03, 0.05, 0.9)
    assert result.passed and result.evidence["expected"] == expected and result.score > 0.99


def test_check_lowest_regret() -> None:
    ctx = _ctx("fr")
    assert "Aucune stratégie" in experiments.check_lowest_regret(ctx).missing[0]
    # an answer saved without running the exercise's simulation does not count, even the right one
    experiments.save_answer(ctx.settings, ctx.learner, "bandit_choice", "thompson")
    assert "aucune simulation" in experiments.check_lowest_regret(ctx, runs=2).missing[0]
    other = experiments.simulate_bandits(experiments.DEFAULT_RATES, 1000, 0.1, runs=1)  # not the default horizon
    experiments.record_bandit_run(ctx.settings, ctx.learner, other)
    assert "aucune simulation" in experiments.check_lowest_regret(ctx, runs=2).missing[0]
    default = experiments.simulate_bandits(runs=1)
    experiments.record_bandit_run(ctx.settings, ctx.learner, default)
    assert "aucune simulation" in experiments.check_lowest_regret(ctx, runs=2).missing[0]  # answered before it ran
    experiments.save_answer(ctx.settings, ctx.learner, "bandit_choice", "ucb1")
    assert "UCB1 a un regret" in experiments.check_lowest_regret(ctx, runs=2).missing[0]
    experiments.save_answer(ctx.settings, ctx.learner, "bandit_choice", "thompson")
    assert experiments.check_lowest_regret(ctx, runs=2).passed
    assert experiments.load_answers(ctx.settings, ctx.learner)["bandit_choice"] == "thompson"


def test_check_profit_threshold(portfolio) -> None:
    ctx = _ctx()
    assert "No threshold saved" in experiments.check_profit_threshold(ctx).missing[0]
    experiments.save_answer(ctx.settings, ctx.learner, "threshold", 0.5)
    assert "far from the best" in experiments.check_profit_threshold(ctx).missing[0]
    curve = experiments.profit_curve(portfolio.probabilities["logistic_regression"], portfolio.repaid, 1, 4)
    best, _ = experiments.best_threshold(curve)
    experiments.save_answer(ctx.settings, ctx.learner, "threshold", best)
    result = experiments.check_profit_threshold(ctx)
    assert result.passed and result.score == pytest.approx(1.0)


def test_answers_file_survives_garbage() -> None:
    settings = get_settings()
    records_for(settings, "someone").put_text(experiments.ANSWERS_KEY, "not json")
    assert experiments.load_answers(settings, "someone") == {}
