"""A walkthrough opened before passing: recorded on the item, never counted as done; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from workbench.core.classroom_report import (
    load_class,
    progress_matrix,
    report_csv,
    report_rows,
    solution_seen_matrix,
)
from workbench.core.db import get_engine
from workbench.core.exercises import load_exercises
from workbench.core.pacing import chapter_done
from workbench.core.progress import ProgressStore, course_progress

from tests.conftest import fresh_postgres_database

CHAPTER = "06_docker"
ITEMS = load_exercises(CHAPTER).item_ids  # its hands-on checks and the checkpoint


@pytest.fixture
def store(database_url: str) -> ProgressStore:
    return ProgressStore(database_url)


def _finish(store: ProgressStore, learner: str) -> None:
    for item in ITEMS:
        store.record_attempt(learner, CHAPTER, item, "hands_on", True)


def test_a_pass_after_the_solution_is_passed_with_solution_seen_not_done(store: ProgressStore) -> None:
    seen = store.record_solution_seen("ana", CHAPTER, "entrypoint-cmd")
    assert (seen.solution_seen, seen.completed, seen.attempts, seen.done) == (True, False, 0, False)
    _finish(store, "ana")
    item = store.chapter_items("ana", CHAPTER)["entrypoint-cmd"]
    assert item.completed and item.solution_seen and item.passed_with_solution and not item.done
    assert store.completed_items("ana") == {CHAPTER: set(ITEMS) - {"entrypoint-cmd"}}
    assert not chapter_done(CHAPTER, store.completed_items("ana")[CHAPTER])
    progress = {p.chapter_key: p for p in course_progress(store, "ana")}[CHAPTER]
    assert (progress.done, progress.total) == (len(ITEMS) - 1, len(ITEMS))


def test_a_learner_who_passed_first_keeps_done(store: ProgressStore) -> None:
    _finish(store, "bob")
    item = store.record_solution_seen("bob", CHAPTER, "entrypoint-cmd")
    assert item.done and not item.solution_seen
    assert chapter_done(CHAPTER, store.completed_items("bob")[CHAPTER])


def test_resetting_the_chapter_clears_solution_seen(store: ProgressStore) -> None:
    store.record_solution_seen("ana", CHAPTER, "entrypoint-cmd")
    store.record_solution_seen("ana", "09_kubernetes", "configmap-namespace")
    store.reset("ana", CHAPTER)
    _finish(store, "ana")
    assert chapter_done(CHAPTER, store.completed_items("ana")[CHAPTER])
    assert store.chapter_items("ana", "09_kubernetes")["configmap-namespace"].solution_seen


def test_teacher_report_and_heat_map_show_it_apart(store: ProgressStore) -> None:
    store.record_solution_seen("ana", CHAPTER, "entrypoint-cmd")
    _finish(store, "ana")
    _finish(store, "bob")
    snapshot = load_class(store, ["ana", "bob"])
    rows = {(r.learner, r.chapter): r for r in report_rows(snapshot)}
    n = len(ITEMS)
    assert (rows["ana", CHAPTER].done, rows["ana", CHAPTER].solution_seen) == (n - 1, 1)
    assert (rows["bob", CHAPTER].done, rows["bob", CHAPTER].solution_seen) == (n, 0)
    assert progress_matrix(snapshot).loc["ana", CHAPTER] == pytest.approx((n - 1) / n)
    assert solution_seen_matrix(snapshot).loc["ana", CHAPTER] == 1
    lines = report_csv(report_rows(snapshot)).splitlines()
    assert lines[0].endswith(",solution_seen")
    assert any(line.startswith(f"ana,{CHAPTER},{n - 1},{n},") and line.endswith(",1") for line in lines)


def _stamp_0002(url: str) -> None:
    """A database as 0002 left it: every table but without `solution_seen`, with one learner's row."""
    from alembic import command
    from alembic.config import Config
    from workbench.core import db

    config = Config()
    config.set_main_option("script_location", db.MIGRATIONS)
    engine = sa.create_engine(db.normalize_url(url))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002_classroom")
        conn.execute(
            sa.text(
                "INSERT INTO attempts (learner, chapter, item, kind, completed, last_correct, attempts, updated_at)"
                " VALUES ('ana', '06_docker', 'expose-publish', 'hands_on', 1, 1, 2, 1.0)"
            )
        )
    engine.dispose()


def _migrate_existing(url: str) -> None:
    _stamp_0002(url)
    engine = get_engine(url)  # migrates to head
    assert "solution_seen" in {c["name"] for c in sa.inspect(engine).get_columns("attempts")}
    store = ProgressStore(url)
    kept = store.chapter_items("ana", CHAPTER)["expose-publish"]
    assert kept.done and not kept.solution_seen
    assert store.record_solution_seen("ana", CHAPTER, "entrypoint-cmd").solution_seen


def test_0003_migrates_an_existing_sqlite_store(tmp_path: Path) -> None:
    _migrate_existing(f"sqlite:///{tmp_path / 'progress.db'}")


def test_0003_migrates_an_existing_postgres_database() -> None:
    with fresh_postgres_database() as url:
        _migrate_existing(url)


def test_the_certificate_does_not_count_it(store: ProgressStore) -> None:
    from workbench.core.certificate import build_certificate

    store.record_solution_seen("ana", CHAPTER, "entrypoint-cmd")
    _finish(store, "ana")
    _finish(store, "bob")
    ana, bob = (build_certificate(name, store.class_items([name])[name], "fr").chapters for name in ("ana", "bob"))
    docker = next(n for n, c in enumerate(ana) if c.roman == "VI")
    assert not ana[docker].done and bob[docker].done
    assert ana[docker].hands_on == bob[docker].hands_on - 1
