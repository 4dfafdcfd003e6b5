"""Streamlit helpers shared by Home and the chapter pages (the only part of the package that imports streamlit)."""

from workbench.ui.context import current_lang, current_learner, progress_store, t
from workbench.ui.widgets import show_code

__all__ = ["current_lang", "current_learner", "progress_store", "show_code", "t"]
