"""Alembic environment: migrations run on the connection workbench.core.db.migrate hands over."""

from __future__ import annotations

from alembic import context


def run_migrations() -> None:
    """Run the pending migrations inside the caller's transaction."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if __name__ != "workbench.core.db.migrations.env":  # run by Alembic (not imported as a module of the package)
    run_migrations()
