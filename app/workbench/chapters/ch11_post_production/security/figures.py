"""Figures and tables of the security lab (plotly figures, pandas tables, per language)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.chapters.ch11_post_production.security.extraction import ExtractionResult
from workbench.chapters.ch11_post_production.security.membership import MembershipResult
from workbench.core.data import (
    FEATURES,
)
from workbench.core.formatting import localize_figure, number, number_auto, percent_axis
from workbench.core.i18n import translate

# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def _layout(fig, title: str, x: str, y: str):
    fig.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, height=360, margin={"l": 10, "r": 10, "t": 50, "b": 10}
    )
    return fig


def poisoning_figure(curves: dict[str, pd.DataFrame], lang: str):
    """Accuracy vs poison rate, one line per strategy."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for strategy, curve in curves.items():
        fig.add_trace(
            go.Scatter(
                x=curve["rate"],
                y=curve["accuracy"],
                mode="lines+markers",
                name=translate(f"security.strategy_{strategy}", lang),
            )
        )
    rates = [v for curve in curves.values() for v in curve["rate"]] or [0.0]
    scores = [v for curve in curves.values() for v in curve["accuracy"]] or [0.0]
    fig.update_xaxes(**percent_axis(min(rates), max(rates), lang))
    fig.update_yaxes(**percent_axis(min(scores), max(scores), lang))
    return localize_figure(
        _layout(
            fig,
            translate("security.poison_title", lang),
            translate("security.poison_rate", lang),
            translate("security.accuracy", lang),
        ),
        lang,
    )


def extraction_figure(results: dict[str, ExtractionResult], lang: str):
    """Fidelity of the stolen copy vs labels obtained."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, result in results.items():
        fig.add_trace(
            go.Scatter(
                x=result.curve["queries"],
                y=result.curve["fidelity"],
                mode="lines+markers",
                name=translate(f"security.run_{name}", lang),
                cliponaxis=False,
            )
        )
    fig.update_yaxes(**percent_axis(0.0, 1.0, lang), range=[0, 1])  # a share: never above 100 %
    fig.update_xaxes(rangemode="tozero")
    return localize_figure(
        _layout(
            fig,
            translate("security.fidelity_title", lang),
            translate("security.labels_obtained", lang),
            translate("security.fidelity", lang),
        ),
        lang,
    )


def timeline_figure(results: dict[str, ExtractionResult], lang: str):
    """Labels obtained (and refused) vs time: the rate limit flattens the attacker's curve."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, result in results.items():
        label = translate(f"security.run_{name}", lang)
        fig.add_trace(
            go.Scatter(
                x=result.timeline["seconds"],
                y=result.timeline["obtained"],
                mode="lines",
                name=translate("security.obtained_of", lang, run=label),
            )
        )
        if result.refused:
            fig.add_trace(
                go.Scatter(
                    x=result.timeline["seconds"],
                    y=result.timeline["refused"],
                    mode="lines",
                    line={"dash": "dot"},
                    name=translate("security.refused_of", lang, run=label),
                )
            )
    return localize_figure(
        _layout(
            fig,
            translate("security.timeline_title", lang),
            translate("security.seconds", lang),
            translate("security.requests", lang),
        ),
        lang,
    )


def membership_figure(results: Sequence[MembershipResult], lang: str):
    """ROC curves of the membership attack on each model, with the chance diagonal."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in results:
        fpr, tpr = r.roc
        name = f"{translate(f'security.mia_{r.name}', lang)} (AUC {number(r.auc_art, lang, 2)})"
        fig.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=name))
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"dash": "dash", "color": "gray"},
            name=translate("model.chance", lang),
        )
    )
    return localize_figure(
        _layout(fig, translate("security.mia_title", lang), translate("model.fpr", lang), translate("model.tpr", lang)),
        lang,
    )


def _shown(value: object, lang: str) -> str:
    """A feature value as the learner reads it: numbers the language's way, "—" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return number_auto(value, lang) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def comparison_table(before: dict, after: dict, lang: str) -> pd.DataFrame:
    """An application before and after an attack, one row per feature, changes marked."""
    rows = []
    for feature in FEATURES:
        old, new = before.get(feature), after.get(feature)
        rows.append(
            {
                translate("security.col_feature", lang): feature,
                translate("security.col_before", lang): _shown(old, lang),
                translate("security.col_after", lang): _shown(new, lang),
                translate("security.col_changed", lang): "✱" if _differs(old, new) else "",
            }
        )
    return pd.DataFrame(rows)


def _differs(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    try:
        return not math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-9)
    except (TypeError, ValueError):
        return str(old) != str(new)
