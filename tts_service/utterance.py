"""One chunk's spoken text → one engine result, with what marks in it ask for (`text.marks`): readings the
engine takes as it can, pauses, and stretches at another speed.

Every synthesis of a chunk goes through `say`, so an engine never sees a mark, and the same spoken text (and
so the same cache key) always sounds the same whichever process makes it.
"""

from __future__ import annotations

import asyncio

import numpy as np

from tts_service.audio import chunk, mp3, pcm
from tts_service.engines.base import Engine, Prosody, Synthesis
from tts_service.text import marks


def engine_text(engine: Engine, text: str) -> str:
    """What ``engine`` is handed for marked spoken text: the local voice reads readings itself (its front end
    sets the pinyin); other engines get plain text, a reading rendered by a character read that way."""
    if getattr(engine, "reads_marks", False):
        return text
    return marks.plain(text) if marks.ANY_MARK.search(text) else text


def with_rate(prosody: Prosody, rate: int) -> Prosody:
    """``prosody`` with a stretch's own speed change on top (both relative; within the engines' range)."""
    if not rate:
        return prosody
    combined = round((100 + prosody.rate) * (100 + rate) / 100) - 100
    return Prosody(rate=max(-50, min(100, combined)), pitch=prosody.pitch, volume=prosody.volume)


async def say(engine: Engine, spoken: str, voice: str, prosody: Prosody) -> Synthesis:
    """Synthesise a chunk's spoken text. With pauses or speed changes in it, each stretch is made on its own
    and the audio joined, with silence where a pause stands."""
    parts = marks.parts(spoken) if marks.ANY_MARK.search(spoken) else [marks.Part(spoken)]
    if len(parts) == 1 and not parts[0].pause_ms and not parts[0].rate:
        text = await asyncio.to_thread(engine_text, engine, parts[0].text)  # the first call loads a table
        return await engine.synthesize(text, voice, prosody)
    results: list[tuple[Synthesis | None, int]] = []
    for part in parts:
        text = await asyncio.to_thread(engine_text, engine, part.text) if part.text.strip() else ""
        made = await engine.synthesize(text, voice, with_rate(prosody, part.rate)) if text else None
        results.append((made, part.pause_ms))
    audio = await asyncio.to_thread(_join, results, prosody.volume)
    return Synthesis(audio=audio, duration=mp3.duration(audio))


def _join(results: list[tuple[Synthesis | None, int]], volume: int) -> bytes:
    """The stretches' audio in order, each followed by its pause, as one MP3 (blocking)."""
    rate = mp3.SAMPLE_RATE
    pieces: list[np.ndarray] = []
    for made, pause_ms in results:
        if made is not None:
            pieces.append(pcm.from_int16(mp3.decode(made.audio)))
        if pause_ms:
            pieces.append(pcm.silence(pause_ms / 1000, rate))
    return chunk.encode(np.concatenate(pieces) if pieces else pcm.silence(0.1, rate), rate, volume=volume)
