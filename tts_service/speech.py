"""A short text spoken piece by piece, as each piece is made: the one streaming primitive under
``POST /api/tts`` (the whole file) and ``POST /v1/audio/speech`` (streamed, in any format).

A text is planned exactly like an article (markup, lexicon, normalisation, one chunk per sentence), so every
sentence is cached under its content-addressed key and shared with articles: the same text and voice cost
nothing the second time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from tts_service.assembly import PARAGRAPH_PAUSE, SENTENCE_PAUSE
from tts_service.audio import formats, pcm
from tts_service.audio.assemble import pause_audio
from tts_service.engines import Prosody
from tts_service.errors import InvalidInput, TooLarge
from tts_service.planning import Plan, Planner
from tts_service.synthesis import Synthesizer
from tts_service.text.source import Format

# Chunks in the making beyond the one being sent: enough to keep every synthesis slot busy between sends (3
# left the stream 8% slower than making the whole file; 8 matches it: BENCHMARKS.md), few enough that one long
# request does not queue its whole text ahead of other readers, and that a client who leaves costs little.
AHEAD = 8


@dataclass(frozen=True)
class Piece:
    """One chunk's MP3, its paragraph, and the pause that follows it (none after the last)."""

    audio: bytes
    paragraph: int
    pause: float


@dataclass(frozen=True)
class Speech:
    """A planned text: its chunks, and which of them were cached before anything was made."""

    plan: Plan
    cached: frozenset[str]
    synthesizer: Synthesizer

    @property
    def hits(self) -> int:
        """Chunks that cost nothing: their audio was cached already."""
        return sum(chunk.key in self.cached for chunk in self.plan.spoken)

    async def pieces(self, ahead: int = AHEAD) -> AsyncIterator[Piece]:
        """The chunks' audio in reading order, each as soon as it is ready, with up to ``ahead`` more in the
        making. Leaving early (a client gone) cancels what nobody will read."""
        chunks = self.plan.spoken
        making: deque[asyncio.Task[bytes]] = deque()
        try:
            for i, chunk in enumerate(chunks):
                while len(making) <= ahead and i + len(making) < len(chunks):
                    nxt = chunks[i + len(making)]
                    making.append(asyncio.ensure_future(self.synthesizer.chunk_audio(self.plan, nxt)))
                audio = await making.popleft()
                last = i == len(chunks) - 1
                pause = (
                    0.0
                    if last
                    else (SENTENCE_PAUSE if chunks[i + 1].paragraph == chunk.paragraph else PARAGRAPH_PAUSE)
                )
                yield Piece(audio, chunk.paragraph, pause)
        finally:
            for task in making:
                task.cancel()
            await asyncio.gather(*making, return_exceptions=True)


async def prepare(
    planner: Planner,
    synthesizer: Synthesizer,
    text: str,
    engine: str | None,
    voice: str | None,
    prosody: Prosody,
    *,
    fmt: Format = "text",
    limit: int,
) -> Speech:
    """Plan ``text`` (at most ``limit`` characters; TooLarge beyond) and see what is cached; InvalidInput
    if it says nothing. Nothing is synthesised yet."""
    if len(text) > limit:
        raise TooLarge(f"input is {len(text)} characters; the limit is {limit}")
    plan = await planner.plan_text(text, engine, voice, prosody, fmt)
    if not plan.spoken:
        raise InvalidInput("nothing to say: the text has no words")
    cached = await synthesizer.cached(c.key for c in plan.spoken)
    return Speech(plan, frozenset(cached), synthesizer)


async def encoded(pieces: AsyncIterator[Piece], fmt: str) -> AsyncIterator[bytes]:
    """The pieces as one stream of ``fmt`` (`audio.formats`), bytes sent as each piece is ready. MP3 is the
    chunks' own frames with silent frames for the pauses (nothing re-encoded); other formats decode each
    chunk and encode it on a worker thread."""
    if fmt == "mp3":
        async for piece in pieces:
            yield piece.audio
            if piece.pause:
                yield await asyncio.to_thread(pause_audio, piece.pause, piece.audio)
        return
    encoder = formats.encoder(fmt, streaming=True)
    async for piece in pieces:
        data = await asyncio.to_thread(_feed, encoder, piece)
        if data:
            yield data
    yield await asyncio.to_thread(encoder.finish)


def _feed(encoder: formats.Encoder, piece: Piece) -> bytes:
    """One piece, then its pause, into ``encoder`` (blocking)."""
    samples = formats.decode_mp3(piece.audio)
    if piece.pause:
        samples = np.concatenate([samples, pcm.silence(piece.pause, formats.OUTPUT_RATE)])
    return encoder.feed(samples)
