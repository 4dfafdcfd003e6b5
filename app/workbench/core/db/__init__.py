"""The workbench's database: one URL (PostgreSQL in class mode, SQLite under the state dir solo), one engine
per URL and process, and its schema brought up to date by Alembic migrations before first use.

Solo mode keeps today's `.workbench/progress.db`: a file written by an older version (tables `attempts` and
`visits`, no Alembic version) is adopted by the first migration, nothing lost.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from workbench.core.settings import Settings

MIGRATIONS = "workbench.core.db:migrations"
_migrated: set[str] = set()
_engines: dict[tuple[str, int], Engine] = {}
_lock = threading.RLock()
#: Engines kept open at once in one process (one per database URL).
MAX_ENGINES = 16


def database_url(settings: Settings) -> str:
    """The configured database: WORKBENCH_DATABASE_URL, else SQLite at the state dir's `progress.db`."""
    return settings.database_url or sqlite_url(settings.progress_db)


def sqlite_url(path: Path | str) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{Path(path)}"


def normalize_url(url: str) -> str:
    """`postgresql://…` (what people write) → the psycopg 3 driver SQLAlchemy should use."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_postgres(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA busy_timeout = 30000")  # concurrent writers wait instead of failing
    cursor.execute("PRAGMA journal_mode = WAL")  # readers work while one writer commits
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A transaction that reads before it writes takes the write lock first (`immediate` execution option),
    # so a concurrent writer makes it wait (busy_timeout) rather than fail.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")


def _engine(url: str, pid: int) -> Engine:
    with _lock:
        engine = _engines.get((url, pid))
        if engine is None:
            if len(_engines) >= MAX_ENGINES:  # e.g. tests, one file each: close the oldest's connections
                _engines.pop(next(iter(_engines))).dispose()
            engine = _engines[(url, pid)] = _new_engine(url)
        return engine


def _new_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy's transactions be SQLite's (BEGIN at the first statement; see the SQLAlchemy docs).
        event.listen(engine, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(url: str) -> Engine:
    """The engine of a database URL, migrated to the latest schema (one per URL and process)."""
    url = normalize_url(url)
    engine = _engine(url, os.getpid())  # a forked process gets its own pool
    if url not in _migrated:
        with _lock:
            if url not in _migrated:
                migrate(engine)
                _migrated.add(url)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that reads then writes: SQLite takes the write lock at BEGIN (others wait, none fails)."""
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        yield conn


def dispose_engines() -> None:
    """Close every pooled connection of this process (before a database is dropped, or at shutdown)."""
    for engine in list(_engines.values()):
        engine.dispose()
    _engines.clear()
    _migrated.clear()


def migrate(engine: Engine) -> None:
    """Bring the database to the latest revision; two processes doing it at once take turns."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with write_transaction(engine) as conn:
        if is_postgres(engine):  # one migrating process at a time, the others wait then find it done
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(1507)")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def table_names(engine: Engine) -> set[str]:
    """The tables the database holds (for tests and diagnostics)."""
    return set(inspect(engine).get_table_names())
