"""Ad-hoc synthesis of a short text (``POST /api/tts``): planned, cached and joined like an article."""

from __future__ import annotations

import asyncio

from tts_service.assembly import PARAGRAPH_PAUSE, SENTENCE_PAUSE
from tts_service.audio.assemble import Piece, assemble
from tts_service.speech import Speech


async def whole(speech: Speech) -> tuple[bytes, float]:
    """The MP3 of a planned text, made whole, and its length in seconds. Each sentence is cached
    (content-addressed) and shared with articles, so saying something again costs nothing; unreferenced ones
    go at ``cache gc``."""
    pieces = [Piece(p.audio, p.paragraph) async for p in speech.pieces(ahead=len(speech.plan.spoken))]
    joined, _, seconds = await asyncio.to_thread(
        assemble, pieces, sentence_pause=SENTENCE_PAUSE, paragraph_pause=PARAGRAPH_PAUSE
    )
    return joined, seconds
