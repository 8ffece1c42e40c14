"""One chunk's spoken text → one engine result, with what marks in it ask for (`text.marks`): readings the
engine takes as it can, pauses, and stretches at another speed.

Every synthesis of a chunk goes through `say`, so an engine never sees a mark, and the same spoken text (and
so the same cache key) always sounds the same whichever process makes it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import numpy as np

from tts_service import timing
from tts_service.audio import chunk, mp3, onsets, pcm
from tts_service.engines.base import Engine, Prosody, Synthesis
from tts_service.errors import SynthesisError
from tts_service.text import alignment, marks
from tts_service.timing import Timing


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


@dataclass(frozen=True)
class Rendered:
    """What the engine made of a chunk's spoken text, before it is timed and joined (``finish``): each
    stretch's result (None for a pause alone), the pause after it in ms, the text the engine was handed and
    the stretch of spoken text it was made from."""

    spoken: str
    volume: int
    results: list[tuple[Synthesis | None, int, str, str]]
    whole: bool  # one stretch, no pause or speed of its own: its result is the chunk's audio as it is


async def say(engine: Engine, spoken: str, voice: str, prosody: Prosody) -> Synthesis:
    """Synthesise a chunk's spoken text, with its word timing (over ``spoken``). With pauses or speed
    changes in it, each stretch is made on its own and the audio joined, with silence where a pause stands."""
    return await finish(await render(engine, spoken, voice, prosody))


async def render(engine: Engine, spoken: str, voice: str, prosody: Prosody) -> Rendered:
    """The engine's part of ``say``: every call to the engine, and nothing after the last one returns (a
    caller that must keep what the engine made shields ``finish`` from there)."""
    parts = marks.parts(spoken) if marks.ANY_MARK.search(spoken) else [marks.Part(spoken)]
    if len(parts) == 1 and not parts[0].pause_ms and not parts[0].rate:
        text = await asyncio.to_thread(engine_text, engine, parts[0].text)  # the first call loads a table
        made = await engine.synthesize(text, voice, prosody)
        return Rendered(spoken, prosody.volume, [(made, 0, text, spoken)], whole=True)
    results: list[tuple[Synthesis | None, int, str, str]] = []
    for part in parts:
        text = await asyncio.to_thread(engine_text, engine, part.text) if part.text.strip() else ""
        said = await engine.synthesize(text, voice, with_rate(prosody, part.rate)) if text else None
        results.append((said, part.pause_ms, text, part.text))
    return Rendered(spoken, prosody.volume, results, whole=False)


async def finish(rendered: Rendered) -> Synthesis:
    """The chunk's audio and timing from what the engine made (in a thread: decoding, joining, encoding)."""
    if rendered.whole:
        made, _, text, spoken = rendered.results[0]
        assert made is not None
        return replace(made, timing=await asyncio.to_thread(_timed, made, text, spoken))
    audio, joined = await asyncio.to_thread(_join, rendered.results, rendered.spoken, rendered.volume)
    return Synthesis(audio=audio, duration=mp3.duration(audio), source=joined.source, timing=joined)


def _timed(made: Synthesis, engine_text: str, text: str, samples: np.ndarray | None = None) -> Timing:
    """The timing of one engine result over ``text`` (what ``engine_text`` was made from): the words the
    engine reported, or its syllables spread over where its audio sounds, clause by clause between the
    silences heard in it (blocking: may decode)."""
    placed = timing.from_words(made.words, engine_text, text, made.source) if made.words else None
    if placed is not None:
        return placed
    if samples is None:
        try:
            samples = pcm.from_int16(mp3.decode(made.audio))
        except SynthesisError:  # not audio this service can decode: spread over all of it
            return timing.proportional(text, 0.0, made.duration)
    rate = mp3.SAMPLE_RATE
    lo, hi = pcm.trim_bounds(samples, rate, keep=0.0)
    return timing.proportional(text, lo / rate, hi / rate, onsets.onsets(samples, rate))


def _join(
    results: list[tuple[Synthesis | None, int, str, str]], spoken: str, volume: int
) -> tuple[bytes, Timing]:
    """The stretches' audio in order, each followed by its pause, as one MP3, and the timing of all of it
    over ``spoken`` (blocking)."""
    rate = mp3.SAMPLE_RATE
    pieces: list[np.ndarray] = []
    placed: list[Timing] = []
    at, skip = mp3.CODEC_DELAY, 0  # the joined file's encoder delay; speakable characters so far
    sources = set()
    for made, pause_ms, text, part_text in results:
        if made is not None:
            samples = pcm.from_int16(mp3.decode(made.audio))
            part = _timed(made, text, part_text, samples)
            placed.append(timing.moved(part, part_text, spoken, skip, at / rate))
            sources.add(part.source)
            pieces.append(samples)
            at += samples.size
        skip += len(alignment.speakable(part_text))
        if pause_ms:
            pieces.append(pcm.silence(pause_ms / 1000, rate))
            at += pieces[-1].size
    audio = chunk.encode(np.concatenate(pieces) if pieces else pcm.silence(0.1, rate), rate, volume=volume)
    source = sources.pop() if len(sources) == 1 else "proportional"  # mixed: as good as the weakest part
    return audio, timing.joined(source, placed)
