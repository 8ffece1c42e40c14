"""``tts-service worker``: takes chunk tasks off the queue (TTS_REDIS_URL) and makes them, on any machine that
shares the deployment's database, audio store and Redis.

One process loads the voice once and runs the same synthesizer as the web app's in-process jobs, without the
web app. ``--concurrency`` threads take tasks (each a chunk); the engine calls at once are the same number.

A chunk task makes its chunk (unless it is made already: content-addressed keys, and the store's record,
make a task idempotent), marks it done in ``job_chunks`` and, if that was the last one, assembles the whole
article once and ends the job. An engine failure falls back to TTS_FALLBACK_ENGINE for the whole article, as
in-process jobs do; a database or object-store outage sends the task back to be tried again with backoff;
anything else fails the job with the reason. Progress, fallback and failure all live in the store, so
/admin, ``GET /api/jobs/{id}``, ``pregen`` and the manifest read them as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections import Counter
from collections.abc import Mapping
from contextlib import AsyncExitStack
from types import FrameType

import dramatiq
import redis
from dramatiq.asyncio import EventLoopThread, set_event_loop_thread
from sqlalchemy import text

from tts_service.config import Settings
from tts_service.engines import Engine, Prosody
from tts_service.errors import InvalidInput, NotFound, StorageError, SynthesisError, TTSError, Unavailable
from tts_service.generation import fallback_for
from tts_service.job_chunks import JobChunks
from tts_service.jobs import Job
from tts_service.queued import QueuedJobs
from tts_service.services import Services, open_services
from tts_service.states import ACTIVE_JOBS, JobStatus, sql_list
from tts_service.store import now
from tts_service.taskqueue import QUEUES, ChunkTask, TaskQueue, worker_identity

log = logging.getLogger(__name__)
CRASHED = "internal error during synthesis"
CLAIM_POLL = 0.1  # seconds between looks at a chunk another worker is making
STOP_GRACE = 30.0  # seconds a stopping worker lets its chunks finish (after that they go back to the queue)
_FALL_BACK = text(
    "UPDATE jobs SET engine = :engine, voice = :voice, fallback = :note, done = 0, updated_at = :at"
    " WHERE id = :job AND engine = :was_engine AND voice = :was_voice AND fallback IS NULL"
    f" AND status IN {sql_list(ACTIVE_JOBS)}"
)


class ChunkWorker:
    """Runs chunk tasks against one process's services."""

    def __init__(self, services: Services, queue: TaskQueue) -> None:
        pipeline = services.pipeline
        self.services, self.queue = services, queue
        self.store, self.planner, self.synthesizer = services.store, pipeline.planner, pipeline.synthesizer
        self.jobs, self.assembler, self.chunks = pipeline.jobs, pipeline.assembler, JobChunks(services.store)
        self.queued = QueuedJobs(queue, services.store, pipeline.jobs, pipeline.planner, pipeline.synthesizer)
        self.fallback = services.settings.fallback_engine
        self.outcomes: Counter[str] = Counter()  # this process's tasks, by outcome, and whole files assembled

    async def handle(self, task: ChunkTask, queue: str) -> str:
        """Run one task; its outcome: made, cached, skipped (its job ended or moved on) or failed. Raises
        Unavailable (an outage) for the queue to try it again later."""
        outcome = "error"
        try:
            outcome = await self._handle(task)
            return outcome
        except Unavailable:
            raise  # an outage: the queue tries the task again, with backoff
        except Exception:
            log.exception("chunk task for job %s crashed", task.job)
            if task.job is not None:  # as an in-process job that crashes: failed, with a reason
                with contextlib.suppress(TTSError):
                    if (await self.jobs.get(task.job)).active:
                        await self.jobs.update(task.job, status=JobStatus.FAILED, error=CRASHED)
            return outcome
        finally:
            self.outcomes[outcome] += 1

    async def _handle(self, task: ChunkTask) -> str:
        if task.job is None:
            return await self._for_reader(task)
        try:
            job = await self.jobs.get(task.job)
        except NotFound:
            return "skipped"  # deleted with its article
        if not job.active or (job.engine, job.voice) != (task.engine, task.voice):
            return "skipped"  # ended (done, failed, superseded), or fell back to another engine
        outcome = "skipped"
        if task.key is not None:
            try:
                outcome = await self._make(task)
            except SynthesisError as exc:
                await self._engine_failed(job, exc.message)
                return "failed"
            except StorageError as exc:
                if isinstance(exc, Unavailable):
                    raise
                await self._fail(job, exc.message)
                return "failed"
            marked = await self.chunks.mark(job.id, task.key)
            if marked.left:
                return outcome
            job = marked.job
        elif await self.chunks.left(job.id):
            return "skipped"
        if job.active and await self.chunks.claim(job.id):
            await self._finish(await self.jobs.get(job.id))
        return outcome

    async def _for_reader(self, task: ChunkTask) -> str:
        assert task.key is not None
        try:
            return await self._make(task)
        except Unavailable:
            raise  # an outage: tried again, while the reader waits
        except (SynthesisError, InvalidInput, StorageError) as exc:  # the reader's request says why
            await asyncio.to_thread(self.queue.fail, task.key, exc.message)
            return "failed"

    async def _make(self, task: ChunkTask) -> str:
        """Make the task's chunk unless it is made: once across the cluster, however many tasks ask (a
        bulk task and a reader's for the same chunk wait for each other's claim instead of both calling
        the engine)."""
        key = task.key
        assert key is not None
        hold = self.services.settings.worker_lost_after
        while True:
            if await self.synthesizer.cached([key]):
                return "cached"
            token = await asyncio.to_thread(self.queue.claim, key, hold)
            if token is not None:
                break
            await asyncio.sleep(CLAIM_POLL)  # another worker makes it now: its record will do for us too
        renewing = asyncio.create_task(self._keep_claim(key, token, hold))
        try:
            engine = self.services.engines.get(task.engine)
            prosody = Prosody(task.rate, task.pitch, task.volume)
            await self.synthesizer.synthesize(engine, task.voice, prosody, task.spoken, key)
            return "made"
        finally:
            renewing.cancel()
            await asyncio.to_thread(self.queue.unclaim, key, token)

    async def _keep_claim(self, key: str, token: str, hold: float) -> None:
        while True:
            await asyncio.sleep(hold / 3)
            try:
                await asyncio.to_thread(self.queue.renew, key, token, hold)
            except redis.RedisError as exc:  # at worst, another worker makes the chunk too
                log.warning("claim on %s not renewed: %s", key, exc)

    async def _finish(self, job: Job) -> None:
        """The last chunk is made: assemble the whole file and end the job (this worker owns it now)."""
        try:
            try:
                article = await self.store.get_article(job.slug)
            except NotFound:
                return
            if article.revision != job.revision:
                await self._fail(job, f"superseded by revision {article.revision}")
                return
            plan = await self.planner.plan(article, using=(job.engine, job.voice))
            keys = [c.key for c in plan.spoken]
            if set(keys) - await self.synthesizer.cached(keys):  # removed meanwhile (cache gc): make again
                await self.queued.dispatch(job, plan, interactive=False)
                return
            if article.audio_engine and (plan.engine, plan.voice) != (
                article.audio_engine,
                article.audio_voice,
            ):
                # A retry on the article's own engine worked: its audio is its own voice again.
                await self.store.set_audio_voice(article.slug, article.revision, None, None)
            await self.assembler.whole(article, plan)
            await self.jobs.update(job.id, status=JobStatus.DONE, done=len(keys), total=len(keys))
            self.outcomes["assembled"] += 1
            log.info("job %d (%s r%d) done: %d chunks", job.id, job.slug, job.revision, len(keys))
        except Unavailable:
            await self.chunks.release(job)  # back to the queue's: the task, tried again, claims it anew
            raise
        except StorageError as exc:
            await self._fail(job, exc.message)

    async def _engine_failed(self, job: Job, error: str) -> None:
        """A chunk failed on the job's engine: the whole article falls back to TTS_FALLBACK_ENGINE (once,
        whichever worker gets there first), or the job fails with the reason."""
        fallback = self._fallback(job)
        if fallback is None:
            reason = f"{job.fallback}; {job.engine} failed too ({error})" if job.fallback else error
            await self._fail(job, reason)
            return
        engine, voice = fallback
        note = f"{job.engine} failed ({error}); the whole article is read by {engine}"
        params = {"engine": engine, "voice": voice, "note": note, "job": job.id}
        params |= {"was_engine": job.engine, "was_voice": job.voice, "at": now()}
        if not await self.store.write(lambda c: c.execute(_FALL_BACK, params).rowcount == 1):
            return  # another worker fell back first, or the job ended
        log.warning("job %d (%s): %s", job.id, job.slug, note)
        try:
            article = await self.store.get_article(job.slug)
        except NotFound:
            return
        await self.store.set_audio_voice(article.slug, article.revision, engine, voice)
        plan = await self.planner.plan(article, using=fallback)
        await self.queued.dispatch(await self.jobs.get(job.id), plan, interactive=False)

    def _fallback(self, job: Job) -> tuple[str, str] | None:
        """The fallback for the job's engine; None once the job has fallen back already."""
        return None if job.fallback else fallback_for(self.planner, self.fallback, job.engine)

    async def _fail(self, job: Job, reason: str) -> None:
        log.warning("job %d (%s) failed: %s", job.id, job.slug, reason)
        await self.jobs.update(job.id, status=JobStatus.FAILED, error=reason)


