"""Figures of the A/B test, bandits and business value labs."""

from __future__ import annotations

import math

import pandas as pd

from workbench.chapters.ch11_post_production.ab_tests.ab_test import ABSimulation, PeekingResult, SampleSize, _z
from workbench.chapters.ch11_post_production.ab_tests.bandits import BanditResult
from workbench.chapters.ch11_post_production.ab_tests.business import Portfolio, break_even_threshold, profit_curve
from workbench.core.formatting import format_value, localize_figure, percent, percent_axis
from workbench.core.i18n import translate

# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def model_label(label: str, lang: str) -> str:
    """A model's display name: the translated family name for a model trained here, else the label."""
    from workbench.core.modeling import MODEL_NAMES

    return translate(f"model.name_{label}", lang) if label in MODEL_NAMES else label


def _layout(fig, title: str, x: str, y: str, height: int = 360, *, lang: str):
    fig.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10}
    )
    return localize_figure(fig, lang)


def sample_size_figure(curve: pd.DataFrame, chosen: SampleSize, lang: str):
    """Sample size per arm vs the minimum detectable effect, the chosen design marked."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=curve["mde"], y=curve["n_per_arm"], mode="lines+markers", name=translate("experiments.n_per_arm", lang)
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[chosen.p_b - chosen.p_a],
            y=[chosen.n_per_arm],
            mode="markers",
            marker={"size": 14, "symbol": "star"},
            name=translate("experiments.your_design", lang),
        )
    )
    fig.update_yaxes(type="log", dtick=1)
    effects = [*curve["mde"], chosen.p_b - chosen.p_a]
    fig.update_xaxes(**percent_axis(min(effects), max(effects), lang, 1, as_points=True))  # a difference: points
    return _layout(
        fig,
        translate("experiments.ss_curve_title", lang),
        translate("experiments.mde", lang),
        translate("experiments.n_per_arm", lang),
        lang=lang,
    )


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
    fig = go.Figure(
        go.Bar(
            x=arms,
            y=rates,
            error_y={"type": "data", "array": errors},
            text=[percent(r, lang) for r in rates],
            marker_color=["#636efa", "#ef553b"],
        )
    )
    fig.update_yaxes(**percent_axis(0.0, max(r + e for r, e in zip(rates, errors)), lang))
    return _layout(
        fig,
        translate("experiments.ab_title", lang),
        translate("experiments.arm", lang),
        translate("experiments.default_rate", lang),
        lang=lang,
    )


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
    fig.add_trace(
        go.Scatter(
            x=result.stopped_by_day["day"],
            y=result.stopped_by_day["stopped"],
            mode="lines",
            name=translate("experiments.peek_daily", lang),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[result.days],
            y=[result.fpr_once],
            mode="markers",
            marker={"size": 12},
            name=translate("experiments.peek_once", lang),
        )
    )
    fig.add_hline(
        y=result.alpha,
        line_dash="dash",
        line_color="gray",
        annotation_text=f"α = {format_value(result.alpha, 'g', lang)}",
    )
    highest = max([*result.stopped_by_day["stopped"], result.fpr_once, result.alpha])
    fig.update_yaxes(**percent_axis(0.0, highest, lang), rangemode="tozero")
    return _layout(
        fig,
        translate("experiments.peek_title", lang),
        translate("experiments.day", lang),
        translate("experiments.false_positive_rate", lang),
        lang=lang,
    )


def regret_figure(result: BanditResult, lang: str):
    """Mean cumulative regret of each strategy over the requests."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy in result.final_regret:
        fig.add_trace(
            go.Scatter(
                x=result.regret["step"],
                y=result.regret[strategy],
                mode="lines",
                name=translate(f"experiments.strategy_{strategy}", lang),
            )
        )
    return _layout(
        fig,
        translate("experiments.regret_title", lang),
        translate("experiments.requests", lang),
        translate("experiments.cumulative_regret", lang),
        lang=lang,
    )


def reward_figure(result: BanditResult, lang: str):
    """Mean cumulative reward of each strategy."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy in result.final_reward:
        fig.add_trace(
            go.Scatter(
                x=result.reward["step"],
                y=result.reward[strategy],
                mode="lines",
                name=translate(f"experiments.strategy_{strategy}", lang),
            )
        )
    return _layout(
        fig,
        translate("experiments.reward_title", lang),
        translate("experiments.requests", lang),
        translate("experiments.cumulative_reward", lang),
        lang=lang,
    )


def share_figure(result: BanditResult, strategy: str, lang: str):
    """Share of the traffic each arm receives over time, for one strategy (stacked areas)."""
    import plotly.graph_objects as go

    data = result.share[result.share["strategy"] == strategy]
    fig = go.Figure()
    for arm, rate in enumerate(result.rates):
        rows = data[data["arm"] == arm]
        fig.add_trace(
            go.Scatter(
                x=rows["step"],
                y=rows["share"],
                stackgroup="one",
                mode="lines",
                name=translate("experiments.arm_label", lang, arm=arm + 1, rate=rate),
            )
        )
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1])
    title = translate("experiments.share_title", lang, strategy=translate(f"experiments.strategy_{strategy}", lang))
    return _layout(
        fig, title, translate("experiments.requests", lang), translate("experiments.traffic_share", lang), lang=lang
    )


def profit_figure(portfolio: Portfolio, gain: float, loss: float, lang: str, chosen: float | None = None):
    """Profit over the decision threshold, one line per model, with the break-even threshold."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, probability in portfolio.probabilities.items():
        curve = profit_curve(probability, portfolio.repaid, gain, loss)
        fig.add_trace(
            go.Scatter(
                x=curve["threshold"], y=curve["profit"], mode="lines", name=translate(f"model.name_{name}", lang)
            )
        )
    fig.add_vline(
        x=break_even_threshold(gain, loss),
        line_dash="dash",
        line_color="gray",
        annotation_text=translate("experiments.break_even", lang),
    )
    if chosen is not None:
        fig.add_vline(
            x=chosen,
            line_color="red",
            annotation_text=translate("experiments.your_threshold", lang),
            annotation_position="bottom right",
        )
    return _layout(
        fig,
        translate("experiments.profit_title", lang),
        translate("experiments.threshold", lang),
        translate("experiments.profit", lang),
        lang=lang,
    )


def bands_figure(bands: pd.DataFrame, lang: str):
    """Applications per risk band and the observed repayment rate."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=bands["band"], y=bands["applications"], name=translate("experiments.applications", lang)))
    fig.add_trace(
        go.Scatter(
            x=bands["band"],
            y=bands["observed"],
            mode="lines+markers",
            name=translate("experiments.observed_repayment", lang),
        ),
        secondary_y=True,
    )
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1], showgrid=False, secondary_y=True)
    return _layout(
        fig,
        translate("experiments.bands_title", lang),
        translate("experiments.band", lang),
        translate("experiments.applications", lang),
        lang=lang,
    )
