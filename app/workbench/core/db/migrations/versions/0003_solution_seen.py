"""A hands-on check's walkthrough opened by the learner before passing it ("solution seen": not counted as done).

Revision ID: 0003_solution_seen
Revises: 0002_classroom
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_solution_seen"
down_revision = "0002_classroom"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add `attempts.solution_seen` (0: not seen; existing rows were never seen)."""
    op.add_column("attempts", sa.Column("solution_seen", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop `attempts.solution_seen`."""
    with op.batch_alter_table("attempts") as batch:  # SQLite cannot drop a column in place on old versions
        batch.drop_column("solution_seen")
