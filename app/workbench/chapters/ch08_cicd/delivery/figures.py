"""Tables and figure of the pipeline's runs."""

from __future__ import annotations

import pandas as pd

from workbench.chapters.ch08_cicd.delivery.state import PipelineRun
from workbench.core.formatting import localize_figure, seconds
from workbench.core.i18n import translate

# --------------------------------------------------------------------------------------------
# Tables and figure
# --------------------------------------------------------------------------------------------

STATUS_COLORS = {
    "pending": "#adb5bd",
    "passed": "#2f9e44",
    "failed": "#e03131",
    "waiting": "#f59f00",
    "skipped": "#dee2e6",
}
STATUS_SYMBOLS = {"pending": "○", "passed": "✓", "failed": "✗", "waiting": "…", "skipped": "–"}


def steps_table(run: PipelineRun, lang: str) -> pd.DataFrame:
    """The steps as a table: step, status, seconds, message."""
    tr = lambda key: translate(f"cicd.{key}", lang)  # noqa: E731
    return pd.DataFrame(
        {
            tr("col_step"): [tr(f"step_{s.name}") for s in run.steps],
            tr("col_status"): [f"{STATUS_SYMBOLS[s.status]} {tr(f'status_{s.status}')}" for s in run.steps],
            tr("col_seconds"): [round(s.seconds, 2) for s in run.steps],
            tr("col_message"): [s.text(lang).replace("`", "") for s in run.steps],
        }
    )


def history_table(history: list[dict], lang: str) -> pd.DataFrame:
    """The learner's pipelines, newest first: number, date, mode, injection, outcome, gate numbers, version."""
    import datetime as dt

    tr = lambda key: translate(f"cicd.{key}", lang)  # noqa: E731
    rows = []
    for h in reversed(history):
        gate = h.get("gate") or {}
        outcome = h.get("outcome", "running")
        failed = h.get("failed_step")
        rows.append(
            {
                "#": h.get("number"),
                tr("col_started"): dt.datetime.fromtimestamp(h.get("started", 0)),
                tr("col_mode"): tr(f"mode_{h.get('mode', 'delivery')}"),
                tr("col_injection"): tr(f"injection_{h.get('injection', 'none')}"),
                tr("col_commit"): (h.get("commit") or "")[:7],
                tr("col_outcome"): tr(f"outcome_{outcome}") + (f" ({tr(f'step_{failed}')})" if failed else ""),
                tr("col_candidate"): gate.get("candidate"),
                tr("col_production"): gate.get("production"),
                tr("col_version"): h.get("version"),
                tr("col_seconds"): h.get("seconds"),
            }
        )
    table = pd.DataFrame(rows)
    for column in (tr("col_version"),):
        if column in table:
            table[column] = table[column].astype("Int64")
    return table


def pipeline_figure(run: PipelineRun, lang: str):
    """The pipeline as a chain of coloured steps (status) with their durations."""
    import plotly.graph_objects as go

    xs = list(range(len(run.steps)))
    names = [translate(f"cicd.step_{s.name}", lang) for s in run.steps]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[0] * len(xs),
            mode="lines",
            line={"color": "#ced4da", "width": 4},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[0] * len(xs),
            mode="markers+text",
            marker={
                "size": 46,
                "color": [STATUS_COLORS[s.status] for s in run.steps],
                "line": {"color": "white", "width": 2},
            },
            text=[STATUS_SYMBOLS[s.status] for s in run.steps],
            textfont={"color": "white", "size": 20},
            hovertext=[f"{n}: {translate(f'cicd.status_{s.status}', lang)}" for n, s in zip(names, run.steps)],
            hoverinfo="text",
            showlegend=False,
        )
    )
    for x, name, s in zip(xs, names, run.steps):
        fig.add_annotation(x=x, y=-0.55, text=f"<b>{name}</b>", showarrow=False, font={"size": 13})
        if s.status in ("passed", "failed"):
            fig.add_annotation(
                x=x, y=0.55, text=seconds(s.seconds, lang, 1), showarrow=False, font={"size": 11, "color": "#495057"}
            )
    fig.update_layout(
        height=170,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="rgba(0,0,0,0)",
        xaxis={"visible": False, "range": [-0.6, len(xs) - 0.4]},
        yaxis={"visible": False, "range": [-1, 1]},
    )
    return localize_figure(fig, lang)
