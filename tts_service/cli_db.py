"""Command line for where the state lives: ``tts-service db upgrade`` and ``tts-service migrate``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tts_service.cli_errors import user_errors
from tts_service.cli_help import Group
from tts_service.config import Settings

if TYPE_CHECKING:
    from tts_service.cache import AudioStore

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


def _database_location(value: str) -> Path | str:
    """``--database``: a database URL (``postgresql://…``, ``sqlite:///…``), or a SQLite file's path."""
    return value if "://" in value else Path(value)


def _audio_store(settings: Settings, value: str) -> AudioStore:
    """``--audio``: ``s3://bucket/prefix`` (with the TTS_S3_* settings in force), or a directory."""
    from tts_service.cache import AudioCache
    from tts_service.services import open_audio_store

    if value.startswith("s3://"):
        return open_audio_store(settings.model_copy(update={"audio_store": value}))
    return AudioCache(Path(value.removeprefix("file://")))


def migrate(
    database: Annotated[
        str,
        typer.Option(help="The target database: postgresql://user:pass@host/db, or a SQLite file's path."),
    ],
    audio: Annotated[str, typer.Option(help="The target audio store: s3://bucket/prefix, or a directory.")],
) -> None:
    """Copy everything (articles with every revision, lexicon, jobs, audio records and the audio) from the
    configured store and audio to new ones; resumable, checked at the end, and the source is never changed."""
    from tts_service.database import Database
    from tts_service.services import open_audio_store
    from tts_service.transfer import transfer

    settings = Settings()
    with user_errors():
        source, source_audio = Database(settings.database, read_only=True), open_audio_store(settings)
        target, target_audio = Database(_database_location(database)), _audio_store(settings, audio)
        try:
            report = asyncio.run(transfer(source, source_audio, target, target_audio))
        finally:
            for closing in (source, target, source_audio, target_audio):
                closing.close()
    for name, (rows, written) in report.rows.items():
        typer.echo(f"{name}: {rows} rows, {written} copied now")
    typer.echo(f"audio: {report.audio_sent} sent, {report.audio_present} there already")
    for key, reason in sorted(report.audio_bad.items()):
        typer.echo(f"left behind {key}: {reason}; made again when needed")
    for problem in report.problems:
        typer.echo(f"check failed: {problem}", err=True)
    if report.problems:
        raise typer.Exit(1)
    typer.echo(f"checked: {target.where} and {target_audio.describe()} hold everything the source does")