class QueueWorker:
    """One worker process's machinery: the services on an event loop thread, Dramatiq's worker threads,
    and the heartbeat. ``run`` drives it from signals; tests drive it directly."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int,
        queues: tuple[str, ...],
        engines: Mapping[str, Engine] | None = None,
    ) -> None:
        if settings.redis_url is None:
            raise InvalidInput("a worker needs the task queue: set TTS_REDIS_URL (redis://host:6379/0)")
        unknown = set(queues) - set(QUEUES)
        if unknown or not queues:
            raise InvalidInput(f"unknown queue(s) {sorted(unknown)}; the queues are {', '.join(QUEUES)}")
        self.url = settings.redis_url.get_secret_value()
        self.settings = settings.model_copy(update={"synthesis_workers": concurrency})
        self.concurrency, self.queues, self.engines = concurrency, queues, engines
        self.queue = TaskQueue(self.url, lost_after=settings.worker_lost_after)
        self.identity = worker_identity(queues, concurrency)
        self.chunk_worker: ChunkWorker | None = None
        self._stack = AsyncExitStack()
        self._loop = EventLoopThread(log)
        self._worker: dramatiq.Worker | None = None

    def start(self) -> None:
        """Open the services (the voice loads now, once), then start taking tasks."""
        self._loop.start(timeout=10)
        set_event_loop_thread(self._loop)
        self.chunk_worker = self._loop.run_coroutine(self._open())
        self.queue.handler = self.chunk_worker.handle
        self.beat()
        self._worker = dramatiq.Worker(
            self.queue.broker, queues=set(self.queues), worker_threads=self.concurrency, worker_timeout=250
        )
        self._worker.start()
        log.info(
            "worker %s taking %s, %d at once", self.identity["id"], ",".join(self.queues), self.concurrency
        )

    async def _open(self) -> ChunkWorker:
        settings = self.settings
        services = await self._stack.enter_async_context(
            open_services(settings, engines=self.engines, worker=True)
        )
        for name in {settings.engine, *((settings.fallback_engine,) if settings.fallback_engine else ())}:
            warm = getattr(services.engines.get(name), "warm", None)
            if warm is not None:
                await warm()
        return ChunkWorker(services, self.queue)

    def beat(self) -> None:
        """Tell Redis this worker lives, with what it has done (for /admin)."""
        done = dict(self.chunk_worker.outcomes) if self.chunk_worker is not None else {}
        try:
            self.queue.beat({**self.identity, "outcomes": done})
        except redis.RedisError as exc:  # Redis blinked: Dramatiq's own calls fail and retry too
            log.warning("worker heartbeat not recorded: %s", exc)

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop taking tasks, let those in hand finish (up to ``grace`` seconds), close everything."""
        try:
            if self._worker is not None:
                log.info("worker %s stopping", self.identity["id"])
                self._worker.stop(timeout=int(grace * 1000))
                self.queue.forget(self.identity["id"])
        finally:
            if self._loop.is_alive():
                self._loop.run_coroutine(self._stack.aclose())
                self._loop.stop()  # type: ignore[no-untyped-call]
            set_event_loop_thread(None)
            self.queue.close()


def run(settings: Settings, *, concurrency: int, queues: tuple[str, ...]) -> None:
    """Take tasks until SIGTERM or SIGINT; then let the chunks in hand finish (up to STOP_GRACE)."""
    worker = QueueWorker(settings, concurrency=concurrency, queues=queues)
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        worker.start()
        while not stopping.wait(max(0.5, settings.worker_lost_after / 5)):
            worker.beat()
    finally:
        worker.stop()
