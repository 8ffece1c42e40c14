"""Whole-article MP3s: cached chunk frames joined with pauses, no re-encoding, content-addressed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from tts_service.article import Article
from tts_service.audio.assemble import Piece, Tags, assemble, id3v2, pause_audio
from tts_service.audio.frames import audio_bytes
from tts_service.cache import AudioCache
from tts_service.errors import NotFound, StorageFull
from tts_service.planning import Plan
from tts_service.store import AssemblyRecord, Store

log = logging.getLogger(__name__)

# Bump when the same chunks and pauses would give different bytes (tag layout, framing).
ASSEMBLY_VERSION = 1
SENTENCE_PAUSE = 0.25
PARAGRAPH_PAUSE = 0.6


def assembly_key(chunk_keys: list[str], paragraphs: list[int], tags: Tags) -> str:
    """Hash of everything in the file: the chunks in order, where paragraphs break, the pauses, the tags."""
    material = [
        ASSEMBLY_VERSION,
        chunk_keys,
        paragraphs,
        SENTENCE_PAUSE,
        PARAGRAPH_PAUSE,
        [tags.title, tags.artist, tags.date],
    ]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


def tags_for(article: Article) -> Tags:
    return Tags(title=article.title, artist=article.byline or "", date=article.date or "")


class Assembler:
    """Builds each whole-article file once (single flight) and remembers its timeline in the store."""

    def __init__(self, store: Store, cache: AudioCache) -> None:
        self.store, self.cache = store, cache
        self._inflight: dict[str, asyncio.Task[AssemblyRecord]] = {}

    async def whole(self, article: Article, plan: Plan) -> AssemblyRecord | None:
        """The whole-article file of a plan whose chunks are all cached (built on first use, then cached);
        None, logged, if it cannot be built now: the chunks still play."""
        if not plan.spoken:
            return None
        keys, paragraphs = [c.key for c in plan.spoken], [c.paragraph for c in plan.spoken]
        try:
            return await self.get(article, keys, paragraphs)
        except (ValueError, OSError, NotFound, StorageFull) as exc:
            log.error("cannot assemble the audio of %s: %s", article.slug, exc)
            return None

    async def get(self, article: Article, chunk_keys: list[str], paragraphs: list[int]) -> AssemblyRecord:
        """The whole-article file for these (already cached) chunks, built now if it does not exist."""
        tags = tags_for(article)
        key = assembly_key(chunk_keys, paragraphs, tags)
        record = await self.store.assembly(key)
        if record is not None and await asyncio.to_thread(self.cache.exists, key):
            return record
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._build(key, chunk_keys, paragraphs, tags))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _build(
        self, key: str, chunk_keys: list[str], paragraphs: list[int], tags: Tags
    ) -> AssemblyRecord:
        def build() -> AssemblyRecord:
            pieces = [Piece(self.cache.read(k), p) for k, p in zip(chunk_keys, paragraphs, strict=True)]
            audio, spans, total = assemble(
                pieces, sentence_pause=SENTENCE_PAUSE, paragraph_pause=PARAGRAPH_PAUSE, tags=tags
            )
            self.cache.write(key, audio)
            timeline = tuple((round(s.start, 3), round(s.end, 3)) for s in spans)
            digest = hashlib.sha256(audio).hexdigest()
            return AssemblyRecord(key, len(audio), round(total, 3), timeline, digest)

        record = await asyncio.to_thread(build)
        await self.store.record_assembly(record)
        return record

    async def aclose(self, grace: float | None = None) -> None:
        """Let builds in progress finish (usually milliseconds), so none is cut off mid-write; at most
        ``grace`` seconds (an unfinished one leaves only a temp file, never a partial audio file)."""
        if self._inflight:
            await asyncio.wait(list(self._inflight.values()), timeout=grace)


def stream_tag(article: Article) -> bytes:
    """What a stream sends first: the whole file's ID3 tag (title, author, date, album), without its length,
    which is not known until the last sentence is made."""
    return id3v2(tags_for(article))


def stream_parts(previous: Piece | None, piece: Piece) -> list[bytes]:
    """What a stream sends for ``piece``: the same pause and frames the assembled file has (after the tag)."""
    parts = []
    if previous is not None:
        pause = SENTENCE_PAUSE if previous.paragraph == piece.paragraph else PARAGRAPH_PAUSE
        parts.append(pause_audio(pause, piece.audio))
    parts.append(audio_bytes(piece.audio))
    return parts
