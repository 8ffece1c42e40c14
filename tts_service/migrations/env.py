"""Alembic's entry point: migrate the connection ``database.upgrade`` hands over, in its transaction."""

from __future__ import annotations

from alembic import context

from tts_service.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters a table by copying it; alembic's batch mode does that for us
)
with context.begin_transaction():
    context.run_migrations()
