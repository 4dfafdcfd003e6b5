"""Shared fixtures: every test gets its own state dir (progress db, MLflow store) in tmp_path."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from workbench.core.services import free_port  # noqa: F401 - re-exported for the tests
from workbench.core.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
_MAIN = sys.modules["__main__"]


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the workbench at a fresh state dir and a fresh MLflow store for this test."""
    state = tmp_path / "state"
    monkeypatch.setenv("WORKBENCH_STATE_DIR", str(state))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{state / 'mlflow.db'}")
    monkeypatch.setenv("WORKBENCH_LEARNER", "test-learner")
    monkeypatch.setenv("WORKBENCH_RAISE_ERRORS", "1")  # an unexpected error fails the test (see run_page)
    monkeypatch.delenv("WORKBENCH_LANG", raising=False)
    monkeypatch.delenv("WORKBENCH_DATA", raising=False)
    get_settings.cache_clear()
    yield state
    get_settings.cache_clear()
    # Streamlit's script runner (AppTest) leaves the page it ran as sys.modules["__main__"]; a later "spawn"
    # process would re-run that page in bare mode and die before the test's own function runs.
    sys.modules["__main__"] = _MAIN


@pytest.fixture(scope="session")
def _mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow SQLite store with its tables created once (migrations take seconds)."""
    import mlflow

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{path}")
    mlflow.search_experiments()
    mlflow.set_tracking_uri(previous)
    return path


@pytest.fixture
def mlflow_store(isolated_state: Path, _mlflow_template: Path) -> str:
    """This test's own real MLflow store (a fresh copy of an empty, migrated SQLite database)."""
    import shutil

    isolated_state.mkdir(parents=True, exist_ok=True)
    shutil.copy(_mlflow_template, isolated_state / "mlflow.db")
    return get_settings().mlflow_tracking_uri


#: The server `.ci/run` starts (`.ci/postgres`); unset locally, where PostgreSQL tests skip, saying why.
POSTGRES_ENV = "WORKBENCH_TEST_POSTGRES_URL"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server (skip locally, fail in CI without one); dropped after."""
    import uuid

    import sqlalchemy as sa
    from workbench.core.db import dispose_engines, normalize_url

    server = os.environ.get(POSTGRES_ENV)
    if not server:
        if os.environ.get("WORKBENCH_REQUIRE_POSTGRES"):
            pytest.fail(f"{POSTGRES_ENV} is not set but WORKBENCH_REQUIRE_POSTGRES is: CI must not skip these")
        pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} (`.ci/postgres start DIR` prints one; .ci/run does it)")
    name = f"wb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(normalize_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(normalize_url(server)).set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test module on the real server; dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url
