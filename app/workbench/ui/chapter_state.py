"""A chapter's state in one place: its widget keys (from the chapter's prefix) and the reset that clears it all."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from workbench.chapters import Chapter
from workbench.core.progress import ProgressStore
from workbench.core.records import records_for
from workbench.core.settings import Settings, get_settings
from workbench.ui.context import progress_store


@dataclass(frozen=True)
class ChapterReset:
    """What resetting a chapter erased."""

    answers: int  # progress answers (quiz and checks)
    records: int  # saved records (answers, files) under the chapter's key prefix
    widgets: int  # session-state entries under the chapter's widget prefix


def chapter_state_keys(chapter: Chapter, keys: Iterable[Any]) -> list[str]:
    """The session-state keys that belong to the chapter: those under its prefix (`ch05_…`), nothing else."""
    head = f"{chapter.prefix}_"
    return [key for key in keys if isinstance(key, str) and key.startswith(head)]


def reset_chapter(
    chapter: Chapter,
    learner: str,
    *,
    store: ProgressStore | None = None,
    settings: Settings | None = None,
    state: MutableMapping[Any, Any] | None = None,
) -> ChapterReset:
    """Erase one chapter of a learner's work: progress, records (by the chapter's key prefix), widget state.

    Workspaces (git sandboxes, builds) are not records and stay: each has its own reset in its lab.
    """
    state = st.session_state if state is None else state
    answers = (store or progress_store()).reset(learner, chapter.key)
    records = records_for(settings or get_settings(), learner).reset_chapter(chapter.package)
    widgets = chapter_state_keys(chapter, list(state.keys()))
    for key in widgets:
        del state[key]
    return ChapterReset(answers, records, len(widgets))
