"""Proofreading an article's readings: every piece as planned, read back (`text.pronunciation`), and the two
fixes an editor makes from it: this occurrence (an inline reading, a new revision) or everywhere (a lexicon
entry that carries the reading).

Both fixes go through the use cases that already exist (`Pipeline.publish`, the store's lexicon), so only the
chunks whose spoken form changed get a new cache key, and only those are synthesised again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from tts_service.article import Article
from tts_service.errors import InvalidInput, invalid_input
from tts_service.lru import Args, cached, deep_size
from tts_service.pipeline import Pipeline
from tts_service.planning import Plan, pieces, spoken_form
from tts_service.text import pronunciation, readings, segment
from tts_service.text.lexicon import Lexicon, LexiconEntry
from tts_service.text.markup import Span
from tts_service.text.pronunciation import CharReading, PieceReadings


@dataclass(frozen=True)
class SentenceProof:
    """One planned piece (a sentence, or a piece of a long one) with its readings and its chunk's key."""

    index: int  # among the article's pieces, in reading order
    paragraph: int
    sentence: int
    start: int  # where the piece starts in its paragraph's display text
    key: str | None  # the chunk's cache key; None when it says nothing
    readings: PieceReadings


@dataclass(frozen=True)
class ArticleProof:
    """An article's pieces as they are read, for the proofreading page, the API and the CLI."""

    article: Article
    plan: Plan
    sentences: tuple[SentenceProof, ...]

    @property
    def flagged(self) -> list[tuple[SentenceProof, CharReading]]:
        """Every flagged reading with its sentence, in reading order."""
        return [(s, c) for s in self.sentences for c in s.readings.flagged]


def _readings_size(args: Args, result: PieceReadings) -> int:
    return deep_size(args[0], args[1], result)  # the lexicon is shared by every entry: not counted


# About 2 KB a sentence: some 8,000 sentences, the admin list's 50 articles many times over.
@cached(16 * 1024 * 1024, _readings_size)
def piece_readings(display: str, spans: tuple[Span, ...], lexicon: Lexicon) -> PieceReadings:
    """One piece's readings (cached: the admin list counts every article's flags on each view)."""
    return pronunciation.read(display, spoken_form(display, lexicon, marked=True, spans=spans))


async def proof(pipeline: Pipeline, article: Article, plan: Plan | None = None) -> ArticleProof:
    """The article's current revision read back, piece by piece, with the plan its audio is made with."""
    plan = plan or await pipeline.planner.plan(article)
    lexicon = Lexicon.of(await pipeline.store.lexicon())
    longest = pipeline.engines.get(plan.engine).max_chunk_chars
    found = []
    cut = pieces(article.text, longest, article.format)
    for index, (piece, chunk) in enumerate(zip(cut, plan.chunks, strict=True)):
        read = piece_readings(piece.text, piece.spans, lexicon)
        found.append(SentenceProof(index, piece.paragraph, piece.sentence, piece.start, chunk.key, read))
    return ArticleProof(article, plan, tuple(found))


def with_reading(text: str, paragraph: int, index: int, read_as: str) -> str:
    """Plain article text with the display character ``index`` of paragraph ``paragraph`` read ``read_as``
    there (an inline reading); InvalidInput where there is no such character."""
    lines = text.splitlines(keepends=True)
    seen = -1
    for n, line in enumerate(lines):
        found = segment.paragraphs(line)  # the paragraph as planning sees it: the line, stripped
        if not found:
            continue
        content = found[0]
        seen += 1
        if seen == paragraph:
            lead = line.find(content)
            edited = readings.set_reading(content, index, read_as)
            lines[n] = line[:lead] + edited + line[lead + len(content) :]
            return "".join(lines)
    raise InvalidInput(f"the article has no paragraph {paragraph}")


@dataclass(frozen=True)
class Fixed:
    """What a fix did: the article now, and how many of its chunks must be made again."""

    article: Article
    remade: int


def remade(before: Plan, after: Plan) -> int:
    """Chunks of the new plan whose audio the old plan did not have: those are synthesised again."""
    old = {c.key for c in before.spoken}
    return len({c.key for c in after.spoken} - old)


async def fix_here(pipeline: Pipeline, article: Article, piece: int, char: int, read_as: str) -> Fixed:
    """Read one character of one piece as ``read_as`` in this place only: an inline reading in a new
    revision. SSML articles are refused (InvalidInput): their readings are <phoneme> elements, edited
    in the article's form."""
    if article.format != "text":
        raise InvalidInput("an SSML article sets this reading with <phoneme> in its text (edit the article)")
    before = await proof(pipeline, article)
    if not 0 <= piece < len(before.sentences):
        raise InvalidInput(f"the article has no sentence {piece}")
    where = before.sentences[piece]
    text = with_reading(article.text, where.paragraph, where.start + char, read_as)
    try:
        draft = article.draft(text)
    except ValidationError as exc:  # not expected: the text was valid, and a reading keeps it so
        raise invalid_input(exc) from None
    saved = await pipeline.publish(draft, must_exist=True)
    return Fixed(saved, remade(before.plan, await pipeline.planner.plan(saved)))


async def fix_everywhere(pipeline: Pipeline, article: Article, piece: int, char: int, read_as: str) -> Fixed:
    """Read the word around one character as ``read_as`` wherever it is written: a lexicon entry with the
    reading (`pronunciation.lexicon_entry`). This article's changed chunks are made now; other articles'
    when next asked for."""
    before = await proof(pipeline, article)
    if not 0 <= piece < len(before.sentences):
        raise InvalidInput(f"the article has no sentence {piece}")
    written, spoken = pronunciation.lexicon_entry(before.sentences[piece].readings.display, char, read_as)
    entry = LexiconEntry(written=written, spoken=spoken)
    await pipeline.store.put_lexicon(entry.written, entry.spoken, limit=pipeline.settings.max_lexicon_entries)
    after = await pipeline.planner.plan(article)
    await pipeline.start(article, plan=after)
    return Fixed(article, remade(before.plan, after))
