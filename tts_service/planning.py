"""Planning: an article's text → paragraphs, sentences and chunks, each with its spoken form and cache key.

Pure apart from reading the lexicon: the same text, engine, voice, prosody and lexicon always give the same
plan, so plans are cached in memory (bounded in bytes).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from tts_service.article import Article
from tts_service.cache import audio_key
from tts_service.engines import Engine, EngineRegistry, Prosody, check_voice
from tts_service.lru import ByteLRU, deep_size
from tts_service.store import Store
from tts_service.text import marks, segment, source
from tts_service.text.lexicon import Lexicon
from tts_service.text.markup import Span
from tts_service.text.normalize import normalize
from tts_service.text.source import Format
from tts_service.text.unicode import unspeakable_removed

_SPEAKABLE = re.compile(r"\w")


@dataclass(frozen=True)
class PlannedChunk:
    """One unit of synthesis, in reading order."""

    paragraph: int
    sentences: tuple[int, ...]
    text: str  # exact slice of the paragraph, as the page shows it
    spoken: str  # what the engine reads
    key: str | None  # None when there is nothing to say ("——", "……")


@dataclass(frozen=True, eq=False)
class Plan:
    """The chunks of one article revision for one engine and voice."""

    engine: str
    voice: str
    prosody: Prosody
    chunks: tuple[PlannedChunk, ...]  # every piece of the text, for the page

    @functools.cached_property
    def spoken(self) -> tuple[SpokenChunk, ...]:
        """The pieces that have audio, in reading order; the API numbers chunks by this."""
        return tuple(c for c in self.chunks if isinstance(c, SpokenChunk))

    @functools.cached_property
    def spoken_offsets(self) -> tuple[tuple[int, int], ...]:
        """Where each spoken chunk stands in its paragraph: [start, end) in UTF-16 code units, as JavaScript
        counts, so that a page's script can find the sentence in its own text."""
        offsets: dict[int, tuple[int, int]] = {}
        paragraph, at = -1, 0
        for chunk in self.chunks:
            if chunk.paragraph != paragraph:
                paragraph, at = chunk.paragraph, 0
            start, at = at, at + _utf16(chunk.text)  # the chunks of a paragraph are consecutive slices
            text = chunk.text  # the API shows it stripped: so do its offsets
            lead, trail = len(text) - len(text.lstrip()), len(text) - len(text.rstrip())
            offsets[id(chunk)] = (start + _utf16(text[:lead]), at - _utf16(text[len(text) - trail :]))
        return tuple(offsets[id(c)] for c in self.spoken)


@dataclass(frozen=True)
class SpokenChunk(PlannedChunk):
    """A planned chunk that has something to say, and so audio under its key."""

    key: str


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


NO_LEXICON = Lexicon()
# What a plan depends on: text, engine, engine version, voice, prosody, longest chunk, lexicon, text format.
PlanArgs = tuple[str, str, str, str, Prosody, int, Lexicon, Format]


def spoken_form(
    display: str, lexicon: Lexicon = NO_LEXICON, marked: bool = False, spans: tuple[Span, ...] = ()
) -> str:
    """What the engine reads for a piece of display text: its spans written in (readings, spoken forms,
    pauses, speed: `marks`), the lexicon, then normalisation. ``marked`` keeps the lexicon's spoken forms
    between `lexicon.MARKS`, for explaining readings (never for an engine)."""
    text = marks.marked(display, spans)  # also drops mark characters typed into the text
    return " ".join(normalize(lexicon.apply(unspeakable_removed(text), marked)).split())


def _plan_size(args: PlanArgs, chunks: tuple[PlannedChunk, ...]) -> int:
    """Bytes a cached plan holds: its chunks and its text (the key). Engine, voice and the lexicon are shared
    with other plans (``Lexicon.of`` hands out one object per lexicon), so they are not counted.

    The manifest API's JSON encoder leaves a UTF-8 copy inside every chunk text it writes (CPython keeps it
    in the string, up to three bytes a character), so the plan grows after it is cached: counted up front.
    """
    utf8 = sum(3 * len(c.text) + 1 for c in chunks if not c.text.isascii())
    return sys.getsizeof(args) + deep_size(args[0], chunks) + utf8


