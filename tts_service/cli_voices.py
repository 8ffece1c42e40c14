"""Command line for the voices: ``tts-service voices list`` and ``tts-service voices refresh``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Annotated

import typer

from tts_service.cli_errors import user_errors
from tts_service.cli_help import Group
from tts_service.config import Settings
from tts_service.voices import VoiceCatalog

voices_app = typer.Typer(
    cls=Group, help="The voices of every engine, and Microsoft's list of edge voices.", no_args_is_help=True
)


@voices_app.command("list")
def voices_list(
    engine: Annotated[
        str | None, typer.Option(help="Only this engine's voices: local, espeak or edge.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of lines.")] = False,
) -> None:
    """List every voice: ENGINE VOICE GENDER LOCALE NAME LOCALE_NAME [default], tab-separated."""
    with user_errors():
        voices = VoiceCatalog(Settings().home).voices(engine)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(v) for v in voices], ensure_ascii=False, indent=2))
        return
    for v in voices:
        columns = (v.engine, v.id, v.gender, v.locale, v.name, v.locale_name) + (
            ("default",) if v.default else ()
        )
        typer.echo("\t".join(columns))


@voices_app.command("refresh")
def voices_refresh() -> None:
    """Fetch Microsoft's voice list into TTS_HOME (online); new Chinese voices count from the next start."""
    from tts_service.voices_refresh import refresh  # edge-tts and aiohttp: loaded only when going online

    settings = Settings()
    with user_errors():
        done = asyncio.run(refresh(settings.home, seconds=settings.edge_timeout))
    typer.echo(f"{done.path}: {done.listed} voices, {len(done.offered)} of them Chinese (offered by edge)")
    if done.new:
        typer.echo(f"new since the list shipped with the package: {', '.join(done.new)}")
    if done.gone:
        typer.echo(f"no longer listed (still accepted): {', '.join(done.gone)}")
