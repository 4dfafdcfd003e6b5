"""Progress store: persistence across connections and processes, concurrency, reset, completion."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from workbench.chapters import CHAPTERS
from workbench.core.exercises import load_exercises
from workbench.core.progress import (
    ProgressStore,
    continue_chapter,
    course_progress,
    overall_fraction,
)


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    return ProgressStore(tmp_path / "progress.db")


def test_uses_wal_mode(store: ProgressStore) -> None:
    store.record_visit("ana", "01_introduction")
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_progress_survives_a_new_store_on_the_same_file(store: ProgressStore) -> None:
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", True, answer=[2])
    again = ProgressStore(store.path)
    item = again.chapter_items("ana", "05_mlflow")["q1"]
    assert item.completed and item.answer == [2] and item.attempts == 1


def test_completion_is_sticky_but_last_answer_is_kept(store: ProgressStore) -> None:
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", True, answer=[2])
    item = store.record_attempt("ana", "05_mlflow", "q1", "quiz", False, answer=[0])
    assert item.completed and not item.last_correct and item.attempts == 2 and item.answer == [0]


def test_learners_are_separate(store: ProgressStore) -> None:
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", True)
    store.record_attempt("bob", "05_mlflow", "q1", "quiz", False)
    assert store.completed_items("ana") == {"05_mlflow": {"q1"}}
    assert store.completed_items("bob") == {}
    assert store.learners() == ["ana", "bob"]


def test_reset_one_chapter_or_everything(store: ProgressStore) -> None:
    for chapter in ("01_introduction", "05_mlflow"):
        store.record_attempt("ana", chapter, "q1", "quiz", True)
        store.record_visit("ana", chapter)
    store.record_attempt("bob", "05_mlflow", "q1", "quiz", True)
    assert store.reset("ana", "05_mlflow") == 1
    assert store.completed_items("ana") == {"01_introduction": {"q1"}}
    assert store.reset("ana") == 1
    assert store.completed_items("ana") == {} and store.last_visited("ana") is None
    assert store.completed_items("bob") == {"05_mlflow": {"q1"}}


def test_concurrent_writers_from_threads_lose_nothing(store: ProgressStore) -> None:
    def write(worker: int) -> None:
        for i in range(50):
            store.record_attempt(f"learner{worker}", "05_mlflow", f"q{i}", "quiz", True)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(store.completed_items(f"learner{w}")["05_mlflow"]) == 50 for w in range(8))


def _process_writer(path: str, worker: int) -> None:
    store = ProgressStore(Path(path))
    for i in range(40):
        store.record_attempt("shared", "10_monitoring", f"w{worker}-q{i}", "quiz", True)
        store.record_attempt("shared", "10_monitoring", "same-item", "quiz", True)


def test_concurrent_processes_lose_nothing(store: ProgressStore) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(str(store.path), w)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    items = store.chapter_items("shared", "10_monitoring")
    assert len(items) == 4 * 40 + 1
    assert items["same-item"].attempts == 160


def test_course_progress_and_continue(store: ProgressStore) -> None:
    learner = "ana"
    progress = course_progress(store, learner)
    assert [p.chapter_key for p in progress] == [c.key for c in CHAPTERS]
    assert overall_fraction(progress) == 0
    assert continue_chapter(store, learner, progress) == "01_introduction"

    first = load_exercises("02_fundamentals").item_ids[0]
    store.record_attempt(learner, "02_fundamentals", first, "hands_on", True)
    store.record_attempt(learner, "02_fundamentals", "deleted-question", "quiz", True)
    store.record_visit(learner, "02_fundamentals")
    progress = course_progress(store, learner)
    chapter2 = progress[1]
    assert chapter2.done == 1  # an item removed from the YAML no longer counts
    assert chapter2.fraction == pytest.approx(1 / chapter2.total)
    assert 0 < overall_fraction(progress) < 1
    assert continue_chapter(store, learner, progress) == "02_fundamentals"


def test_continue_skips_a_finished_last_chapter(store: ProgressStore) -> None:
    for qid in load_exercises("03_deployment_challenges").item_ids:
        store.record_attempt("ana", "03_deployment_challenges", qid, "quiz", True)
    store.record_visit("ana", "03_deployment_challenges")
    progress = course_progress(store, "ana")
    assert progress[2].fraction == 1
    assert continue_chapter(store, "ana", progress) == "01_introduction"


def test_first_try_is_recorded_once_and_survives_later_attempts(tmp_path):
    from workbench.core.progress import ProgressStore

    store = ProgressStore(tmp_path / "p.db")
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", False)
    item = store.record_attempt("ana", "05_mlflow", "q1", "quiz", True)
    assert (item.first_correct, item.completed, item.attempts) == (False, True, 2)
    assert store.record_attempt("ana", "05_mlflow", "q2", "quiz", True).first_correct is True


def test_a_store_written_before_first_tries_gains_the_column(tmp_path):
    import sqlite3

    from workbench.core.progress import ProgressStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE attempts (learner TEXT NOT NULL, chapter TEXT NOT NULL, item TEXT NOT NULL,"
            " kind TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0, last_correct INTEGER NOT NULL DEFAULT 0,"
            " attempts INTEGER NOT NULL DEFAULT 0, answer TEXT, score REAL, updated_at REAL NOT NULL,"
            " PRIMARY KEY (learner, chapter, item));"
            "INSERT INTO attempts VALUES ('ana', '05_mlflow', 'q1', 'quiz', 1, 1, 1, 'null', NULL, 0);"
        )
    store = ProgressStore(path)
    assert store.chapter_items("ana", "05_mlflow")["q1"].first_correct is None
    assert store.record_attempt("ana", "05_mlflow", "q9", "quiz", False).first_correct is False


def test_a_store_written_by_the_previous_version_is_adopted_nothing_lost(tmp_path, monkeypatch):
    """A progress.db from before migrations (0.1's code: executescript of its schema, WAL) keeps every row."""
    import importlib.util
    import subprocess
    import sys

    from workbench.core.db import get_engine, table_names

    from tests.conftest import REPO_ROOT

    old_source = subprocess.run(
        ["git", "show", "87edd8d:app/workbench/core/progress.py"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout
    if not old_source:
        pytest.skip("the previous version's progress.py is not in this checkout's history")
    module_path = tmp_path / "old_progress.py"
    module_path.write_text(old_source)
    spec = importlib.util.spec_from_file_location("old_progress", module_path)
    old = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "old_progress", old)  # dataclasses look their module up
    spec.loader.exec_module(old)
    path = tmp_path / "progress.db"
    before = old.ProgressStore(path)
    before.record_attempt("ana", "05_mlflow", "q1", "quiz", False, answer=[1], score=0.2)
    before.record_attempt("ana", "05_mlflow", "q1", "quiz", True, answer=[2], score=0.8)
    before.record_attempt("zoé", "10_monitoring", "drift", "hands_on", True, answer={"psi": 0.3})
    before.record_visit("ana", "05_mlflow")

    store = ProgressStore(path)
    item = store.chapter_items("ana", "05_mlflow")["q1"]
    assert (item.completed, item.attempts, item.answer, item.score, item.first_correct) == (True, 2, [2], 0.8, False)
    assert store.completed_items("zoé") == {"10_monitoring": {"drift"}}
    assert store.last_visited("ana") == "05_mlflow" and store.learners() == ["ana", "zoé"]
    assert {"alembic_version", "attempt_log", "records", "people", "join_tokens"} <= table_names(store.engine)
    with get_engine(store.url).connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0003_solution_seen"
    store.record_attempt("ana", "05_mlflow", "q1", "quiz", False, answer=[0])
    assert store.chapter_items("ana", "05_mlflow")["q1"].attempts == 3
    assert old.ProgressStore(path).chapter_items("ana", "05_mlflow")["q1"].attempts == 3  # the file stays SQLite
