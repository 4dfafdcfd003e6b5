"""Alembic migrations: a fresh database gets every table; app processes starting together migrate once."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import sqlalchemy as sa
from workbench.core.db import database_url, get_engine, normalize_url, table_names
from workbench.core.settings import get_settings

from tests.conftest import fresh_postgres_database

TABLES = {"alembic_version", "attempts", "visits", "attempt_log", "records", "people", "join_tokens"}


def _start_app(url: str) -> None:
    from workbench.core.progress import ProgressStore

    ProgressStore(url).record_visit("ana", "01_introduction")


def _migrate_together(url: str, n: int = 4) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_start_app, args=(url,)) for _ in range(n)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0


def _version(url: str) -> str:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()


def test_processes_starting_together_on_a_fresh_postgres_migrate_once() -> None:
    with fresh_postgres_database() as url:
        _migrate_together(url)
        assert TABLES <= table_names(get_engine(url)) and _version(url) == "0003_solution_seen"


def test_processes_starting_together_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'progress.db'}"
    _migrate_together(url)
    assert TABLES <= table_names(get_engine(url)) and _version(url) == "0003_solution_seen"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/wb", "postgresql+psycopg://u:p@db:5432/wb"),
        ("postgres://u@db/wb", "postgresql+psycopg://u@db/wb"),
        ("postgresql+psycopg://u@db/wb", "postgresql+psycopg://u@db/wb"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_urls_use_psycopg_3(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


def test_solo_mode_is_sqlite_under_the_state_dir(isolated_state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert database_url(get_settings()) == f"sqlite:///{isolated_state / 'progress.db'}"
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql://class@db/wb")
    get_settings.cache_clear()
    assert database_url(get_settings()) == "postgresql://class@db/wb"
