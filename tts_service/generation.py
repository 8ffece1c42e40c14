"""Running one generation job: synthesise what is missing, fall back for the whole article, assemble."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable

from tts_service.article import Article
from tts_service.assembly import Assembler
from tts_service.errors import InvalidInput, NotFound, StorageError, SynthesisError, Unavailable
from tts_service.jobs import HEARTBEAT_SECONDS, Job, JobStore
from tts_service.planning import Plan, Planner, SpokenChunk
from tts_service.states import JobStatus
from tts_service.store import Store
from tts_service.synthesis import Synthesizer

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, int], None]


class JobRunner:
    """Runs one job to its end and records every step of it in the store.

    It takes what a job needs and nothing more: the planner, the synthesizer, the job store, the assembler,
    the article store (to see whether the article changed) and the fallback engine's name.
    """

    def __init__(
        self,
        planner: Planner,
        synthesizer: Synthesizer,
        jobs: JobStore,
        assembler: Assembler,
        store: Store,
        fallback: str | None,
        slots: asyncio.Semaphore,
        outage_wait: float = 30.0,
    ) -> None:
        self.planner, self.synthesizer, self.jobs, self.assembler = planner, synthesizer, jobs, assembler
        self.store, self.fallback, self.slots, self.outage_wait = store, fallback, slots, outage_wait
        self.superseded_by: int | None = None  # set (then the task cancelled) when a newer revision starts

    async def run(self, article: Article, job: Job, on_progress: ProgressFn | None = None) -> Job:
        """Queue for a slot, then generate; the job's final state. Cancelling leaves it to be resumed,
        unless a newer revision superseded it: then it ends as failed, "superseded"."""
        heartbeat = asyncio.create_task(self._beat(job.id))
        try:
            async with self.slots:
                current = await self.store.get_article(job.slug)
                if current.revision != job.revision:  # edited again while this job queued
                    return await self._superseded(job, current.revision)
                job = await self.jobs.update(job.id, status=JobStatus.RUNNING)
                return await self._generate_through_outages(article, job, on_progress)
        except asyncio.CancelledError:
            if self.superseded_by is None:
                raise  # shutdown: the job stays "running" and the next process resumes it
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the cancellation was ours, and is handled here
            return await self._superseded(job, self.superseded_by)
        except NotFound:  # the article, and with it the job, was deleted meanwhile
            log.info("job %d (%s) ended: the article was deleted", job.id, job.slug)
            return dataclasses.replace(job, status=JobStatus.FAILED, error="the article was deleted")
        except StorageError as exc:  # another engine would not help: the disk or object store is the problem
            log.error("job %d (%s) failed: %s", job.id, job.slug, exc.message)
            return await self._record_failure(job, exc.message)
        except Exception:
            log.exception("job %d (%s) crashed", job.id, job.slug)
            return await self.jobs.update(
                job.id, status=JobStatus.FAILED, error="internal error during synthesis"
            )
        finally:
            heartbeat.cancel()

    async def _generate_through_outages(
        self, article: Article, job: Job, on_progress: ProgressFn | None
    ) -> Job:
        """``_generate``, again after a pause while the database or the object store is down (chunks made
        before are cached, so each attempt goes on where the last stopped); Unavailable once the outage
        has lasted ``outage_wait`` seconds."""
        waited, pause = 0.0, 0.5
        while True:
            try:
                return await self._generate(article, job, on_progress)
            except Unavailable as exc:
                if waited >= self.outage_wait:
                    raise
                pause = min(pause * 2, self.outage_wait - waited)
                log.warning("job %d (%s): %s; trying again in %.1f s", job.id, job.slug, exc.message, pause)
                await asyncio.sleep(pause)
                waited += pause

    async def _record_failure(self, job: Job, reason: str) -> Job:
        """Mark the job failed; when the database itself is down, it stays "running" with a heartbeat that
        stops, and the next process to look takes it over (jobs.orphaned)."""
        try:
            return await self.jobs.update(job.id, status=JobStatus.FAILED, error=reason)
        except Unavailable:
            log.error(
                "job %d (%s): cannot record its failure either; left to be taken over", job.id, job.slug
            )
            return dataclasses.replace(job, status=JobStatus.FAILED, error=reason)

    def supersede(self, task: asyncio.Task[Job], revision: int) -> None:
        """Stop this job: revision ``revision`` is current now. Chunks already made stay cached, and a
        synthesis the newer job also needs goes on for it (single flight)."""
        self.superseded_by = revision
        task.cancel()

    async def _superseded(self, job: Job, revision: int) -> Job:
        log.info("job %d (%s r%d) stopped: revision %d is current", job.id, job.slug, job.revision, revision)
        return await self.jobs.update(
            job.id, status=JobStatus.FAILED, error=f"superseded by revision {revision}"
        )

    async def _beat(self, job_id: int) -> None:
        """Tell other processes the job is alive (they take over a job whose heartbeat stops)."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.jobs.update(job_id)
            except NotFound:
                return  # deleted with its article; the run itself stops on its own NotFound
            except Unavailable as exc:  # the run waits for the database; so does its heartbeat
                log.warning("job %d: no heartbeat recorded: %s", job_id, exc.message)

    async def _generate(self, article: Article, job: Job, on_progress: ProgressFn | None) -> Job:
        plan = await self.planner.plan(article, using=(job.engine, job.voice))
        error = await self._synthesize_all(job, plan, on_progress)
        if error is not None:
            fallback = self._fallback(plan)
            if fallback is None:
                log.warning("job %d (%s) failed: %s", job.id, job.slug, error)
                return await self.jobs.update(job.id, status=JobStatus.FAILED, error=error)
            engine, voice = fallback
            # Never two voices in one revision: the fallback engine reads the whole article, and the
            # revision remembers it, so pages, streams and the whole file all use the fallback's audio.
            note = f"{plan.engine} failed ({error}); the whole article is read by {engine}"
            log.warning("job %d (%s): %s", job.id, job.slug, note)
            job = await self.jobs.update(job.id, engine=engine, voice=voice, fallback=note, done=0)
            await self.store.set_audio_voice(article.slug, article.revision, engine, voice)
            plan = await self.planner.plan(article, using=fallback)
            error = await self._synthesize_all(job, plan, on_progress)
            if error is not None:
                failure = f"{note}; {engine} failed too ({error})"
                return await self.jobs.update(job.id, status=JobStatus.FAILED, error=failure)
        elif article.audio_engine and (plan.engine, plan.voice) != _fallen_back(article):
            # A retry on the article's own engine worked: its audio is its own voice again.
            await self.store.set_audio_voice(article.slug, article.revision, None, None)
        await self._assemble(article, plan)
        return await self.jobs.update(
            job.id, status=JobStatus.DONE, done=len(plan.spoken), total=len(plan.spoken)
        )

    def _fallback(self, plan: Plan) -> tuple[str, str] | None:
        """The fallback engine and voice for a plan whose engine failed; None if there is none."""
        return fallback_for(self.planner, self.fallback, plan.engine)

    async def _synthesize_all(self, job: Job, plan: Plan, on_progress: ProgressFn | None) -> str | None:
        """Synthesise every chunk of ``plan`` not cached yet; the first failure's reason, or None."""
        keys = [c.key for c in plan.spoken]
        present = await self.synthesizer.cached(keys)
        todo = list({c.key: c for c in plan.spoken if c.key not in present}.values())
        total, done = len(keys), sum(k in present for k in keys)
        uses = Counter(keys)
        await self.jobs.update(job.id, done=done, total=total)
        if on_progress:
            on_progress(done, total)

        async def one(chunk: SpokenChunk) -> None:
            nonlocal done
            await self.synthesizer.ensure(plan, chunk)
            done += uses[chunk.key]  # a sentence said twice in the article is made once
            await self.jobs.update(job.id, done=done)
            if on_progress:
                on_progress(done, total)

        failures: list[SynthesisError] = []
        try:
            async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
                for chunk in todo:
                    group.create_task(one(chunk))
        except* SynthesisError as errors:
            failures.extend(e for e in errors.exceptions if isinstance(e, SynthesisError))
        except* StorageError as errors:
            raise errors.exceptions[0] from None  # the job fails with it, whatever the engine
        return str(failures[0]) if failures else None

    async def _assemble(self, article: Article, plan: Plan) -> None:
        """Build the whole-article file now, so the first listener gets it at once."""
        try:
            current = await self.store.get_article(article.slug)
        except NotFound:
            return  # deleted while generating
        if current.revision == article.revision:
            await self.assembler.whole(current, plan)


def fallback_for(planner: Planner, name: str | None, failed: str) -> tuple[str, str] | None:
    """The engine ``name`` (TTS_FALLBACK_ENGINE) and its default voice, to read an article whose engine
    ``failed``; None if there is none, it is the engine that failed, or it is misconfigured (logged)."""
    if not name or name == failed:
        return None
    try:
        engine, voice = planner.resolve(name, None)
    except InvalidInput as exc:
        log.error("the fallback engine is misconfigured: %s", exc.message)
        return None
    return engine.name, voice


def _fallen_back(article: Article) -> tuple[str | None, str | None]:
    return article.audio_engine, article.audio_voice
