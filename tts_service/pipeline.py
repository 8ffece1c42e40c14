"""Article → chunks → engine → cache → manifest. The one place where audio gets made."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from tts_service.article import Article, ArticleDraft
from tts_service.assembly import Assembler
from tts_service.cache import AudioCache, audio_key
from tts_service.config import Settings
from tts_service.engines import Engine, EngineRegistry, Prosody, check_voice
from tts_service.errors import NotFound, SynthesisError
from tts_service.store import AssemblyRecord, AudioRecord, Store
from tts_service.text import segment
from tts_service.text.lexicon import Lexicon
from tts_service.text.normalize import normalize

log = logging.getLogger(__name__)
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
    def spoken(self) -> tuple[PlannedChunk, ...]:
        """The pieces that have audio, in reading order; the API numbers chunks by this."""
        return tuple(c for c in self.chunks if c.key is not None)


@dataclass(frozen=True)
class Manifest:
    """A plan plus what has been synthesised so far."""

    plan: Plan
    records: dict[str, AudioRecord]
    status: str  # ready | pending | failed
    error: str | None = None

    @property
    def progress(self) -> float:
        total = len(self.plan.spoken)
        return 1.0 if total == 0 else sum(c.key in self.records for c in self.plan.spoken) / total


NO_LEXICON = Lexicon()


def spoken_form(display: str, lexicon: Lexicon = NO_LEXICON) -> str:
    """What the engine reads for a piece of display text: the lexicon, then normalisation."""
    return " ".join(normalize(lexicon.apply(display)).split())


@functools.lru_cache(maxsize=256)
def _plan_chunks(
    text: str, engine: str, version: str, voice: str, prosody: Prosody, max_chars: int, lexicon: Lexicon
) -> tuple[PlannedChunk, ...]:
    planned = []
    for p_index, paragraph in enumerate(segment.paragraphs(text)):
        # One sentence per chunk (or a piece of an over-long one), never several: the reader highlights,
        # and starts reading from, exactly the sentence the reader points at.
        for s_index, sentence in enumerate(segment.sentences(paragraph)):
            for piece in segment.chunks(sentence.text, max_chars):
                spoken = spoken_form(piece.text, lexicon)
                speakable = _SPEAKABLE.search(spoken)
                key = audio_key(engine, version, voice, prosody, spoken) if speakable else None
                planned.append(PlannedChunk(p_index, (s_index,), piece.text, spoken, key))
    return tuple(planned)


ProgressFn = Callable[[int, int], None]


class Pipeline:
    """Plans articles, synthesises missing chunks (single-flight, bounded), reports manifests."""

    def __init__(self, settings: Settings, store: Store, cache: AudioCache, engines: EngineRegistry) -> None:
        self.settings, self.store, self.cache, self.engines = settings, store, cache, engines
        self.assembler = Assembler(store, cache)
        self._slots = asyncio.Semaphore(settings.workers)
        self._inflight: dict[str, asyncio.Future[AudioRecord]] = {}
        self._jobs: dict[tuple, asyncio.Task[Manifest]] = {}
        self._failures: dict[tuple, str] = {}

    def check_draft(self, draft: ArticleDraft) -> None:
        """Reject a draft before it is stored: too large (413), unknown engine or voice (422)."""
        draft.check_size(self.settings.max_article_chars)
        self.resolve(draft.engine, draft.voice)

    def resolve(self, engine: str | None, voice: str | None) -> tuple[Engine, str]:
        """The engine and voice to use; TTS_VOICE is the default voice of the default engine only."""
        chosen = self.engines.get(engine)
        if voice is None and chosen.name == self.engines.default:
            voice = self.settings.voice
        return chosen, check_voice(chosen, voice)

    async def plan(self, article: Article, prosody: Prosody | None = None) -> Plan:
        """Chunks and cache keys for an article's current revision (InvalidInput for a bad engine/voice).

        The lexicon is read on every call, so an edit to it takes effect at once; a changed entry changes
        the spoken text, and so the cache key, of exactly the chunks it touches.
        """
        engine, voice = self.resolve(article.engine, article.voice)
        lexicon = Lexicon.of(await self.store.lexicon())
        prosody = prosody or Prosody()
        args = (article.text, engine.name, engine.version, voice, prosody, engine.max_chunk_chars, lexicon)
        return Plan(engine.name, voice, prosody, _plan_chunks(*args))

    async def manifest(self, article: Article, plan: Plan | None = None) -> Manifest:
        plan = plan or await self.plan(article)
        records = await self.store.audio_records(c.key for c in plan.spoken)
        if all(c.key in records for c in plan.spoken):
            return Manifest(plan, records, "ready")
        error = self._failures.get(self._job_id(article, plan))
        return Manifest(plan, records, "failed" if error else "pending", error)

    async def whole(self, article: Article, manifest: Manifest) -> AssemblyRecord | None:
        """The whole-article MP3 once every chunk is ready (built on first use, then cached); else None."""
        if manifest.status != "ready" or not manifest.plan.spoken:
            return None
        spoken = manifest.plan.spoken
        try:
            return await self.assembler.get(article, [c.key for c in spoken], [c.paragraph for c in spoken])
        except (ValueError, OSError, NotFound) as exc:  # mismatched or missing chunks: the rest still plays
            log.error("cannot assemble the audio of %s: %s", article.slug, exc)
            return None

    async def chunk_audio(self, plan: Plan, chunk: PlannedChunk) -> bytes:
        """One chunk's MP3, synthesised now if it is not cached yet (sharing any synthesis in flight)."""
        assert chunk.key is not None
        cached = await self.store.audio_records([chunk.key])
        if not cached or not await asyncio.to_thread(self.cache.exists, chunk.key):
            engine = self.engines.get(plan.engine)
            await self.synthesize(engine, plan.voice, plan.prosody, chunk.spoken, chunk.key)
        return await asyncio.to_thread(self.cache.read, chunk.key)

    def _job_id(self, article: Article, plan: Plan) -> tuple:
        return (article.slug, article.revision, plan.engine, plan.voice)

    async def start(
        self, article: Article, *, retry: bool = False, plan: Plan | None = None
    ) -> asyncio.Task[Manifest]:
        """Generate in the background unless a job is running; a failed job restarts only on ``retry``.

        Callers that already hold the article's plan (from its manifest) pass it, to skip planning again.
        """
        plan = plan or await self.plan(article)
        job_id = self._job_id(article, plan)
        task = self._jobs.get(job_id)
        if task is not None and (not task.done() or (job_id in self._failures and not retry)):
            return task
        self._failures.pop(job_id, None)
        task = asyncio.create_task(self._run(article, plan, job_id, None), name=f"generate:{article.slug}")
        self._jobs[job_id] = task
        return task

    async def generate(self, article: Article, on_progress: ProgressFn | None = None) -> Manifest:
        """Synthesise every missing chunk now; raise SynthesisError if any fails."""
        plan = await self.plan(article)
        manifest = await self._run(article, plan, self._job_id(article, plan), on_progress)
        if manifest.status == "failed":
            raise SynthesisError(manifest.error or "synthesis failed")
        return manifest

    async def _run(
        self, article: Article, plan: Plan, job_id: tuple, on_progress: ProgressFn | None
    ) -> Manifest:
        engine = self.engines.get(plan.engine)
        records = await self.store.audio_records(c.key for c in plan.spoken)
        todo = list({c.key: c for c in plan.spoken if c.key not in records}.values())
        total = len(plan.spoken)
        done = sum(c.key in records for c in plan.spoken)
        if on_progress:
            on_progress(done, total)

        async def one(chunk: PlannedChunk) -> None:
            nonlocal done
            await self.synthesize(engine, plan.voice, plan.prosody, chunk.spoken, chunk.key)
            done += sum(c.key == chunk.key for c in plan.spoken)
            if on_progress:
                on_progress(done, total)

        try:
            async with asyncio.TaskGroup() as group:
                for chunk in todo:
                    group.create_task(one(chunk))
        except* SynthesisError as errors:
            self._failures[job_id] = str(errors.exceptions[0])
            log.warning("generation of %s failed: %s", article.slug, errors.exceptions[0])
        except* Exception as errors:
            self._failures[job_id] = "internal error during synthesis"
            log.error("generation of %s crashed", article.slug, exc_info=errors.exceptions[0])
        manifest = await self.manifest(article, plan)
        await self.whole(article, manifest)  # pre-generation includes the whole-article file
        return manifest

    async def synthesize(
        self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str
    ) -> AudioRecord:
        """Make sure ``key`` is cached; concurrent callers for the same key share one synthesis."""
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[AudioRecord] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            record = await self._synthesize_once(engine, voice, prosody, spoken, key)
            future.set_result(record)
            return record
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, so an unawaited future must not warn
            raise
        finally:
            del self._inflight[key]

    async def _synthesize_once(self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str):
        async with self._slots:
            result = await engine.synthesize(spoken, voice, prosody)
        await asyncio.to_thread(self.cache.write, key, result.audio)
        await self.store.record_audio(key, len(result.audio), result.duration, engine.name, voice)
        return AudioRecord(key, len(result.audio), result.duration)

    async def aclose(self) -> None:
        """Cancel background jobs (at shutdown)."""
        tasks = [t for t in self._jobs.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.assembler.aclose()
