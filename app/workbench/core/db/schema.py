"""The tables the workbench queries (their creation and changes are the migrations' job)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("learner", sa.Text, primary_key=True),
    sa.Column("chapter", sa.Text, primary_key=True),
    sa.Column("item", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("last_correct", sa.Integer, nullable=False),
    sa.Column("first_correct", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("score", sa.Float),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("solution_seen", sa.Integer, nullable=False, server_default="0"),  # walkthrough opened before passing
)

visits = sa.Table(
    "visits",
    metadata,
    sa.Column("learner", sa.Text, primary_key=True),
    sa.Column("chapter", sa.Text, primary_key=True),
    sa.Column("visited_at", sa.Float, nullable=False),
)

attempt_log = sa.Table(
    "attempt_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner", sa.Text, nullable=False),
    sa.Column("chapter", sa.Text, nullable=False),
    sa.Column("item", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("correct", sa.Integer, nullable=False),
    sa.Column("answer", sa.Text),
    sa.Column("at", sa.Float, nullable=False),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("learner", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

people = sa.Table(
    "people",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("email", sa.Text, unique=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

join_tokens = sa.Table(
    "join_tokens",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, sa.ForeignKey("people.name", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)
