"""Session context: the chosen language and learner, translations, cached shared resources."""

from __future__ import annotations

import streamlit as st

from workbench.core.db import database_url
from workbench.core.i18n import LocalizedError, translate
from workbench.core.progress import ProgressStore
from workbench.core.settings import LANGUAGES, get_settings
from workbench.ui import identity


def current_lang() -> str:
    """The language chosen in the sidebar (default from settings: French unless WORKBENCH_LANG says otherwise)."""
    lang = st.session_state.get("lang")
    return lang if lang in LANGUAGES else get_settings().lang


def current_learner() -> str:
    """The learner of this session (see workbench.ui.identity: the sidebar name, carried in the URL)."""
    return identity.current_learner()


def t(key: str, **values: object) -> str:
    """Translate a UI string into the current language."""
    return translate(key, current_lang(), **values)


@st.cache_resource(show_spinner=False)
def _progress_store(url: str) -> ProgressStore:
    return ProgressStore(url)


def progress_store() -> ProgressStore:
    """The progress store of the configured database (PostgreSQL in class, else the state dir's SQLite file)."""
    return _progress_store(database_url(get_settings()))


def error_text(exc: BaseException, *, with_type: bool = False) -> str:
    """An exception's explanation in the learner's language (`LocalizedError`), else its own text (a library's
    message), prefixed by its type with `with_type` (an unexpected error someone will look up)."""
    if isinstance(exc, LocalizedError):
        return exc.message(current_lang())
    return f"{type(exc).__name__}: {exc}" if with_type else str(exc)
