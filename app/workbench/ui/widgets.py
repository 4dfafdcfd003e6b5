"""Small shared widgets: "show me the code", a live log, a code editor font, numbers, tables and charts in the
learner's language."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from workbench.core import formatting as fmt
from workbench.ui.context import current_lang, t


def inline_code(text: str) -> str:
    """Markdown showing `text` exactly, as code: `__init__.py` and `\\.` are not eaten as bold or escapes.

    The fence is one backtick longer than any run of backticks inside the text (CommonMark code span).
    """
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def show_code(code: str, *, title: str | None = None, language: str = "python", expanded: bool = False) -> None:
    """An expander with the code equivalent to what the learner just did, ready to copy."""
    with st.expander(title or t("common.show_code"), expanded=expanded, icon=":material/code:"):
        st.code(code, language=language)


def live_log(lines_shown: int = 12, every: int = 5) -> Callable[[str], None]:
    """A placeholder showing the last lines of a running command; returns the callback that feeds it."""
    area = st.empty()
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        if len(lines) % every == 0:
            area.code("\n".join(lines[-lines_shown:]), language="text")

    return on_line


def plotly_chart(fig, **kwargs):
    """`st.plotly_chart` with the figure's numbers written the learner's way (`0,85` in French)."""
    kwargs.setdefault("width", "stretch")
    return st.plotly_chart(fmt.localize_figure(fig, current_lang()), **kwargs)


def _cell_formatter(kind: str | Callable[[object], str], lang: str) -> Callable[[object], str]:
    if callable(kind):
        return kind
    digits = None
    if ":" in kind:
        kind, places = kind.split(":", 1)
        digits = int(places)
    return fmt.table_format(kind, lang, digits)


def localized_table(frame: pd.DataFrame, formats: Mapping[str, str | Callable] | None = None):
    """The table as a Styler whose numbers read the learner's way; sorting still uses the numbers.

    Float columns get up to 4 decimals; `formats` names a column's kind instead (`percent`, `percent:0`,
    `number:3`, `integer`, `points`, `seconds`, `ms`) or gives a function. Integer columns stay as they are
    (ids, ports, years).
    """
    lang = current_lang()
    formatters: dict[str, Callable[[object], str]] = {}
    for column in frame.columns:
        if formats and column in formats:
            formatters[column] = _cell_formatter(formats[column], lang)
        elif pd.api.types.is_float_dtype(frame[column]):
            formatters[column] = lambda v: fmt.number_auto(v, lang)
    if not formatters:  # nothing to write differently: no Styler (its rendering costs ~0.1 s per 10,000 cells)
        return frame
    return frame.style.format(formatters, na_rep=fmt.MISSING)


def dataframe(frame: pd.DataFrame, formats: Mapping[str, str | Callable] | None = None, **kwargs):
    """`st.dataframe` of `localized_table(frame, formats)` (same keyword arguments as `st.dataframe`)."""
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return st.dataframe(localized_table(frame, formats), **kwargs)


def decimal_slider(
    label: str,
    min_value: float,
    max_value: float,
    value: float,
    step: float,
    *,
    key: str,
    help: str | None = None,  # noqa: A002 - Streamlit's name
    disabled: bool = False,
    container=None,
    percent: bool = False,
) -> float:
    """A slider over decimal numbers that shows them the learner's way (`0,05`), where `st.slider` writes `0.05`.

    A `st.select_slider` over the values `min_value, min_value + step, …, max_value`; returns the chosen float.
    With `percent`, the values are fractions shown as percentages (`0.15` → `15 %`).
    """
    box = container if container is not None else st
    lang = current_lang()
    digits = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    count = int(round((max_value - min_value) / step))
    options = [round(min_value + i * step, digits + 2) for i in range(count + 1)]
    start = min(options, key=lambda option: abs(option - value))

    def shown(v: float) -> str:
        return fmt.percent(v, lang, max(digits - 2, 0)) if percent else fmt.number(v, lang, digits)

    if key in st.session_state:  # the learner's value (or one set by the app): keep it, on the nearest option
        current = st.session_state[key]
        if current not in options:
            st.session_state[key] = min(options, key=lambda option: abs(option - float(current)))
        start = None
    return box.select_slider(
        label,
        options,
        **({} if start is None else {"value": start}),
        key=key,
        help=help,
        disabled=disabled,
        format_func=shown,
    )


def number_field(
    label: str,
    *,
    key: str,
    value: float | int,
    min_value: float | None = None,
    max_value: float | None = None,
    integer: bool = False,
    digits: int = 2,
    help: str | None = None,  # noqa: A002 - Streamlit's name
    container=None,
    disabled: bool = False,
) -> float | int | None:
    """A number typed the learner's way (`75,1` in French), checked, with a clear message when it is not one.

    Replaces `st.number_input`, which reads `75,1` as 751 and explains its range in English. The text lives in
    `st.session_state[key]`; it is rewritten in the new language when the learner switches. Returns the
    number, or None (after showing why) when the text is not a number in the allowed range.
    """
    box = container if container is not None else st
    lang = current_lang()
    lang_key = f"{key}__lang"

    def written(number: float | int, in_lang: str) -> str:
        return fmt.number_auto(number, in_lang, 0 if integer else digits, grouping=False)

    if key not in st.session_state:
        st.session_state[key] = written(value, lang)
    elif st.session_state.get(lang_key, lang) != lang:  # the learner switched language: same number, new writing
        try:
            st.session_state[key] = written(fmt.parse_number(st.session_state[key], st.session_state[lang_key]), lang)
        except ValueError:
            pass
    st.session_state[lang_key] = lang
    text = box.text_input(label, key=key, help=help, disabled=disabled, max_chars=40)
    example = written(value, lang)
    try:
        number = fmt.parse_number(text, lang)
    except ValueError:
        box.error(t("common.not_a_number", text=text.strip(), example=example), icon=":material/error:")
        return None
    if integer and not float(number).is_integer():
        box.error(t("common.not_an_integer", text=text.strip()), icon=":material/error:")
        return None
    low = -float("inf") if min_value is None else min_value
    high = float("inf") if max_value is None else max_value
    if not low <= number <= high:
        box.error(
            t("common.out_of_range", value=written(number, lang), low=written(low, lang), high=written(high, lang)),
            icon=":material/error:",
        )
        return None
    return int(number) if integer else number


def streamlit_texts() -> None:
    """Streamlit's own English texts the app cannot pass as arguments (file uploader, "Press Enter"), translated.

    Streamlit has no setting for them; its elements carry stable `data-testid`s, so a small style sheet hides
    the English and shows the learner's language in its place. Called once per run by Home.
    """
    size = st.get_option("server.maxUploadSize")

    def css_text(text: str) -> str:
        return text.replace("\\", "").replace('"', "'")

    st.html(
        f"""<style>
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{
  content: "{css_text(t("common.upload_limit", size=size))}"; font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzone"] button p {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button p::after {{
  content: "{css_text(t("common.upload_button"))}"; font-size: 0.875rem; }}
[data-testid="InputInstructions"] > span:first-child {{ font-size: 0; }}
[data-testid="InputInstructions"] > span:first-child::after {{
  content: "{css_text(t("common.press_enter"))}"; font-size: 0.75rem; }}
</style>"""
    )


def monospace_editor(key: str) -> None:
    """Show the text area with widget key `key` in a monospace font, as a code editor (call it before the widget).

    The font is Streamlit's own code font, served by the app itself: nothing is fetched from outside."""
    st.html(
        f"<style>.st-key-{key} textarea {{font-family: 'Source Code Pro', ui-monospace, monospace; "
        "font-size: 0.875rem; tab-size: 4;}</style>"
    )
