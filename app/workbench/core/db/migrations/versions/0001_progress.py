"""Progress as version 0.1 wrote it (attempts, visits, first_correct); an existing file is adopted as it is.

Revision ID: 0001_progress
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_progress"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the progress tables, or adopt those a store written before migrations already holds."""
    existing = sa.inspect(op.get_bind())
    tables = set(existing.get_table_names())
    if "attempts" not in tables:
        op.create_table(
            "attempts",
            sa.Column("learner", sa.Text, primary_key=True),
            sa.Column("chapter", sa.Text, primary_key=True),
            sa.Column("item", sa.Text, primary_key=True),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("completed", sa.Integer, nullable=False, server_default="0"),
            sa.Column("last_correct", sa.Integer, nullable=False, server_default="0"),
            sa.Column("first_correct", sa.Integer),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("answer", sa.Text),
            sa.Column("score", sa.Float),
            sa.Column("updated_at", sa.Float, nullable=False),
        )
    elif "first_correct" not in {c["name"] for c in existing.get_columns("attempts")}:
        op.add_column("attempts", sa.Column("first_correct", sa.Integer))  # a store from before first tries
    if "visits" not in tables:
        op.create_table(
            "visits",
            sa.Column("learner", sa.Text, primary_key=True),
            sa.Column("chapter", sa.Text, primary_key=True),
            sa.Column("visited_at", sa.Float, nullable=False),
        )


def downgrade() -> None:
    """Drop the progress tables."""
    op.drop_table("visits")
    op.drop_table("attempts")
