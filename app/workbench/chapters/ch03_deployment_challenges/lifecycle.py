"""The ML lifecycle: stages read from `lessons/lifecycle.yaml`, drawn as a clickable cycle."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import yaml

from workbench.core.formatting import localize_figure
from workbench.core.i18n import pick, translate
from workbench.core.settings import get_settings


@dataclass(frozen=True)
class Stage:
    """One stage of the ML lifecycle, with bilingual texts."""

    id: str
    name: dict[str, str]
    summary: dict[str, str]
    challenges: dict[str, list[str]]
    artefacts: dict[str, list[str]]
    roles: dict[str, str]
    mlops: dict[str, str]
    chapters: tuple[int, ...]


def load_stages(lessons_dir: Path | None = None) -> list[Stage]:
    """The lifecycle stages in order."""
    path = (lessons_dir or get_settings().lessons_dir) / "lifecycle.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Stage(
            id=s["id"],
            name=s["name"],
            summary=s["summary"],
            challenges=s["challenges"],
            artefacts=s["artefacts"],
            roles=s["roles"],
            mlops=s["mlops"],
            chapters=tuple(s.get("chapters", ())),
        )
        for s in data["stages"]
    ]


def stage_positions(n: int) -> list[tuple[float, float]]:
    """Points on a circle, clockwise from the top."""
    return [(math.sin(2 * math.pi * i / n), math.cos(2 * math.pi * i / n)) for i in range(n)]


def lifecycle_figure(stages: list[Stage], lang: str, selected: str | None = None) -> go.Figure:
    """The lifecycle as a cycle of clickable stages; the selected stage is highlighted.

    Each marker's `customdata` is the stage id, so a click (plotly selection) tells which stage it is.
    """
    positions = stage_positions(len(stages))
    fig = go.Figure()
    for i, (x0, y0) in enumerate(positions):
        x1, y1 = positions[(i + 1) % len(positions)]
        loop_back = i == len(positions) - 1
        fig.add_annotation(
            x=x1 * 0.86 + x0 * 0.14,
            y=y1 * 0.86 + y0 * 0.14,
            ax=x0 * 0.86 + x1 * 0.14,
            ay=y0 * 0.86 + y1 * 0.14,
            xref="x",
            yref="y",
            axref="x",
            ayref="y",
            showarrow=True,
            arrowhead=3,
            arrowsize=1.3,
            arrowwidth=2,
            arrowcolor="#e45756" if loop_back else "#9aa5b1",
        )
    fig.add_annotation(
        x=0, y=0, text=translate("lifecycle.center", lang), showarrow=False, font={"size": 15, "color": "#52606d"}
    )
    colors = ["#2f6f9f" if s.id == selected else "#9cc3e0" for s in stages]
    fig.add_trace(
        go.Scatter(
            x=[p[0] for p in positions],
            y=[p[1] for p in positions],
            mode="markers+text",
            marker={
                "size": [46 if s.id == selected else 36 for s in stages],
                "color": colors,
                "line": {"width": 2, "color": "#1f4e79"},
            },
            text=[f"{i + 1}" for i in range(len(stages))],
            textfont={"color": "white", "size": 14},
            customdata=[s.id for s in stages],
            hovertext=[pick(s.name, lang) for s in stages],
            hoverinfo="text",
            showlegend=False,
        )
    )
    for (x, y), stage in zip(positions, stages):
        side = "left" if x > 0.1 else "right" if x < -0.1 else "center"
        offset = {"left": 0.1, "right": -0.1, "center": 0.0}[side]
        fig.add_annotation(
            x=x + offset,
            y=y + (0.17 if side == "center" and y > 0 else -0.17 if side == "center" else 0),
            text=f"<b>{pick(stage.name, lang)}</b>",
            showarrow=False,
            xanchor=side,
            font={"size": 13, "color": "#1f2933"},
        )
    fig.update_layout(
        height=460,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False, "range": [-2.2, 2.2]},
        yaxis={"visible": False, "range": [-1.3, 1.3]},
        plot_bgcolor="rgba(0,0,0,0)",
        dragmode=False,
        clickmode="event+select",
    )
    return localize_figure(fig, lang)