@dataclass(frozen=True)
class Piece:
    """One piece of an article's display text as planning cuts it, with the spans over it."""

    paragraph: int
    sentence: int
    start: int  # where the piece starts in its paragraph's display text
    text: str
    spans: tuple[Span, ...]


def pieces(text: str, max_chars: int, fmt: Format = "text") -> Iterator[Piece]:
    """Every piece of ``text`` in reading order: one sentence, or a piece of an over-long one, never several
    (the reader highlights, and starts reading from, exactly the sentence the reader points at)."""
    for p_index, paragraph in enumerate(source.paragraphs(text, fmt)):
        for s_index, sentence in enumerate(segment.sentences(paragraph.display)):
            at = sentence.start
            for piece in segment.chunks(sentence.text, max_chars):
                yield Piece(p_index, s_index, at, piece.text, paragraph.within(at, at + len(piece.text)))
                at += len(piece.text)


def plan_chunks(
    text: str,
    engine: str,
    version: str,
    voice: str,
    prosody: Prosody,
    max_chars: int,
    lexicon: Lexicon,
    fmt: Format = "text",
) -> tuple[PlannedChunk, ...]:
    """Every piece of ``text`` in reading order, with its display text, its spoken form and (if it says
    anything) its key. ``fmt``: how the text is written (`source`); pages show only the display text."""
    planned: list[PlannedChunk] = []
    for piece in pieces(text, max_chars, fmt):
        spoken = spoken_form(piece.text, lexicon, spans=piece.spans)
        where = (piece.paragraph, (piece.sentence,), piece.text, spoken)
        if _SPEAKABLE.search(spoken):
            planned.append(SpokenChunk(*where, audio_key(engine, version, voice, prosody, spoken)))
        else:
            planned.append(PlannedChunk(*where, None))
    return tuple(planned)


class Planner:
    """Plans texts for an engine and voice: resolves the engine, reads the lexicon, caches plans."""

    def __init__(self, engines: EngineRegistry, store: Store, default_voice: str | None, cache_bytes: int):
        self.engines, self.store, self.default_voice = engines, store, default_voice
        # Plans by text, engine, voice and lexicon: an article page plans its article on every request.
        self._plans: ByteLRU[PlanArgs, tuple[PlannedChunk, ...]] = ByteLRU(cache_bytes, _plan_size)

    def resolve(self, engine: str | None, voice: str | None) -> tuple[Engine, str]:
        """The engine and voice to use; TTS_VOICE is the default voice of the default engine only."""
        chosen = self.engines.get(engine)
        if voice is None and chosen.name == self.engines.default:
            voice = self.default_voice
        return chosen, check_voice(chosen, voice)

    async def plan(
        self, article: Article, prosody: Prosody | None = None, *, using: tuple[str, str | None] | None = None
    ) -> Plan:
        """Chunks and cache keys for an article's current revision (InvalidInput for a bad engine/voice).

        By default the revision is planned with the engine its audio is made with: its own, or the fallback
        engine if its own failed. ``using`` names an engine and voice instead. The lexicon is read on every
        call, so an edit takes effect at once; a changed entry changes the spoken text, and so the cache
        key, of exactly the chunks it touches.
        """
        if using is None and article.audio_engine:
            using = (article.audio_engine, article.audio_voice)
        engine, voice = using if using is not None else (article.engine, article.voice)
        return await self.plan_text(article.text, engine, voice, prosody, article.format)

    async def plan_text(
        self,
        text: str,
        engine_name: str | None,
        voice_name: str | None,
        prosody: Prosody | None = None,
        fmt: Format = "text",
    ) -> Plan:
        """Chunks and cache keys for any text, exactly as for an article (markup, lexicon, normalisation)."""
        engine, voice = self.resolve(engine_name, voice_name)
        lexicon = Lexicon.of(await self.store.lexicon())
        prosody = prosody or Prosody()
        longest = engine.max_chunk_chars
        args: PlanArgs = (text, engine.name, engine.version, voice, prosody, longest, lexicon, fmt)
        chunks = self._plans.get(args)
        if chunks is None:  # planning a 100,000-character article takes about a second
            chunks = self._plans.put(args, plan_chunks(*args))
        return Plan(engine.name, voice, prosody, chunks)
