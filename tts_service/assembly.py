"""Whole-article MP3s: cached chunk frames joined with pauses, no re-encoding, content-addressed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging

from tts_service.article import Article
from tts_service.audio.assemble import Piece, Tags, assemble, id3v2, pause_audio
from tts_service.audio.frames import audio_bytes
from tts_service.cache import AudioStore
from tts_service.errors import NotFound, StorageError
from tts_service.planning import Plan
from tts_service.store import AssemblyRecord, Store

log = logging.getLogger(__name__)

# Bump when the same chunks and pauses would give different bytes (tag layout, framing).
ASSEMBLY_VERSION = 1
SENTENCE_PAUSE = 0.25
PARAGRAPH_PAUSE = 0.6
READERS = 8  # chunk reads in flight at once while assembling (see Assembler._read_all)


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

    def __init__(self, store: Store, cache: AudioStore) -> None:
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
        except (ValueError, OSError, NotFound, StorageError) as exc:
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
        audios = await self._read_all(chunk_keys)

        def build() -> AssemblyRecord:
            pieces = [Piece(a, p) for a, p in zip(audios, paragraphs, strict=True)]
            audio, spans, total = assemble(
                pieces, sentence_pause=SENTENCE_PAUSE, paragraph_pause=PARAGRAPH_PAUSE, tags=tags
            )
            stored = self.cache.write(key, audio)  # one file or one object, whole or not at all
            timeline = tuple((round(s.start, 3), round(s.end, 3)) for s in spans)
            return AssemblyRecord(key, stored.size, round(total, 3), timeline, stored.sha256)

        record = await asyncio.to_thread(build)
        await self.store.record_assembly(record)  # only after the write succeeded
        return record

    async def _read_all(self, keys: list[str]) -> list[bytes]:
        """Every chunk's audio, in order, read by ``READERS`` threads at once: an object store answers each
        GET in milliseconds that add up over a long article, and a few in parallel hide them; for files, a
        handful of thread trips instead of one costs nothing worth measuring."""
        slices = [keys[i::READERS] for i in range(min(READERS, len(keys)))]
        read = await asyncio.gather(
            *(asyncio.to_thread(lambda part: [self.cache.read(k) for k in part], part) for part in slices)
        )
        audios: list[bytes] = [b""] * len(keys)
        for start, part in enumerate(read):
            audios[start::READERS] = part
        return audios

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
