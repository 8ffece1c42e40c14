"""Jobs and reader requests sent to the task queue (TTS_REDIS_URL), for web processes and the CLI.

``QueuedJobs`` turns an article revision's job into chunk tasks (``dispatch``): what is missing goes into
``job_chunks`` and onto a queue, ``interactive`` when a reader waits, else ``bulk``. A job a reader asks for
while it waits in ``bulk`` is sent again on ``interactive`` (once a minute at most): duplicates are harmless,
since a task whose chunk is made marks it and stops. A job nobody has touched for a while (Redis lost its
messages, or the worker assembling it died) is dispatched again the next time anyone asks for it.

``QueuedSynthesizer`` is the synthesizer of a process that does not synthesise: a chunk a reader asks for
(a player's request, ``POST /api/tts``) goes on ``interactive``, and the request waits for its record to
appear in the store, or for the worker's word that it failed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import text

from tts_service.article import Article
from tts_service.cache import AudioStore
from tts_service.engines import Engine, EngineRegistry, Prosody
from tts_service.errors import NoWorker, SynthesisError, Unavailable
from tts_service.job_chunks import JobChunks
from tts_service.jobs import QUEUE_OWNER, STALE_AFTER, Job, JobStore, orphaned
from tts_service.planning import Plan, Planner
from tts_service.states import ACTIVE_JOBS, JobStatus, sql_list
from tts_service.store import AudioRecord, Store, now
from tts_service.synthesis import Metrics, Synthesizer
from tts_service.taskqueue import ChunkTask, TaskQueue

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]
READER_WAIT = 60.0  # seconds a reader's request waits for a worker to make its chunk, then 503
PROMOTE_EVERY = 60.0  # a bulk job a reader asks for goes on ``interactive`` at most this often
_SUPERSEDE = text(
    "UPDATE jobs SET status = 'failed', error = :error, finished_at = :at, updated_at = :at"
    f" WHERE slug = :slug AND revision < :revision AND status IN {sql_list(ACTIVE_JOBS)}"
)


def task_for(
    job: Job | None, key: str | None, spoken: str, engine: str, voice: str, prosody: Prosody
) -> ChunkTask:
    """The message for one chunk (of ``job``, or for a reader waiting: None; ``key`` None: assemble)."""
    job_id = None if job is None else job.id
    return ChunkTask(job_id, key, spoken, engine, voice, prosody.rate, prosody.pitch, prosody.volume)


class QueuedJobs:
    """Generation jobs run by the queue's workers, wherever they are."""

    def __init__(
        self, queue: TaskQueue, store: Store, jobs: JobStore, planner: Planner, synthesizer: Synthesizer
    ) -> None:
        self.queue, self.store, self.jobs, self.planner = queue, store, jobs, planner
        self.synthesizer = synthesizer
        self.chunks = JobChunks(store)

    async def start(
        self, article: Article, job: Job | None, *, retry: bool, plan: Plan | None, interactive: bool
    ) -> Job:
        """``Pipeline.start`` for the queue: the revision's active job (sent again if it is stuck, or on
        ``interactive`` if a reader waits for it now), its failed one unless ``retry``, or a new one."""
        if job is not None and job.active:
            if orphaned(job) or (job.owner == QUEUE_OWNER and time.time() - job.heartbeat > STALE_AFTER):
                return await self.redispatch(job, article, interactive=interactive)
            if interactive and job.owner == QUEUE_OWNER:
                await self.promote(job, article)
            return job
        if job is not None and job.status == JobStatus.FAILED and not retry:
            return job
        if retry:  # after a fallback, a retry tries the article's own engine again
            engine, voice = self.planner.resolve(article.engine, article.voice)
            plan = await self.planner.plan(article, using=(engine.name, voice))
        plan = plan or await self.planner.plan(article)
        await self._supersede(article)
        job, created = await self.jobs.create(
            article.slug, article.revision, plan.engine, plan.voice, owner=QUEUE_OWNER
        )
        if created:
            job = await self.dispatch(job, plan, interactive=interactive)
        return job

    async def dispatch(self, job: Job, plan: Plan, *, interactive: bool) -> Job:
        """Record what the job has left to make and queue one task per missing chunk (or, with nothing
        missing, one task to assemble); the job with its progress."""
        keys = [c.key for c in plan.spoken]
        present = await self.synthesizer.cached(keys)
        uses = Counter(keys)
        todo = {c.key: c for c in plan.spoken if c.key not in present}
        job = await self.chunks.plan(job.id, {key: uses[key] for key in todo}, len(keys))
        tasks = [task_for(job, c.key, c.spoken, plan.engine, plan.voice, plan.prosody) for c in todo.values()]
        if not tasks:
            tasks = [task_for(job, None, "", plan.engine, plan.voice, plan.prosody)]
        queue = "interactive" if interactive else "bulk"
        try:
            sent = await asyncio.to_thread(self.queue.send, tasks, interactive=interactive)
        except Unavailable as exc:  # the job is stored: it is sent again when asked for after STALE_AFTER
            log.warning(
                "job %d (%s): not queued: %s; queued again when asked for", job.id, job.slug, exc.message
            )
            return job
        log.info("job %d (%s r%d): %d chunk task(s) on %s", job.id, job.slug, job.revision, sent, queue)
        return job

    async def redispatch(self, job: Job, article: Article, *, interactive: bool) -> Job:
        """Queue a stuck job's missing chunks again (its messages lost, or its assembler dead)."""
        if job.owner != QUEUE_OWNER and not await self.chunks.release(job):
            return await self.jobs.get(job.id)  # someone else took it back meanwhile
        if article.revision != job.revision:
            return job
        log.warning("job %d (%s): no progress for %.0f s; queueing it again", job.id, job.slug, STALE_AFTER)
        plan = await self.planner.plan(article, using=(job.engine, job.voice))
        return await self.dispatch(job, plan, interactive=interactive)

    async def promote(self, job: Job, article: Article) -> None:
        """A reader waits for a job queued in ``bulk``: send what it lacks on ``interactive`` too."""
        if article.revision != job.revision:
            return
        if not await asyncio.to_thread(self.queue.once, f"promote:{job.id}", PROMOTE_EVERY):
            return
        left = set(await self.chunks.left(job.id))
        if not left:
            return
        plan = await self.planner.plan(article, using=(job.engine, job.voice))
        seen: set[str] = set()
        tasks = []
        for c in plan.spoken:
            if c.key in left and c.key not in seen:
                seen.add(c.key)
                tasks.append(task_for(job, c.key, c.spoken, plan.engine, plan.voice, plan.prosody))
        await asyncio.to_thread(self.queue.send, tasks, interactive=True)
        log.info("job %d (%s): %d chunk task(s) moved up to interactive", job.id, job.slug, len(tasks))

    async def wait(self, job: Job, on_progress: ProgressFn | None, poll: float) -> Job:
        """Follow a queued job in the store until it ends."""
        while True:
            job = await self.jobs.get(job.id)
            if not job.active:
                return job
            if on_progress is not None:
                on_progress(job.done, job.total)
            await asyncio.sleep(poll)

    async def _supersede(self, article: Article) -> None:
        """Older revisions' jobs end now: their remaining tasks see it and stop."""
        params = {
            "error": f"superseded by revision {article.revision}",
            "at": now(),
            "slug": article.slug,
            "revision": article.revision,
        }
        await self.store.write(lambda c: c.execute(_SUPERSEDE, params))


