"""Chapter XI hands-on checks on real work: a defence against label-flip poisoning, a model that resists
membership inference, ε-greedy tuned against UCB1. Each fails before the work and on the form's defaults,
and passes after the real work, replayed on the course data (the repository's, and the real course file
when it is on the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from workbench.chapters.ch11_post_production import ab_tests as experiments
from workbench.chapters.ch11_post_production import security
from workbench.core.exercises import CheckContext, load_exercises
from workbench.core.settings import get_settings

REAL_COURSE = Path("/work/shared/datasets/loan-course/train.csv")
DATASETS = [None] + ([REAL_COURSE] if REAL_COURSE.exists() else [])


@pytest.fixture(params=DATASETS, ids=lambda p: "repo-data" if p is None else "course-file")
def ctx(request, monkeypatch) -> CheckContext:
    if request.param is not None:
        monkeypatch.setenv("WORKBENCH_DATA", str(request.param))
        get_settings.cache_clear()
    settings = get_settings()
    return CheckContext(settings.learner, "en", settings)


def _fr(ctx: CheckContext) -> CheckContext:
    return CheckContext(ctx.learner, "fr", ctx.settings)


def test_poison_defense_fails_before_work_and_on_defaults_passes_with_a_real_defence(ctx) -> None:
    check = security.check_poison_defense
    assert "No defense saved" in check(ctx).missing[0]
    security.save_defense(ctx.settings, ctx.learner, security.DEFAULT_DEFENSE)  # the form as it opens
    result = check(ctx)
    assert not result.passed and "points below the clean one" in result.missing[0]
    assert result.evidence["poisoned"] < result.evidence["clean"] - 0.2  # the attack really hurts
    # the trusted subset at its starting settings is not enough either: the learner must tune it
    security.save_defense(ctx.settings, ctx.learner, {"method": "trusted", "trusted_share": 0.1, "confidence": 0.7})
    assert not check(ctx).passed
    security.save_defense(ctx.settings, ctx.learner, {"method": "trusted", "trusted_share": 0.3, "confidence": 0.5})
    result = check(ctx)
    assert result.passed, result.missing
    assert result.evidence["defended"] >= result.evidence["clean"] - 0.03 and result.evidence["removed"] > 0
    assert "Défense efficace" in check(_fr(ctx)).detail and "%" in check(_fr(ctx)).detail


def test_defence_filters_really_drop_flipped_labels() -> None:
    from workbench.core.data import generate_loan_data

    data = generate_loan_data()
    knn = security.defend_poisoning(data, {"method": "knn", "k": 10, "agreement": 0.5})
    trusted = security.defend_poisoning(data, {"method": "trusted", "trusted_share": 0.3, "confidence": 0.5})
    assert knn.n_flipped == trusted.n_flipped > 0
    assert trusted.flipped_removed > trusted.n_flipped / 2 and trusted.defended_accuracy > knn.defended_accuracy
    with pytest.raises(security.SecurityError):
        security.defend_poisoning(data, {"method": "pray"})


def test_membership_check_fails_on_the_start_and_library_defaults_passes_when_regularised(ctx) -> None:
    check = security.check_membership_defense
    assert "No settings saved" in check(ctx).missing[0]
    security.save_membership_params(ctx.settings, ctx.learner, security.MEMBERSHIP_START)  # the form as it opens
    result = check(ctx)
    assert not result.passed and "advantage" in result.missing[0] and result.evidence["advantage"] > 0.3
    security.save_membership_params(ctx.settings, ctx.learner, {})  # scikit-learn's defaults: not enough
    assert not check(ctx).passed
    security.save_membership_params(ctx.settings, ctx.learner, {"max_iter": 10, "learning_rate": 0.01, "max_depth": 1})
    result = check(ctx)  # leaks nothing, learns nothing
    assert not result.passed and any("held-out" in m for m in result.missing)
    security.save_membership_params(ctx.settings, ctx.learner, {"max_iter": 30, "learning_rate": 0.05, "max_depth": 3})
    result = check(ctx)
    assert result.passed, result.missing
    assert result.evidence["advantage"] <= 0.10 and result.evidence["accuracy"] >= 0.8
    assert "Réglages sûrs" in check(_fr(ctx)).detail


def test_membership_attack_is_seeded() -> None:
    from workbench.core.data import generate_loan_data

    data = generate_loan_data()
    first, second = (security.membership_trial(data, security.MEMBERSHIP_START) for _ in range(2))
    assert first == second and first.train_accuracy == 1.0


def _eps_ctx(lang: str = "en") -> CheckContext:
    return CheckContext(get_settings().learner, lang, get_settings())


def test_epsilon_vs_ucb_fails_on_default_epsilon_passes_with_a_tuned_one() -> None:
    ctx = _eps_ctx()
    assert "No ε saved" in experiments.check_epsilon_vs_ucb(ctx).missing[0]
    run = experiments.simulate_bandits(epsilon=experiments.DEFAULT_EPSILON, runs=20)
    ucb = run.final_regret["ucb1"]
    experiments.save_epsilon_choice(ctx.settings, ctx.learner, experiments.DEFAULT_EPSILON, ucb)  # the form's ε
    result = experiments.check_epsilon_vs_ucb(ctx)
    assert not result.passed and "not less than UCB1" in result.missing[0] and len(result.missing) == 1
    experiments.save_epsilon_choice(ctx.settings, ctx.learner, 0.0, ucb)  # no exploration: stuck on a bad arm
    assert not experiments.check_epsilon_vs_ucb(ctx).passed
    # find ε as a learner does: sweep it on the page's simulation
    sweep = {eps: experiments.simulate_bandits(epsilon=eps, runs=20).final_regret for eps in (0.02, 0.03, 0.05)}
    tuned = min(sweep, key=lambda e: sweep[e]["epsilon_greedy"])
    assert sweep[tuned]["epsilon_greedy"] < ucb and sweep[tuned]["ucb1"] == ucb  # UCB1 does not depend on ε
    experiments.save_epsilon_choice(ctx.settings, ctx.learner, tuned, 0.0)  # right ε, UCB1 never read
    result = experiments.check_epsilon_vs_ucb(ctx)
    assert not result.passed and "UCB1's regret" in result.missing[0]
    experiments.save_epsilon_choice(ctx.settings, ctx.learner, tuned, round(ucb))
    result = experiments.check_epsilon_vs_ucb(ctx)
    assert result.passed, result.missing
    assert "ε-greedy perd" in experiments.check_epsilon_vs_ucb(_eps_ctx("fr")).detail


def test_new_checks_are_declared_in_the_exercises() -> None:
    ids = {h.id: h for h in load_exercises("11_post_production").hands_on}
    for item in ("poison-defense", "membership-defense", "epsilon-vs-ucb"):
        assert ids[item].solution and ids[item].solution["fr"] and ids[item].solution["en"]
    assert ids["membership-defense"].params["max_advantage"] == security.exercises.MAX_ADVANTAGE
    assert ids["poison-defense"].params["max_gap"] == security.exercises.MAX_GAP
