"""The tables `core/db/schema.py` declares are the tables the migrations build, column by column, on both databases.

The migrations keep their own copy of each column (a migration must never import the live schema, which moves
on); this test is what keeps the two copies in agreement.
"""

from __future__ import annotations

import sqlalchemy as sa
from workbench.core.db import get_engine
from workbench.core.db.schema import metadata


def _shape(column_type: object) -> str:
    """A type as both databases can agree on it (TEXT/VARCHAR, FLOAT/DOUBLE, BLOB/BYTEA…)."""
    kind = type(column_type)
    for family in (sa.LargeBinary, sa.Float, sa.Integer, sa.String):
        if issubclass(kind, family) or isinstance(column_type, family):
            return family.__name__
    return kind.__name__


def test_the_declared_schema_is_the_migrated_one(database_url: str) -> None:
    inspector = sa.inspect(get_engine(database_url))
    for table in metadata.sorted_tables:
        migrated = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(migrated) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            found = migrated[column.name]
            where = f"{table.name}.{column.name}"
            assert _shape(found["type"]) == _shape(column.type), where
            assert found["nullable"] == (column.nullable and not column.primary_key), where
        keys = inspector.get_pk_constraint(table.name)["constrained_columns"]
        assert set(keys) == {c.name for c in table.primary_key.columns}, table.name
        foreign = {
            (fk["referred_table"], tuple(fk["referred_columns"])) for fk in inspector.get_foreign_keys(table.name)
        }
        assert foreign == {(fk.column.table.name, (fk.column.name,)) for fk in table.foreign_keys}, table.name
