"""Learner progress: answers, completed exercises, every attempt, last visited chapter.

The store lives in the workbench's database (workbench.core.db): SQLite under the state dir in solo mode
(WAL, short transactions, concurrent writers wait), PostgreSQL in class mode, so two app processes see the
same progress at once. Every write is one atomic upsert; completion stays done once reached.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workbench.chapters import CHAPTERS
from workbench.core.db import get_engine, is_postgres, sqlite_url
from workbench.core.db.schema import attempt_log, attempts, visits
from workbench.core.exercises import load_exercises


@dataclass(frozen=True)
class ItemProgress:
    """Where a learner stands on one exercise."""

    item: str
    kind: str
    completed: bool
    last_correct: bool
    attempts: int
    answer: object
    score: float | None
    updated_at: float
    first_correct: bool | None = None
    solution_seen: bool = False  # the walkthrough was opened before the item was passed

    @property
    def done(self) -> bool:
        """Counts towards the chapter: passed without having opened the solution first."""
        return self.completed and not self.solution_seen

    @property
    def passed_with_solution(self) -> bool:
        """Passed, but only after opening the walkthrough ("passed, solution seen": not done)."""
        return self.completed and self.solution_seen


@dataclass(frozen=True)
class Attempt:
    """One attempt at an exercise, as the attempt log keeps it (what they tried, when, whether it was right)."""

    learner: str
    chapter: str
    item: str
    kind: str
    correct: bool
    answer: object
    at: float


@dataclass(frozen=True)
class Visit:
    """The last time a learner opened a chapter."""

    learner: str
    chapter: str
    visited_at: float


_ITEM_COLUMNS = tuple(
    attempts.c[name]
    for name in (
        "item",
        "kind",
        "completed",
        "last_correct",
        "attempts",
        "answer",
        "score",
        "updated_at",
        "first_correct",
        "solution_seen",
    )
)  # what `_item` reads from a row


def _item(r: sa.Row) -> ItemProgress:
    """One `attempts` row as an ItemProgress."""
    first = None if r.first_correct is None else bool(r.first_correct)
    answer = json.loads(r.answer or "null")
    return ItemProgress(
        r.item,
        r.kind,
        bool(r.completed),
        bool(r.last_correct),
        r.attempts,
        answer,
        r.score,
        r.updated_at,
        first,
        bool(r.solution_seen),
    )


class ProgressStore:
    """Progress of every learner, in one database (a file path for SQLite, or a database URL)."""

    def __init__(self, path_or_url: Path | str) -> None:
        text = str(path_or_url)
        is_url = "://" in text
        #: The SQLite file (solo mode), or None for a database server.
        self.path: Path | None = None if is_url and not text.startswith("sqlite") else Path(text)
        if is_url and text.startswith("sqlite:///"):
            self.path = Path(text.removeprefix("sqlite:///"))
        self.url = text if is_url else sqlite_url(text)

    @property
    def engine(self) -> sa.Engine:
        """The database engine (created and migrated on first use)."""
        return get_engine(self.url)

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(table) if is_postgres(self.engine) else sqlite.insert(table)

    def record_attempt(
        self,
        learner: str,
        chapter: str,
        item: str,
        kind: str,
        correct: bool,
        answer: object = None,
        score: float | None = None,
    ) -> ItemProgress:
        """Save an answer or a check result (and log the attempt); `completed` stays true once reached."""
        now = time.time()
        answer_json = json.dumps(answer, default=str)
        engine = self.engine
        stmt = self._insert(attempts).values(
            learner=learner,
            chapter=chapter,
            item=item,
            kind=kind,
            completed=int(correct),
            last_correct=int(correct),
            first_correct=int(correct),
            attempts=1,
            answer=answer_json,
            score=score,
            updated_at=now,
        )
        new = stmt.excluded
        if is_postgres(engine):  # GREATEST ignores NULLs
            completed, best = (
                sa.func.greatest(attempts.c.completed, new.completed),
                sa.func.greatest(attempts.c.score, new.score),
            )
        else:  # SQLite's two-argument MAX is NULL when either is
            completed = sa.func.max(attempts.c.completed, new.completed)
            best = sa.func.coalesce(sa.func.max(attempts.c.score, new.score), new.score, attempts.c.score)
        stmt = stmt.on_conflict_do_update(
            index_elements=[attempts.c.learner, attempts.c.chapter, attempts.c.item],
            set_={
                "completed": completed,
                "last_correct": new.last_correct,
                "attempts": attempts.c.attempts + 1,
                "answer": new.answer,
                "score": best,
                "updated_at": new.updated_at,
            },
        )
        with engine.begin() as conn:
            conn.execute(stmt)
            conn.execute(
                attempt_log.insert().values(
                    learner=learner,
                    chapter=chapter,
                    item=item,
                    kind=kind,
                    correct=int(correct),
                    answer=answer_json,
                    at=now,
                )
            )
        return self.chapter_items(learner, chapter)[item]

    def record_solution_seen(self, learner: str, chapter: str, item: str, kind: str = "hands_on") -> ItemProgress:
        """Record that the learner opened an item's walkthrough: an item not passed yet will then never count as
        done (its pass shows as "passed, solution seen"); an item already passed stays done (it was earned)."""
        stmt = self._insert(attempts).values(
            learner=learner,
            chapter=chapter,
            item=item,
            kind=kind,
            completed=0,
            last_correct=0,
            attempts=0,
            updated_at=time.time(),
            solution_seen=1,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[attempts.c.learner, attempts.c.chapter, attempts.c.item],
            set_={"solution_seen": sa.case((attempts.c.completed == 1, attempts.c.solution_seen), else_=1)},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
        return self.chapter_items(learner, chapter)[item]

    def record_visit(self, learner: str, chapter: str) -> None:
        """Remember that the learner opened a chapter (for "continue where you left off")."""
        stmt = self._insert(visits).values(learner=learner, chapter=chapter, visited_at=time.time())
        stmt = stmt.on_conflict_do_update(
            index_elements=[visits.c.learner, visits.c.chapter], set_={"visited_at": stmt.excluded.visited_at}
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def chapter_items(self, learner: str, chapter: str) -> dict[str, ItemProgress]:
        """The learner's progress on each attempted item of a chapter."""
        c = attempts.c
        query = sa.select(*_ITEM_COLUMNS).where(c.learner == learner, c.chapter == chapter)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return {r.item: _item(r) for r in rows}

    def completed_items(self, learner: str) -> dict[str, set[str]]:
        """Chapter key → ids of the items the learner has done (passed without opening the solution first)."""
        query = sa.select(attempts.c.chapter, attempts.c.item).where(
            attempts.c.learner == learner, attempts.c.completed == 1, attempts.c.solution_seen == 0
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        done: dict[str, set[str]] = {}
        for chapter, item in rows:
            done.setdefault(chapter, set()).add(item)
        return done

    def last_visited(self, learner: str) -> str | None:
        """The chapter the learner opened most recently, if any."""
        query = (
            sa.select(visits.c.chapter).where(visits.c.learner == learner).order_by(visits.c.visited_at.desc()).limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def learners(self) -> list[str]:
        """Every learner who has answered or visited something."""
        query = sa.union(sa.select(attempts.c.learner), sa.select(visits.c.learner))
        with self.engine.connect() as conn:
            return sorted(row[0] for row in conn.execute(query))

    def attempt_log(self, learner: str | None = None, since: float | None = None) -> list[Attempt]:
        """Every attempt, oldest first (one learner's, or the class's; only those at or after `since`)."""
        log = attempt_log.c
        query = sa.select(log.learner, log.chapter, log.item, log.kind, log.correct, log.answer, log.at).order_by(
            log.at, log.id
        )
        if learner is not None:
            query = query.where(log.learner == learner)
        if since is not None:
            query = query.where(log.at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Attempt(r.learner, r.chapter, r.item, r.kind, bool(r.correct), json.loads(r.answer or "null"), r.at)
            for r in rows
        ]

    def visits(self, learner: str | None = None) -> list[Visit]:
        """The last visit of each learner to each chapter, most recent first (one learner's, or the class's)."""
        query = sa.select(visits.c.learner, visits.c.chapter, visits.c.visited_at).order_by(visits.c.visited_at.desc())
        if learner is not None:
            query = query.where(visits.c.learner == learner)
        with self.engine.connect() as conn:
            return [Visit(*row) for row in conn.execute(query)]

    def reset(self, learner: str, chapter: str | None = None) -> int:
        """Erase a learner's progress (one chapter or all: answers, attempt log, visits). Returns answers erased."""
        with self.engine.begin() as conn:
            erased = 0
            for table in (attempts, attempt_log, visits):
                where = table.c.learner == learner
                if chapter is not None:
                    where = where & (table.c.chapter == chapter)
                count = conn.execute(sa.delete(table).where(where)).rowcount
                erased = count if table is attempts else erased
        return erased

    def class_items(self, learners: Iterable[str] | None = None) -> dict[str, dict[str, dict[str, ItemProgress]]]:
        """Learner → chapter → item → progress for the whole class (or `learners`), in one query."""
        c = attempts.c
        query = sa.select(c.learner, c.chapter, *_ITEM_COLUMNS)
        if learners is not None:
            query = query.where(c.learner.in_(list(learners)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out: dict[str, dict[str, dict[str, ItemProgress]]] = {}
        for r in rows:
            out.setdefault(r.learner, {}).setdefault(r.chapter, {})[r.item] = _item(r)
        return out

    def activity(self) -> list[Visit]:
        """Every learner's last visit to, and last answer in, each chapter, most recent first: one query (live view)."""
        query = sa.union_all(
            sa.select(visits.c.learner, visits.c.chapter, visits.c.visited_at.label("at")),
            sa.select(attempts.c.learner, attempts.c.chapter, attempts.c.updated_at.label("at")),
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return sorted((Visit(*row) for row in rows), key=lambda v: -v.visited_at)


@dataclass(frozen=True)
class ChapterProgress:
    """Completion of one chapter for one learner."""

    chapter_key: str
    done: int
    total: int

    @property
    def fraction(self) -> float:
        """Share of the chapter's exercises completed (0 when the chapter has none)."""
        return self.done / self.total if self.total else 0.0


def course_progress(store: ProgressStore, learner: str, lessons_dir: Path | None = None) -> list[ChapterProgress]:
    """Completion of every chapter, in course order (only items that still exist are counted)."""
    done = store.completed_items(learner)
    out = []
    for chapter in CHAPTERS:
        ids = set(load_exercises(chapter.key, lessons_dir).item_ids)
        out.append(ChapterProgress(chapter.key, len(ids & done.get(chapter.key, set())), len(ids)))
    return out


def overall_fraction(progress: list[ChapterProgress]) -> float:
    """Share of all the course's exercises completed."""
    total = sum(p.total for p in progress)
    return sum(p.done for p in progress) / total if total else 0.0


def continue_chapter(store: ProgressStore, learner: str, progress: list[ChapterProgress]) -> str:
    """Where to continue: the last visited chapter if unfinished, else the first unfinished one."""
    last = store.last_visited(learner)
    by_key = {p.chapter_key: p for p in progress}
    if last in by_key and by_key[last].fraction < 1:
        return last
    for p in progress:
        if p.fraction < 1:
            return p.chapter_key
    return last or CHAPTERS[0].key