class QueuedSynthesizer(Synthesizer):
    """A synthesizer that asks the queue's workers: a missing chunk goes on ``interactive`` and this waits
    for its record (polling the store) or for a worker's report that it failed."""

    def __init__(
        self,
        store: Store,
        cache: AudioStore,
        engines: EngineRegistry,
        slots: int,
        queue: TaskQueue,
        metrics: Metrics | None = None,
        wait: float = READER_WAIT,
    ) -> None:
        super().__init__(store, cache, engines, slots, metrics)
        self.queue, self.wait = queue, wait

    async def _synthesize_once(
        self, engine: Engine, voice: str, prosody: Prosody, spoken: str, key: str
    ) -> AudioRecord:
        record = await self.stored(key)
        if record is not None:
            return record
        task = task_for(None, key, spoken, engine.name, voice, prosody)
        await asyncio.to_thread(self._send, key, task)
        deadline, pause = time.monotonic() + self.wait, 0.02
        while True:
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.25)
            record = await self.stored(key)
            if record is not None:
                return record
            reason = await asyncio.to_thread(self.queue.failure, key)
            if reason is not None:
                raise SynthesisError(reason)
            if time.monotonic() > deadline:
                raise NoWorker(f"no queue worker made this audio within {self.wait:.0f} s; try again later")

    def _send(self, key: str, task: ChunkTask) -> None:
        self.queue.clear_failure(key)  # an old failure must not answer for this request
        self.queue.send([task], interactive=True)
