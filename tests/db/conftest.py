"""Stores on both databases: SQLite (solo, a file per test) and the real PostgreSQL `.ci/run` starts."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from workbench.core.db import get_engine
from workbench.core.db.schema import metadata

BACKENDS = ["sqlite", "postgresql"]


def empty_database(postgres_url: str) -> str:
    """The module's PostgreSQL database with every workbench table emptied (one test's data never leaks)."""
    engine = get_engine(postgres_url)
    with engine.begin() as conn:
        names = ", ".join(table.name for table in metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return postgres_url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database: an SQLite file, or the module's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'progress.db'}"
    return empty_database(request.getfixturevalue("postgres_url"))
