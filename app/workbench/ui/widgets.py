"""Small shared widgets: "show me the code", a live log of a running command, a code editor font."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from workbench.ui.context import t


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


def monospace_editor(key: str) -> None:
    """Show the text area with widget key `key` in a monospace font, as a code editor (call it before the widget).

    The font is Streamlit's own code font, served by the app itself: nothing is fetched from outside."""
    st.html(
        f"<style>.st-key-{key} textarea {{font-family: 'Source Code Pro', ui-monospace, monospace; "
        "font-size: 0.875rem; tab-size: 4;}</style>"
    )
