"""Learner records in the database (class mode): `SqlRecordStorage`, one row per learner and key.

Implements `workbench.core.records.RecordStorage`. A write is one atomic upsert, so a reader sees the old
content or the new, never half; every process on the same database sees a write at once.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workbench.core.db import get_engine, is_postgres
from workbench.core.db.schema import records


def _starts_with(column: sa.ColumnElement[str], prefix: str) -> sa.ColumnElement[bool]:
    """`column` starts with `prefix`, exactly (LIKE would be case-insensitive in SQLite and treat % and _)."""
    return sa.func.substr(column, 1, len(prefix)) == prefix


class SqlRecordStorage:
    """Records as rows of the `records` table (learner, key, data, updated_at) of a database URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def engine(self) -> sa.Engine:
        """The database engine (created and migrated on first use)."""
        return get_engine(self.url)

    def read(self, learner: str, key: str) -> bytes | None:
        """The record's content, or None when it does not exist."""
        query = sa.select(records.c.data).where(records.c.learner == learner, records.c.key == key)
        with self.engine.connect() as conn:
            data = conn.execute(query).scalar_one_or_none()
        return None if data is None else bytes(data)

    def write(self, learner: str, key: str, data: bytes) -> None:
        """Create or replace a record in one statement."""
        insert = postgresql.insert if is_postgres(self.engine) else sqlite.insert
        stmt = insert(records).values(learner=learner, key=key, data=bytes(data), updated_at=time.time())
        stmt = stmt.on_conflict_do_update(
            index_elements=[records.c.learner, records.c.key],
            set_={"data": stmt.excluded.data, "updated_at": stmt.excluded.updated_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def delete(self, learner: str, key: str) -> bool:
        """Remove one record; True when it existed."""
        with self.engine.begin() as conn:
            deleted = conn.execute(sa.delete(records).where(records.c.learner == learner, records.c.key == key))
        return deleted.rowcount > 0

    def keys(self, learner: str, prefix: str = "") -> list[str]:
        """The learner's record keys that start with `prefix`, sorted (code point order, as Python sorts)."""
        query = sa.select(records.c.key).where(records.c.learner == learner, _starts_with(records.c.key, prefix))
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def delete_prefix(self, learner: str, prefix: str) -> int:
        """Remove every record of the learner whose key starts with `prefix`; returns how many."""
        where = (records.c.learner == learner) & _starts_with(records.c.key, prefix)
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(records).where(where)).rowcount
