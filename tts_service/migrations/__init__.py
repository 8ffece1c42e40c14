"""Alembic migrations of the store's schema, for SQLite and PostgreSQL alike (run by ``database.upgrade``)."""
