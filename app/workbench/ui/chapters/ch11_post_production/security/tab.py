"""The Security tab: one sub-tab per family of attacks, then the defenses."""

from __future__ import annotations

import streamlit as st

from workbench.ui.chapters.ch11_post_production.security.attacks import (
    extraction_section,
    inversion_dos_section,
    membership_section,
    poisoning_section,
)
from workbench.ui.chapters.ch11_post_production.security.common import P, _error
from workbench.ui.chapters.ch11_post_production.security.defenses import defenses_section
from workbench.ui.chapters.ch11_post_production.security.evasion import evasion_section
from workbench.ui.context import t
from workbench.ui.resources import course_data


def security_tab() -> None:
    """The Security tab: one sub-tab per family of attacks, then the defenses."""
    st.markdown(t("security.intro"))
    st.slider(t("security.budget"), 5, 120, 30, 5, key=f"{P}_budget", help=t("security.budget_help"))
    tabs = st.tabs(
        [
            t("security.sub_evasion"),
            t("security.sub_poisoning"),
            t("security.sub_extraction"),
            t("security.sub_membership"),
            t("security.sub_inversion_dos"),
            t("security.sub_defenses"),
        ]
    )
    renders = (
        evasion_section,
        poisoning_section,
        extraction_section,
        membership_section,
        inversion_dos_section,
        defenses_section,
    )
    for tab, render in zip(tabs, renders):
        with tab:
            try:
                course_data()
            except (OSError, ValueError) as exc:
                _error(exc)
                return
            render()
