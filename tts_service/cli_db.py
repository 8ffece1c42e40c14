"""Command line for where the state lives: ``tts-service db upgrade`` and ``tts-service migrate``."""

from __future__ import annotations

import typer

from tts_service.cli_errors import user_errors
from tts_service.cli_help import Group
from tts_service.config import Settings

db_app = typer.Typer(cls=Group, help="The store's database: its schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database's schema to this version's newest migration (the server does it at start-up too;
    safe while other processes start or run)."""
    from tts_service.database import Database

    with user_errors():
        database = Database(Settings().database)  # opening migrates, under the migration lock
    try:
        typer.echo(f"{database.where}: schema at revision {database.revision}")
    finally:
        database.close()
