"""formatting: numbers, percentages, points, durations and dates in French and English; parsing what is typed."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import pytest
from workbench.core import formatting as fmt

NB, NNB = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    "call, fr, en",
    [
        (lambda lang: fmt.number(0.8512, lang, 2), "0,85", "0.85"),
        (lambda lang: fmt.number(1234.5, lang, 1), f"1{NNB}234,5", "1,234.5"),
        (lambda lang: fmt.number(-0.0312, lang, 3, sign=True), "-0,031", "-0.031"),
        (lambda lang: fmt.number(0.0312, lang, 3, sign=True), "+0,031", "+0.031"),
        (lambda lang: fmt.integer(1234567, lang), f"1{NNB}234{NNB}567", "1,234,567"),
        (lambda lang: fmt.percent(0.772, lang), f"77,2{NB}%", "77.2%"),
        (lambda lang: fmt.percent(0.5, lang, 0), f"50{NB}%", "50%"),
        (lambda lang: fmt.percent(-0.0215, lang, 2, sign=True), f"-2,15{NB}%", "-2.15%"),
        (lambda lang: fmt.points(0.023, lang), f"+2,3{NB}pts", f"+2.3{NB}pts"),
        (lambda lang: fmt.points(-0.015, lang), f"-1,5{NB}pt", f"-1.5{NB}pts"),
        (lambda lang: fmt.seconds(0.2134, lang), f"0,21{NB}s", f"0.21{NB}s"),
        (lambda lang: fmt.milliseconds(12.46, lang, 1), f"12,5{NB}ms", f"12.5{NB}ms"),
        (lambda lang: fmt.date(dt.date(2026, 12, 2), lang), "2 décembre 2026", "December 2, 2026"),
        (lambda lang: fmt.date("2026-12-02T14:03:00", lang), "2 décembre 2026", "December 2, 2026"),
        (lambda lang: fmt.number(float("nan"), lang), "—", "—"),
        (lambda lang: fmt.percent(None, lang), "—", "—"),
    ],
)
def test_each_language_writes_numbers_its_own_way(call, fr, en) -> None:
    assert (call("fr"), call("en")) == (fr, en)


def test_date_time_reads_naturally() -> None:
    moment = dt.datetime(2026, 12, 2, 14, 3)
    assert fmt.date_time(moment, "fr") == "2 décembre 2026 à 14:03"
    assert fmt.date_time(moment, "en").startswith("December 2, 2026, 2:03")


@pytest.mark.parametrize(
    "spec, value, fr, en",
    [
        (".2f", 0.8512, "0,85", "0.85"),
        ("+.3f", -0.01, "-0,010", "-0.010"),
        (".1%", 0.772, f"77,2{NB}%", "77.2%"),
        ("+.1%", 0.05, f"+5,0{NB}%", "+5.0%"),
        (".0f", 1234.4, f"1{NNB}234", "1,234"),
        (",", 12345, f"12{NNB}345", "12,345"),
        ("", 8000, "8000", "8000"),
        ("", 0.05, "0,05", "0.05"),
        (".2e", 1.5e-5, "1,50e-05", "1.50e-05"),
        (".3g", 0.012345, "0,0123", "0.0123"),
        ("+.1pp", 0.023, f"+2,3{NB}pts", f"+2.3{NB}pts"),
        ("", True, "True", "True"),
        ("", "texte", "texte", "texte"),
        (">5", "ab", "   ab", "   ab"),
    ],
)
def test_format_value_follows_python_specs_with_the_language_s_marks(spec, value, fr, en) -> None:
    assert (fmt.format_value(value, spec, "fr"), fmt.format_value(value, spec, "en")) == (fr, en)


@pytest.mark.parametrize(
    "text, lang, expected",
    [
        ("75,1", "fr", 75.1),
        ("75.1", "fr", 75.1),
        (" 1 234,5 ", "fr", 1234.5),
        (f"1{NNB}234,5", "fr", 1234.5),
        ("-2,5", "fr", -2.5),
        ("\u22122,5", "fr", -2.5),
        ("75.1", "en", 75.1),
        ("1,234.5", "en", 1234.5),
        ("+3", "en", 3.0),
        ("0", "fr", 0.0),
    ],
)
def test_parse_number_reads_what_a_learner_types(text, lang, expected) -> None:
    assert fmt.parse_number(text, lang) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text, lang",
    [("", "fr"), ("abc", "fr"), ("7,5,1", "fr"), ("75,1", "en"), ("1e3", "en"), ("12 %", "fr"), ("--1", "fr")],
)
def test_parse_number_refuses_what_is_not_one_number(text, lang) -> None:
    """`75,1` in English is not silently read as 751 (what Streamlit's number input did)."""
    with pytest.raises(ValueError):
        fmt.parse_number(text, lang)


def test_figures_get_the_language_s_separators() -> None:
    fig = fmt.localize_figure(go.Figure(go.Bar(x=[1], y=[0.5])), "fr")
    assert fig.layout.separators == f",{NNB}"
    assert fmt.localize_figure(go.Figure(), "en").layout.separators == ".,"


def test_table_formats() -> None:
    assert fmt.table_format("percent", "fr")(0.1234) == f"12,3{NB}%"
    assert fmt.table_format("number", "fr", 2)(3.14159) == "3,14"
    assert fmt.table_format("integer", "en")(1234) == "1,234"


@pytest.mark.parametrize(
    "text, markdown",
    [
        ("COPY app/workbench/__init__.py .", "`COPY app/workbench/__init__.py .`"),
        ("RUN grep '\\.py$' x", "`RUN grep '\\.py$' x`"),
        ("echo `date`", "`` echo `date` ``"),
        ("a``b", "```a``b```"),
    ],
)
def test_inline_code_shows_any_text_as_written(text, markdown) -> None:
    from workbench.ui.widgets import inline_code

    assert inline_code(text) == markdown
