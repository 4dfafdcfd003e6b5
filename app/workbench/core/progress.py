"""Learner progress in SQLite (WAL): answers, completed exercises, last visited chapter.

Each call opens its own short-lived connection, so the store is safe to share between Streamlit
sessions (threads) and processes; WAL mode lets readers work while one writer commits, and
`busy_timeout` makes concurrent writers wait instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workbench.chapters import CHAPTERS
from workbench.core.exercises import load_exercises

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    learner     TEXT NOT NULL,
    chapter     TEXT NOT NULL,
    item        TEXT NOT NULL,
    kind        TEXT NOT NULL,            -- 'quiz' | 'hands_on'
    completed   INTEGER NOT NULL DEFAULT 0,  -- 1 once answered correctly / check passed (sticky)
    last_correct INTEGER NOT NULL DEFAULT 0,
    first_correct INTEGER,                -- 1/0: was the first attempt right (set once, never changed)
    attempts    INTEGER NOT NULL DEFAULT 0,
    answer      TEXT,                     -- JSON of the last answer or check evidence
    score       REAL,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (learner, chapter, item)
);
CREATE TABLE IF NOT EXISTS visits (
    learner     TEXT NOT NULL,
    chapter     TEXT NOT NULL,
    visited_at  REAL NOT NULL,
    PRIMARY KEY (learner, chapter)
);
"""


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


class ProgressStore:
    """Progress of every learner, in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            if not self._ready:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(SCHEMA)
                columns = {row[1] for row in conn.execute("PRAGMA table_info(attempts)")}
                if "first_correct" not in columns:  # a store written before first tries were recorded
                    conn.execute("ALTER TABLE attempts ADD COLUMN first_correct INTEGER")
                self._ready = True
            yield conn
        finally:
            conn.close()

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
        """Save an answer or a check result; `completed` stays true once reached."""
        now = time.time()
        with self._connect() as conn:
            conn.execute(
                """
                INSERT INTO attempts (learner, chapter, item, kind, completed, last_correct, first_correct,
                                      attempts, answer, score, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
                ON CONFLICT (learner, chapter, item) DO UPDATE SET
                    completed = MAX(completed, excluded.completed),
                    last_correct = excluded.last_correct,
                    attempts = attempts + 1,
                    answer = excluded.answer,
                    score = COALESCE(MAX(score, excluded.score), excluded.score, score),
                    updated_at = excluded.updated_at
                """,
                (
                    learner,
                    chapter,
                    item,
                    kind,
                    int(correct),
                    int(correct),
                    int(correct),
                    json.dumps(answer, default=str),
                    score,
                    now,
                ),
            )
        return self.chapter_items(learner, chapter)[item]

    def record_visit(self, learner: str, chapter: str) -> None:
        """Remember that the learner opened a chapter (for "continue where you left off")."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO visits VALUES (?, ?, ?) ON CONFLICT (learner, chapter) "
                "DO UPDATE SET visited_at = excluded.visited_at",
                (learner, chapter, time.time()),
            )

    def chapter_items(self, learner: str, chapter: str) -> dict[str, ItemProgress]:
        """The learner's progress on each attempted item of a chapter."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT item, kind, completed, last_correct, attempts, answer, score, updated_at, first_correct "
                "FROM attempts WHERE learner = ? AND chapter = ?",
                (learner, chapter),
            ).fetchall()
        return {
            r[0]: ItemProgress(
                r[0],
                r[1],
                bool(r[2]),
                bool(r[3]),
                r[4],
                json.loads(r[5] or "null"),
                r[6],
                r[7],
                None if r[8] is None else bool(r[8]),
            )
            for r in rows
        }

    def completed_items(self, learner: str) -> dict[str, set[str]]:
        """Chapter key → ids of the items the learner has completed."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT chapter, item FROM attempts WHERE learner = ? AND completed = 1", (learner,)
            ).fetchall()
        done: dict[str, set[str]] = {}
        for chapter, item in rows:
            done.setdefault(chapter, set()).add(item)
        return done

    def last_visited(self, learner: str) -> str | None:
        """The chapter the learner opened most recently, if any."""
        with self._connect() as conn:
            row = conn.execute(
                "SELECT chapter FROM visits WHERE learner = ? ORDER BY visited_at DESC LIMIT 1", (learner,)
            ).fetchone()
        return row[0] if row else None

    def learners(self) -> list[str]:
        """Every learner who has answered or visited something."""
        with self._connect() as conn:
            rows = conn.execute("SELECT learner FROM attempts UNION SELECT learner FROM visits ORDER BY 1").fetchall()
        return [r[0] for r in rows]

    def reset(self, learner: str, chapter: str | None = None) -> int:
        """Erase a learner's progress (one chapter or all). Returns the number of answers erased."""
        where, args = (
            ("learner = ?", [learner]) if chapter is None else ("learner = ? AND chapter = ?", [learner, chapter])
        )
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            erased = conn.execute(f"DELETE FROM attempts WHERE {where}", args).rowcount
            conn.execute(f"DELETE FROM visits WHERE {where}", args)
            conn.execute("COMMIT")
        return erased

    def visited_chapters(self, learner: str) -> dict[str, float]:
        """Chapter key → when the learner last opened it (seconds since the epoch); the teacher's live view."""
        with self._connect() as conn:
            rows = conn.execute("SELECT chapter, visited_at FROM visits WHERE learner = ?", (learner,)).fetchall()
        return {chapter: visited_at for chapter, visited_at in rows}


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
