"""The app's pages for `st.navigation`: Home plus one page per chapter, grouped in sections."""

from __future__ import annotations

import streamlit as st

from workbench.chapters import CHAPTERS, SECTIONS
from workbench.ui.context import t
from workbench.ui.home import render_home


def build_pages() -> dict[str, list]:
    """Navigation sections → pages, with titles in the current language."""
    pages: dict[str, list] = {
        t("nav.section_start"): [
            st.Page(render_home, title=t("nav.home"), icon=":material/home:", url_path="home", default=True)
        ]
    }
    for section in SECTIONS:
        pages[t(f"nav.section_{section}")] = [
            st.Page(c.page_path, title=t(f"nav.ch{c.number:02d}"), icon=c.icon, url_path=c.key)
            for c in CHAPTERS
            if c.section == section
        ]
    return pages
