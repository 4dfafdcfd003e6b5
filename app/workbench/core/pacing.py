"""Pacing: when a chapter counts as done, and which earlier chapters to suggest before one (never a lock)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from pathlib import Path

from workbench.core.exercises import load_exercises


def chapter_done(chapter_key: str, completed: Set[str], lessons_dir: Path | None = None) -> bool:
    """True when every item that makes the chapter done (hands-on checks, checkpoint) is completed."""
    needed = set(load_exercises(chapter_key, lessons_dir).item_ids)
    return bool(needed) and needed <= set(completed)


def unfinished_prerequisites(
    prerequisites: tuple[str, ...], completed: Mapping[str, Set[str]], lessons_dir: Path | None = None
) -> tuple[str, ...]:
    """The prerequisite chapters (keys, in the order given) the learner has not finished yet."""
    return tuple(key for key in prerequisites if not chapter_done(key, completed.get(key, set()), lessons_dir))
