"""Shared pieces of the Security tab: the cached victim, progress, budget, errors, formats."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from workbench.chapters import get_chapter
from workbench.core import formatting as fmt
from workbench.core.settings import get_settings
from workbench.ui.context import current_lang, error_text, t
from workbench.ui.resources import trained_on_course_data

P = get_chapter("ch11_post_production").prefix  # widget key prefix, from the chapter


@dataclass(frozen=True)
class RateLimit:
    """The rate limit the learner restarted the API with (requests per second, burst)."""

    rate: float
    burst: int


@dataclass(frozen=True)
class HoldoutAnswers:
    """The served model's probabilities for the held-out applications, measured once per model version."""

    version: str | None
    probabilities: list[float]


def _train_victim(data, model_name: str, params_key: tuple):
    from workbench.chapters.ch11_post_production.security import train_victim

    return train_victim(data, model_name, dict(params_key))


def victim(model_name: str, params: dict | None = None):
    """The attacked model trained on the course data (cached per model and dataset fingerprint)."""
    return trained_on_course_data("security_victim", _train_victim, model_name, tuple(sorted((params or {}).items())))


def _progress(text: str):
    """A progress bar and its callback; the label says "done" once the work reaches 100 %."""
    bar = st.progress(0.0, text=text)
    return lambda fraction: bar.progress(fraction, text=text if fraction < 1 else t("common.done"))


def _budget() -> float:
    return float(st.session_state.get(f"{P}_budget", 30))


def _error(exc: Exception) -> None:
    st.error(t("security.error", error=error_text(exc)), icon=":material/error:")


def _data_path() -> str:
    """The course data file as the learner would name it (relative to the repository when inside it)."""
    settings = get_settings()
    path = settings.data_path
    return str(path.relative_to(settings.repo_root)) if path.is_relative_to(settings.repo_root) else str(path)


def _pct(value: float) -> str:
    return fmt.percent(value, current_lang())


def _pts(change: float) -> str:
    """A change of a share, in percentage points (`-12,3 pts`)."""
    return fmt.points(change, current_lang())
