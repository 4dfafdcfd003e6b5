"""The course's chapters, collected from their packages (`chapters/chNN_slug/__init__.py` declares `CHAPTER`).

Adding a chapter is adding its package (see docs/ARCHITECTURE.md): no list to edit here. Importing this
module imports only the chapters' declarations (data), never their lab code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

from workbench.core.course import SECTIONS, Chapter, Tab, to_roman

__all__ = ["CHAPTERS", "SECTIONS", "Chapter", "Tab", "find_check", "get_chapter", "load_chapters", "to_roman"]

_PACKAGE = re.compile(r"ch(\d\d)_[a-z0-9_]+")


def load_chapters() -> tuple[Chapter, ...]:
    """Every chapter package's `CHAPTER`, in course order; a package whose name disagrees with it is an error."""
    chapters = []
    for info in pkgutil.iter_modules(__path__):
        if not (info.ispkg and _PACKAGE.fullmatch(info.name)):
            continue
        chapter = importlib.import_module(f"{__name__}.{info.name}").CHAPTER
        if chapter.package != info.name:
            raise ValueError(f"chapters/{info.name} declares chapter {chapter.key!r} (expected {chapter.package})")
        chapters.append(chapter)
    return tuple(sorted(chapters, key=lambda c: c.number))


CHAPTERS: tuple[Chapter, ...] = load_chapters()


def get_chapter(key_or_number: str | int) -> Chapter:
    """Find a chapter by its key (`05_mlflow`), slug (`mlflow`), package (`ch05_mlflow`) or number (5).

    Raises:
        KeyError: no chapter matches.
    """
    for chapter in CHAPTERS:
        if key_or_number in (chapter.key, chapter.slug, chapter.package, chapter.number):
            return chapter
    raise KeyError(f"unknown chapter: {key_or_number!r}")


@cache
def _checks_by_name() -> dict[str, str]:
    return {ref.partition(":")[2]: ref for chapter in CHAPTERS for ref in chapter.checks}


def find_check(name: str) -> str | None:
    """The `module:function` of the hands-on check a chapter declares under this function name, if any."""
    return _checks_by_name().get(name)
