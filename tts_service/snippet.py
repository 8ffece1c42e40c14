"""Ad-hoc synthesis of a short text (``POST /api/tts``): planned, cached and joined like an article."""

from __future__ import annotations

import asyncio

from tts_service.assembly import PARAGRAPH_PAUSE, SENTENCE_PAUSE
from tts_service.audio.assemble import Piece, assemble
from tts_service.engines import Prosody
from tts_service.errors import InvalidInput, TooLarge
from tts_service.planning import Planner
from tts_service.synthesis import Synthesizer


async def speak(
    planner: Planner,
    synthesizer: Synthesizer,
    text: str,
    engine: str | None,
    voice: str | None,
    prosody: Prosody,
    *,
    limit: int,
) -> tuple[bytes, float]:
    """The MP3 of ``text`` (at most ``limit`` characters) and its length in seconds. Each sentence is cached
    (content-addressed) and shared with articles, so saying something again costs nothing; unreferenced ones
    go at ``cache gc``."""
    if len(text) > limit:
        raise TooLarge(f"text is {len(text)} characters; the limit for /api/tts is {limit}")
    plan = await planner.plan_text(text, engine, voice, prosody)  # as an article's text is planned
    if not plan.spoken:
        raise InvalidInput("nothing to say: the text has no words")
    audio = await asyncio.gather(*(synthesizer.chunk_audio(plan, chunk) for chunk in plan.spoken))
    pieces = [Piece(data, chunk.paragraph) for data, chunk in zip(audio, plan.spoken, strict=True)]
    joined, _, seconds = await asyncio.to_thread(
        assemble, pieces, sentence_pause=SENTENCE_PAUSE, paragraph_pause=PARAGRAPH_PAUSE
    )
    return joined, seconds
