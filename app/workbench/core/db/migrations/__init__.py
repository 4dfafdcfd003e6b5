"""Alembic migrations of the workbench's database (run by workbench.core.db.migrate)."""
