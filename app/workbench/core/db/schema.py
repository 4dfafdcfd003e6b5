"""The tables the workbench queries (their creation and changes are the migrations' job).

`tests/db/test_schema.py` checks that these declarations and the migrated database agree, column by column.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()


def _keys(*names: str) -> list[sa.Column[Any]]:
    """Text columns that together make the table's primary key."""
    return [sa.Column(name, sa.Text, primary_key=True) for name in names]


def _required(name: str, type_: Any) -> sa.Column[Any]:
    """A column that is never NULL."""
    return sa.Column(name, type_, nullable=False)


attempts = sa.Table(
    "attempts",
    metadata,
    *_keys("learner", "chapter", "item"),
    _required("kind", sa.Text),
    _required("completed", sa.Integer),
    _required("last_correct", sa.Integer),
    sa.Column("first_correct", sa.Integer),
    _required("attempts", sa.Integer),
    sa.Column("answer", sa.Text),
    sa.Column("score", sa.Float),
    _required("updated_at", sa.Float),
    sa.Column("solution_seen", sa.Integer, nullable=False, server_default="0"),  # walkthrough opened before passing
)

visits = sa.Table("visits", metadata, *_keys("learner", "chapter"), _required("visited_at", sa.Float))

attempt_log = sa.Table(
    "attempt_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *(_required(name, sa.Text) for name in ("learner", "chapter", "item", "kind")),
    _required("correct", sa.Integer),
    sa.Column("answer", sa.Text),
    _required("at", sa.Float),
)

records = sa.Table(
    "records", metadata, *_keys("learner", "key"), _required("data", sa.LargeBinary), _required("updated_at", sa.Float)
)

people = sa.Table(
    "people",
    metadata,
    *_keys("name"),
    _required("role", sa.Text),
    sa.Column("email", sa.Text, unique=True),
    _required("created_at", sa.Float),
)

join_tokens = sa.Table(
    "join_tokens",
    metadata,
    *_keys("token_hash"),
    sa.Column("name", sa.Text, sa.ForeignKey("people.name", ondelete="CASCADE"), nullable=False),
    _required("created_at", sa.Float),
    sa.Column("revoked_at", sa.Float),
)
