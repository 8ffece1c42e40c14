"""Command line for proofreading: ``tts-service proof SLUG`` prints an article's flagged readings."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tts_service.cli_errors import user_errors
from tts_service.config import Settings
from tts_service.services import open_services


def _lines(slug: str) -> list[str]:
    """One line per flagged reading: character, reading (tone marks), how, the sentence it is in."""
    from tts_service import proofing

    async def work() -> list[str]:
        async with open_services(Settings()) as services:
            article = await services.store.get_article(slug)
            proof = await proofing.proof(services.pipeline, article)
        rows = []
        for sentence, c in proof.flagged:
            assert c.decision is not None and c.pinyin is not None  # flagged: a polyphone, read as itself
            where = f"{sentence.paragraph + 1}.{sentence.sentence + 1}"
            rows.append(f"{c.char}\t{c.pinyin}\t{c.decision.how.value}\t{where}\t{sentence.readings.display}")
        return rows

    return asyncio.run(work())


def proof(slug: Annotated[str, typer.Argument(help="The article's slug.")]) -> None:
    """Print the article's flagged readings (default guesses and unsure rules), one a line:
    CHARACTER<TAB>READING<TAB>HOW<TAB>PARAGRAPH.SENTENCE<TAB>SENTENCE; exit 1 for an unknown slug."""
    with user_errors():
        lines = _lines(slug)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} flagged", err=True)
