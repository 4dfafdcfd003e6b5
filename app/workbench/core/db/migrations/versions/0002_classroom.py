"""Classroom tables: one row per attempt, learner records, the roster and its join tokens.

Revision ID: 0002_classroom
Revises: 0001_progress
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_classroom"
down_revision = "0001_progress"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the attempt log, records, people and join tokens."""
    op.create_table(
        "attempt_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("learner", sa.Text, nullable=False),
        sa.Column("chapter", sa.Text, nullable=False),
        sa.Column("item", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("correct", sa.Integer, nullable=False),
        sa.Column("answer", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_attempt_log_learner_at", "attempt_log", ["learner", "at"])
    op.create_index("ix_attempt_log_at", "attempt_log", ["at"])
    op.create_table(
        "records",
        sa.Column("learner", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("email", sa.Text, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "join_tokens",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, sa.ForeignKey("people.name", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_index("ix_join_tokens_name", "join_tokens", ["name"])


def downgrade() -> None:
    """Drop the classroom tables."""
    op.drop_table("join_tokens")
    op.drop_table("people")
    op.drop_table("records")
    op.drop_table("attempt_log")
