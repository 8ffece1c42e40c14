"""Article → chunks → engine → cache → manifest. The one place where audio gets made."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tts_service.article import Article, ArticleDraft
from tts_service.assembly import Assembler
from tts_service.cache import AudioCache, audio_key
from tts_service.config import Settings
from tts_service.engines import Engine, EngineRegistry, Prosody, check_voice
from tts_service.errors import NotFound, StorageFull, SynthesisError
from tts_service.flight import SingleFlight
from tts_service.generation import JobRunner
from tts_service.jobs import Job, JobStore, orphaned
from tts_service.lru import ByteLRU, deep_size
from tts_service.store import AssemblyRecord, AudioRecord, Store
from tts_service.text import segment
from tts_service.text.lexicon import Lexicon
from tts_service.text.normalize import normalize
from tts_service.text.unicode import unspeakable_removed

log = logging.getLogger(__name__)
_SPEAKABLE = re.compile(r"\w")
SHUTDOWN_GRACE = 10.0  # seconds that shutdown waits for jobs to stop and whole-article files to be written


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
    status: str  # ready | pending | failed | empty (nothing to speak, so no audio, ever)
    error: str | None = None

    @property
    def progress(self) -> float:
        total = len(self.plan.spoken)
        return 1.0 if total == 0 else sum(c.key in self.records for c in self.plan.spoken) / total


NO_LEXICON = Lexicon()


def spoken_form(display: str, lexicon: Lexicon = NO_LEXICON) -> str:
    """What the engine reads for a piece of display text: the lexicon, then normalisation."""
    return " ".join(normalize(lexicon.apply(unspeakable_removed(display))).split())


def _plan_size(args: tuple, chunks: tuple[PlannedChunk, ...]) -> int:
    """Bytes a cached plan holds: its chunks and its text (the key). Engine, voice and the lexicon are shared
    with other plans (``Lexicon.of`` hands out one object per lexicon), so they are not counted.

    The manifest API's JSON encoder leaves a UTF-8 copy inside every chunk text it writes (CPython keeps it
    in the string, up to three bytes a character), so the plan grows after it is cached: counted up front.
    """
    utf8 = sum(3 * len(c.text) + 1 for c in chunks if not c.text.isascii())
    return sys.getsizeof(args) + deep_size(args[0], chunks) + utf8


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


@dataclass(frozen=True)
class _Running:
    """A job this process runs: the job as launched, its task, and its runner (to supersede it)."""

    job: Job
    task: asyncio.Task[Job]
    runner: JobRunner


def _awaiting(task: asyncio.Task) -> str:
    """Where a task is suspended: its chain of awaited coroutines, outermost first (for stuck tasks)."""
    steps, coro = [], task.get_coro()
    while coro is not None and getattr(coro, "cr_frame", None) is not None:
        frame = coro.cr_frame
        steps.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return " > ".join(steps) or "?"


class Metrics(Protocol):
    """What the pipeline reports to (``tts_service.metrics.Metrics``); optional."""

    def observe_synthesis(self, engine: str, seconds: float) -> None: ...
    def cache(self, hit: bool) -> None: ...


class Pipeline:
    """Plans articles, runs generation jobs, synthesises missing chunks (single flight, bounded)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: AudioCache,
        engines: EngineRegistry,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings, self.store, self.cache, self.engines = settings, store, cache, engines
        self.metrics = metrics
        self.jobs = JobStore(store)
        self.assembler = Assembler(store, cache)
        self._slots = asyncio.Semaphore(settings.workers)
        self._job_slots = asyncio.Semaphore(settings.workers)
        self._flights: SingleFlight[AudioRecord] = SingleFlight()
        self._running: dict[int, _Running] = {}  # job id → the job's task in this process
        # Plans by text, engine, voice and lexicon: an article page plans its article on every request.
        self._plans: ByteLRU[tuple, tuple] = ByteLRU(settings.plan_cache_mb << 20, _plan_size)
        # One lock per article revision while someone is starting its job; gone when nobody holds it.
        self._starting: weakref.WeakValueDictionary[tuple, asyncio.Lock] = weakref.WeakValueDictionary()

    def check_draft(self, draft: ArticleDraft) -> None:
        """Reject a draft before it is stored: too large (413), unknown engine or voice (422)."""
        draft.check_size(self.settings.max_article_chars)
        self.resolve(draft.engine, draft.voice)

    async def save(self, draft: ArticleDraft, *, must_exist: bool = False) -> Article:
        """Check and store a draft (a new article, or the next revision); the revision as written.
        Revisions beyond TTS_KEEP_REVISIONS go in the same transaction, so the database does not grow
        with every edit."""
        self.check_draft(draft)
        keep = self.settings.keep_revisions
        return await self.store.save_article(draft, must_exist=must_exist, keep_revisions=keep)

    def resolve(self, engine: str | None, voice: str | None) -> tuple[Engine, str]:
        """The engine and voice to use; TTS_VOICE is the default voice of the default engine only."""
        chosen = self.engines.get(engine)
        if voice is None and chosen.name == self.engines.default:
            voice = self.settings.voice
        return chosen, check_voice(chosen, voice)

    async def plan(
        self, article: Article, prosody: Prosody | None = None, *, using: tuple[str, str] | None = None
    ) -> Plan:
        """Chunks and cache keys for an article's current revision (InvalidInput for a bad engine/voice).

        By default the revision is planned with the engine its audio is made with: its own, or the fallback
        engine if its own failed. ``using`` names an engine and voice instead. The lexicon is read on every
        call, so an edit takes effect at once; a changed entry changes the spoken text, and so the cache
        key, of exactly the chunks it touches.
        """
        if using is None:
            using = (article.audio_engine, article.audio_voice) if article.audio_engine else None
        engine, voice = using if using is not None else (article.engine, article.voice)
        return await self.plan_text(article.text, engine, voice, prosody)

    async def plan_text(
        self, text: str, engine_name: str | None, voice_name: str | None, prosody: Prosody | None = None
    ) -> Plan:
        """Chunks and cache keys for any text, exactly as for an article (lexicon, normalisation)."""
        engine, voice = self.resolve(engine_name, voice_name)
        lexicon = Lexicon.of(await self.store.lexicon())
        prosody = prosody or Prosody()
        args = (text, engine.name, engine.version, voice, prosody, engine.max_chunk_chars, lexicon)
        chunks = self._plans.get(args)
        if chunks is None:  # planning a 100,000-character article takes about a second
            chunks = self._plans.put(args, _plan_chunks(*args))
        return Plan(engine.name, voice, prosody, chunks)

    async def manifest(self, article: Article, plan: Plan | None = None) -> Manifest:
        plan = plan or await self.plan(article)
        if not plan.spoken:
            return Manifest(plan, {}, "empty")
        records = await self.store.audio_records(c.key for c in plan.spoken)
        if all(c.key in records for c in plan.spoken):
            return Manifest(plan, records, "ready")
        job = await self.jobs.latest(article.slug, article.revision)
        if job is not None and job.status == "failed" and job.engine == plan.engine:
            return Manifest(plan, records, "failed", job.error)
        return Manifest(plan, records, "pending")

    async def whole(self, article: Article, manifest: Manifest) -> AssemblyRecord | None:
        """The whole-article MP3 once every chunk is ready (built on first use, then cached); else None."""
        if manifest.status != "ready" or not manifest.plan.spoken:
            return None
        spoken = manifest.plan.spoken
        try:
            return await self.assembler.get(article, [c.key for c in spoken], [c.paragraph for c in spoken])
        except (ValueError, OSError, NotFound, StorageFull) as exc:  # the chunks still play
            log.error("cannot assemble the audio of %s: %s", article.slug, exc)
            return None

    async def chunk_audio(self, plan: Plan, chunk: PlannedChunk) -> bytes:
        """One chunk's MP3, synthesised now if it is not cached yet (sharing any synthesis in flight)."""
        assert chunk.key is not None
        cached = await self.store.audio_records([chunk.key])
        hit = bool(cached) and await asyncio.to_thread(self.cache.exists, chunk.key)
        if self.metrics:
            self.metrics.cache(hit)
        if not hit:
            engine = self.engines.get(plan.engine)
            await self.synthesize(engine, plan.voice, plan.prosody, chunk.spoken, chunk.key)
        return await asyncio.to_thread(self.cache.read, chunk.key)

    # Jobs -----------------------------------------------------------------------------------------

    async def start(
        self,
        article: Article,
        *,
        retry: bool = False,
        plan: Plan | None = None,
        on_progress: ProgressFn | None = None,
    ) -> Job:
        """The article revision's generation job: the one running, or a new one (``retry``: even after a
        failure, and with the article's own engine again after a fallback). An orphaned job (its process
        died) is taken over and finished. Callers holding the article's plan pass it, to skip planning.
        """
        key = (article.slug, article.revision)
        lock = self._starting.setdefault(key, asyncio.Lock())
        async with lock:  # two requests, one job
            job = await self.jobs.latest(*key)
            running = self._running.get(job.id) if job else None
            if job is not None and running is not None and not running.task.done():
                return job
            self._supersede(article)
            if job is not None and orphaned(job) and await self.jobs.claim(job):
                log.info("resuming job %d (%s) left by %s", job.id, job.slug, job.owner)
                return self._launch(article, await self.jobs.get(job.id), on_progress)
            if job is not None and (job.active or (job.status == "failed" and not retry)):
                return job  # running in another live process, or failed until someone retries
            if retry:  # after a fallback, a retry tries the article's own engine again
                engine, voice = self.resolve(article.engine, article.voice)
                plan = await self.plan(article, using=(engine.name, voice))
            plan = plan or await self.plan(article)
            job = await self.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
            return self._launch(article, job, on_progress)

    async def wait(self, job: Job, on_progress: ProgressFn | None = None, poll: float = 0.5) -> Job:
        """Wait for a job to end; its final state. A job run by another process is followed in the store
        until it ends or is orphaned (then it is returned still active: ``start`` again to take it over)."""
        running = self._running.get(job.id)
        task = running.task if running is not None else None
        if task is not None:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise  # it is the waiter that is cancelled
        while True:
            job = await self.jobs.get(job.id)  # stopped (shutdown, deletion), or run by another process
            if not job.active or orphaned(job):
                return job
            if on_progress:
                on_progress(job.done, job.total)
            await asyncio.sleep(poll)

    async def generate(self, article: Article, on_progress: ProgressFn | None = None) -> Job:
        """Run (or resume) the article's job now; raise SynthesisError if it fails."""
        job = await self.wait(await self.start(article, on_progress=on_progress))
        if job.status == "failed":
            raise SynthesisError(job.error or "synthesis failed")
        return job

    async def resume(self) -> list[Job]:
        """Take over every job whose process died (at start-up); the jobs now running here."""
        resumed = []
        for job in await self.jobs.orphans():
            try:
                article = await self.store.get_article(job.slug)
            except NotFound:
                article = None
            if article is None or article.revision != job.revision:
                if await self.jobs.claim(job):
                    await self.jobs.update(job.id, status="failed", error="superseded: the article changed")
                continue
            resumed.append(await self.start(article))
        return resumed

    async def delete(self, slug: str) -> None:
        """Delete an article: stop its jobs first, then remove it with its revisions and jobs."""
        running = [r.task for r in self._running.values() if r.job.slug == slug and not r.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.store.delete_article(slug)

    def _supersede(self, article: Article) -> None:
        """Stop this process's jobs for older revisions of the article: nobody will read them."""
        for running in self._running.values():
            job = running.job
            if job.slug == article.slug and job.revision < article.revision and not running.task.done():
                running.runner.supersede(running.task, article.revision)

    def _launch(self, article: Article, job: Job, on_progress: ProgressFn | None) -> Job:
        self._running = {i: r for i, r in self._running.items() if not r.task.done()}  # forget finished
        runner = JobRunner(self, self._job_slots)
        task = asyncio.create_task(runner.run(article, job, on_progress), name=f"job:{job.slug}:{job.id}")
        self._running[job.id] = _Running(job, task, runner)
        return job

    async def synthesize(
        self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str
    ) -> AudioRecord:
        """Make sure ``key`` is cached. Concurrent callers for the same key share one synthesis, which is
        stopped if every caller leaves (a reader who closed the connection, a cancelled job)."""
        once = functools.partial(self._synthesize_once, engine, voice, prosody, spoken, key)
        return await self._flights.run(key, once)

    async def _synthesize_once(self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str):
        # The caller saw the key missing, but another synthesis of it may have finished since (its in-flight
        # entry gone): look again now that this one holds the key, or the same audio would be made twice.
        done = (await self.store.audio_records([key])).get(key)
        if done is not None and await asyncio.to_thread(self.cache.exists, key):
            return done
        async with self._slots:
            started = time.perf_counter()
            result = await engine.synthesize(spoken, voice, prosody)
            if self.metrics:
                self.metrics.observe_synthesis(engine.name, time.perf_counter() - started)
        # Audio that exists is kept even if everyone stops waiting now: storing it takes milliseconds, and
        # making it again would take the engine's time.
        keeping = asyncio.ensure_future(self._keep(key, result.audio, result.duration, engine.name, voice))
        try:
            return await asyncio.shield(keeping)
        except asyncio.CancelledError:
            await keeping
            raise

    async def _keep(self, key: str, audio: bytes, duration: float, engine: str, voice: str) -> AudioRecord:
        digest = hashlib.sha256(audio).hexdigest()
        await asyncio.to_thread(self.cache.write, key, audio)
        # Recorded only once the whole file is in place: a record always means a complete file.
        record = AudioRecord(key, len(audio), duration, digest)
        await self.store.record_audio(record, engine, voice)
        return record

    async def aclose(self) -> None:
        """Cancel running jobs and syntheses (at shutdown); jobs stay "running" in the store and resume at
        the next start."""
        tasks = [r.task for r in self._running.values() if not r.task.done()] + self._flights.tasks()
        for task in tasks:
            if not task.cancelling():  # a synthesis already stopping is left to finish its clean-up
                task.cancel()
        if tasks:
            # Bounded: shutdown must not hang on a call that ignores cancellation (the job is still
            # "running" in the store, and the next process resumes it).
            _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
            if stuck:
                pending = asyncio.all_tasks() - {asyncio.current_task()}
                where = "; ".join(f"{t.get_name()}: {_awaiting(t)}" for t in sorted(pending, key=str))
                log.warning("%d job(s) or synthesis(es) did not stop in %s s; leaving them. Waiting: %s",
                            len(stuck), SHUTDOWN_GRACE, where)  # fmt: skip
        await self.assembler.aclose(grace=SHUTDOWN_GRACE)
