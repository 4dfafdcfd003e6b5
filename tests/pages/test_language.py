"""One language per page: every page, and the results of its labs, read in French show no English (and the
reverse), no raw identifier as a label (`p50_ms`, `rejected_share`), French numbers (`0,85`, not `0.85`) in
texts, metrics, tables and charts, and no Streamlit default left in English ("Choose options")."""

from __future__ import annotations

import json

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.settings import get_settings

from tests.pages.conftest import assert_no_exception, open_app
from tests.pages.ui_text import (
    Text,
    decimal_point_sliders,
    english_numbers,
    foreign_words,
    missing_placeholders,
    page_texts,
    raw_identifiers,
    table_cells,
)

PAGES = [None, *(c.key for c in CHAPTERS)]


@pytest.fixture(autouse=True)
def neutral_learner(monkeypatch) -> None:
    """A name that is a word in neither language (the default test learner contains "learner")."""
    monkeypatch.setenv("WORKBENCH_LEARNER", "Camille")
    get_settings.cache_clear()


def assert_one_language(at, lang: str, data: tuple[str, ...] = ()) -> None:
    """The page as rendered now speaks `lang` only (`data`: the learner's own strings, e.g. run names)."""
    assert_no_exception(at)
    texts = [Text(t.where, _without(t.text, data), t.label) for t in page_texts(at)]
    assert len(texts) > 20
    problems = foreign_words(texts, lang) + raw_identifiers(texts) + missing_placeholders(at)
    if lang == "fr":
        problems += english_numbers(texts + table_cells(at)) + decimal_point_sliders(at)
        for chart in at.get("plotly_chart"):
            separators = json.loads(chart.proto.spec)["layout"].get("separators")
            if separators != ",\u202f":
                problems.append(f"plotly_chart {chart.proto.id[-30:]}: separators {separators!r}, not French")
    assert problems == [], "\n".join(problems)


def _without(text: str, data: tuple[str, ...]) -> str:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p or "home")
def test_every_page_speaks_one_language(page, lang) -> None:
    assert_one_language(open_app(lang, page, timeout=120), lang)


def _click(*keys: str):
    def run(at) -> None:
        for key in keys:
            at.button(key=key).click().run()

    return run


def _mlflow(at) -> None:
    from workbench.core import tracking

    at.selectbox(key="ch05_track_model").set_value("decision_tree").run()
    at.button(key="ch05_train").click().run()
    at.selectbox(key="ch05_track_model").set_value("logistic_regression").run()
    at.button(key="ch05_train").click().run()
    at.multiselect(key="ch05_compare_pick").set_value(list(tracking.search_runs()["run_id"])[:2]).run()
    at.button(key="ch05_compare").click().run()


def _challenges(at) -> None:
    at.slider(key="ch03_serving_rows").set_value(100).run()
    at.slider(key="ch03_serving_budget").set_value(2).run()
    _click("ch03_serving_run", "ch03_feedback_run", "ch03_robust_send")(at)


def _fundamentals(at) -> None:
    at.select_slider(key="ch02_numpy_rows").set_value(10_000).run()
    at.button(key="ch02_numpy_run").click().run()
    at.segmented_control(key="ch02_pandas_action").set_value("groupby").run()


def _post_production(at) -> None:
    at.slider(key="ch11_budget").set_value(5).run()
    at.multiselect(key="ch11_poison_strategies").set_value(["targeted"]).run()
    at.slider(key="ch11_bandit_runs").set_value(2).run()
    at.select_slider(key="ch11_peek_sims").set_value(500).run()
    at.select_slider(key="ch11_ab_n").set_value(2000).run()
    _click(
        "ch11_wb_run",
        "ch11_poison_run",
        "ch11_def_run",
        "ch11_ab_run",
        "ch11_peek_run",
        "ch11_bandit_run",
        "ch11_portfolio_run",
    )(at)


#: How to reach each lab's results (metrics, tables, charts) without an external service.
SCENARIOS = {
    "01_introduction": _click("ch01_train"),
    "02_fundamentals": _fundamentals,
    "03_deployment_challenges": _challenges,
    "04_packaging": _click("ch04_ser_run", "ch04_reduce_run"),
    "05_mlflow": _mlflow,
    "06_docker": _click("ch06_lint"),
    "10_monitoring": _click("ch10_tl_run"),
    "11_post_production": _post_production,
}


@pytest.mark.usefixtures("mlflow_store")
@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("page", SCENARIOS)
def test_lab_results_speak_one_language(page, lang) -> None:
    from workbench.core import tracking

    at = open_app(lang, page, timeout=300)
    SCENARIOS[page](at)
    runs = tracking.search_runs() if page == "05_mlflow" else None
    # the learner's data: run names, and the keys the runs logged (shown as MLflow stores them)
    names = (
        ()
        if runs is None
        else (
            *runs["run_name"].dropna(),
            *(c.split(".", 1)[1] for c in runs.columns if "." in c),
            *(k for r in runs["run_id"] for k in tracking.run_detail(r, lang).tags),
        )
    )
    assert_one_language(at, lang, data=names)
