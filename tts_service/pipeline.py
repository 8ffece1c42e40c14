"""The façade web/ and the CLI call, one method per use case, and the scheduling of generation jobs.

The work itself lives one layer down: planning (``planning.Planner``), synthesis (``synthesis.Synthesizer``),
one job's run (``generation.JobRunner``) and whole-article files (``assembly.Assembler``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from tts_service import manifest as manifests
from tts_service.article import Article, ArticleDraft
from tts_service.assembly import Assembler
from tts_service.cache import AudioStore
from tts_service.config import Settings
from tts_service.engines import EngineRegistry, Prosody
from tts_service.errors import NotFound, SynthesisError, invalid_input
from tts_service.generation import JobRunner
from tts_service.jobs import Job, JobStore, orphaned, this_process
from tts_service.manifest import Manifest
from tts_service.planning import Plan, Planner
from tts_service.queued import QueuedJobs, QueuedSynthesizer
from tts_service.quotas import Quotas
from tts_service.snippet import whole
from tts_service.speech import Speech, prepare
from tts_service.states import AudioStatus, JobStatus
from tts_service.store import AssemblyRecord, SaveCheck, Store
from tts_service.synthesis import Metrics, Synthesizer
from tts_service.taskqueue import TaskQueue
from tts_service.text import segment
from tts_service.text.blocks import collapse
from tts_service.text.source import Format
from tts_service.urls import canonical_url, page_slug

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 10.0  # seconds that shutdown waits for jobs to stop and whole-article files to be written
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class ArticleAudio:
    """An article's audio as readers and apps get it: the manifest, the whole file once ready, the job."""

    article: Article
    manifest: Manifest
    whole: AssemblyRecord | None  # the whole-article MP3, once every chunk is ready
    job: Job | None  # the job started now, or (``with_job``) the revision's latest


@dataclass(frozen=True)
class _Running:
    """A job this process runs: the job as launched, its task, and its runner (to supersede it)."""

    job: Job
    task: asyncio.Task[Job]
    runner: JobRunner


def _awaiting(task: asyncio.Task[object]) -> str:
    """Where a task is suspended: its chain of awaited coroutines, outermost first (for stuck tasks)."""
    steps: list[str] = []
    coro: object = task.get_coro()
    while (frame := getattr(coro, "cr_frame", None)) is not None:
        steps.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return " > ".join(steps) or "?"


class Pipeline:
    """Publishes articles, answers for their audio, and runs their generation jobs (one per revision)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        cache: AudioStore,
        engines: EngineRegistry,
        metrics: Metrics | None = None,
        queue: TaskQueue | None = None,
    ) -> None:
        self.settings, self.store, self.cache, self.engines = settings, store, cache, engines
        self.jobs = JobStore(store)
        self.planner = Planner(engines, store, settings.voice, settings.plan_cache_mb << 20)
        self.synthesizer = Synthesizer(store, cache, engines, settings.synthesis_slots, metrics)
        # With a task queue (TTS_REDIS_URL), jobs and the chunks readers wait for are the workers' to make.
        self.queue = queue
        self.queued: QueuedJobs | None = None
        if queue is not None:
            slots = settings.synthesis_slots
            self.synthesizer = QueuedSynthesizer(store, cache, engines, slots, queue, metrics)
            self.queued = QueuedJobs(queue, store, self.jobs, self.planner, self.synthesizer)
        self.assembler = Assembler(store, cache)
        self.quotas = Quotas(settings.embed_revisions_per_minute, settings.embed_daily_chars)
        self._job_slots = asyncio.Semaphore(settings.concurrent_jobs)
        self._running: dict[int, _Running] = {}  # job id → the job's task in this process
        # One lock per article revision while someone is starting its job; gone when nobody holds it.
        self._starting: weakref.WeakValueDictionary[tuple[str, int], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # Use cases ------------------------------------------------------------------------------------

    def check(self, draft: ArticleDraft) -> None:
        """Reject a draft before it is stored: too large (413), unknown engine or voice (422)."""
        draft.check_size(self.settings.max_article_chars)
        draft.check_markup()
        self.planner.resolve(draft.engine, draft.voice)

    async def save(
        self,
        draft: ArticleDraft,
        *,
        must_exist: bool = False,
        must_be_new: bool = False,
        if_changed: bool = False,
        check: SaveCheck | None = None,
    ) -> Article:
        """Check and store a draft (a new article, or the next revision); the revision as written.
        Revisions beyond TTS_KEEP_REVISIONS go in the same transaction, so the database does not grow
        with every edit. ``must_be_new``, ``if_changed`` and ``check``: as ``Store.save_article``."""
        self.check(draft)
        if (
            draft.url is not None
        ):  # stored under its canonical form, so every way to it finds the same article
            draft = draft.model_copy(
                update={"url": canonical_url(draft.url, self.settings.embed_keep_query_list)}
            )
        keep = self.settings.keep_revisions
        return await self.store.save_article(
            draft,
            must_exist=must_exist,
            must_be_new=must_be_new,
            keep_revisions=keep,
            if_changed=if_changed,
            check=check,
        )

    async def publish(
        self, draft: ArticleDraft, *, must_exist: bool = False, must_be_new: bool = False
    ) -> Article:
        """Check, store and start making the audio of a draft (``must_exist``: an edit, 404 if there is
        nothing to edit; ``must_be_new``: a new article, SlugTaken if the slug is in use); the revision
        as written."""
        article = await self.save(draft, must_exist=must_exist, must_be_new=must_be_new)
        await self.start(article)
        return article

    async def page(
        self, url: str, title: str, paragraphs: list[str], *, create: bool = True, site: str | None = None
    ) -> ArticleAudio:
        """A host page's audio (the embedded toolbar): the page stored as ``save_page`` stores it, then its
        audio, made where missing. Only changed sentences are synthesised again: the rest are cached."""
        article, _ = await self.save_page(url, title, paragraphs, create=create, site=site)
        return await self.audio(article)

    async def save_page(
        self,
        url: str,
        title: str,
        paragraphs: Sequence[str],
        *,
        create: bool = True,
        site: str | None = None,
        byline: str | None = None,
        date: dt.date | None = None,
    ) -> tuple[Article, bool]:
        """Store a host page under its canonical URL: a new revision when its title or text changed, or a new
        article for a new page (``create``; without it, NotFound); (the article, whether a revision was
        written). The toolbar and ``crawl`` both store pages here, so a crawled page is what the toolbar
        sends later and nothing is made again. A new revision without ``byline`` and ``date`` keeps the
        previous revision's. ``site``, the site asking (the embed API), pays for a new revision from its
        quotas before anything is stored (RateLimited, 429, when they are spent); None (the operator's own
        crawl) pays nothing."""
        canonical = canonical_url(url, self.settings.embed_keep_query_list)
        # Each paragraph on one line, as the toolbar collapsed it; empty ones go (as in every article).
        text = "\n\n".join(segment.paragraphs("\n".join(collapse(p) for p in paragraphs)))
        try:
            article: Article | None = await self.store.article_by_url(canonical)
        except NotFound:
            if not create:
                raise NotFound(f"the page {canonical} is not published here") from None
            article = None
        slug = article.slug if article is not None else page_slug(canonical)
        if article is not None:  # the toolbar cannot see a byline or date: a new revision keeps the old ones
            byline = byline or article.byline
            date = date or (dt.date.fromisoformat(article.date) if article.date else None)
        try:
            draft = ArticleDraft(title=title, text=text, slug=slug, url=canonical, byline=byline, date=date)
        except ValidationError as exc:
            raise invalid_input(exc) from None
        if article is None or (create and (article.title, article.text) != (draft.title, draft.text)):
            check = self.quotas.for_page(site, draft.text) if site is not None else None
            saved = await self.save(draft, if_changed=True, check=check)
            return saved, article is None or saved.revision != article.revision
        return article, False

    async def manifest(self, article: Article, plan: Plan | None = None) -> Manifest:
        """The article's audio status and chunks, as far as they are made; starts nothing."""
        plan = plan or await self.planner.plan(article)
        return await manifests.build(article, plan, self.store, self.jobs)

    async def audio(self, article: Article, *, start: bool = True, with_job: bool = False) -> ArticleAudio:
        """The article's audio: its manifest, the whole file once ready, and (``with_job``) its latest job.
        Asking starts the job that makes missing audio (``start``), unless one is running or failed."""
        manifest = await self.manifest(article)
        job = None
        if start and manifest.status == AudioStatus.PENDING:  # a reader waits: readers first on the queue
            job = await self.start(article, plan=manifest.plan, interactive=True)
        if job is None and with_job:
            job = await self.jobs.latest(article.slug, article.revision)
        return ArticleAudio(article, manifest, await self.whole(article, manifest), job)

    async def regenerate(self, article: Article) -> ArticleAudio:
        """Make the article's audio again: a new job even after a failure, with the article's own engine
        after a fallback; chunks already cached are kept."""
        job = await self.start(article, retry=True)
        manifest = await self.manifest(article)
        return ArticleAudio(article, manifest, await self.whole(article, manifest), job)

    async def job(self, job_id: int) -> Job:
        """A generation job; NotFound if there is none."""
        return await self.jobs.get(job_id)

    def running(self, job: Job | None) -> asyncio.Task[Job] | None:
        """The task of ``job`` if this process is running it now: while it runs, asking for the article's
        audio again starts nothing (``start`` returns the same job)."""
        running = self._running.get(job.id) if job is not None else None
        return running.task if running is not None and not running.task.done() else None

    async def whole(self, article: Article, manifest: Manifest) -> AssemblyRecord | None:
        """The whole-article MP3 once every chunk is ready (built on first use, then cached); else None."""
        if manifest.status != AudioStatus.READY:
            return None
        return await self.assembler.whole(article, manifest.plan)

    async def speech(
        self,
        text: str,
        engine: str | None,
        voice: str | None,
        prosody: Prosody,
        *,
        fmt: Format = "text",
        limit: int | None = None,
    ) -> Speech:
        """A short text planned for speaking now, piece by piece (``speech.Speech.pieces``); at most
        ``limit`` characters (default TTS_TTS_MAX_CHARS)."""
        limit = limit or self.settings.tts_max_chars
        return await prepare(
            self.planner, self.synthesizer, text, engine, voice, prosody, fmt=fmt, limit=limit
        )

    async def speak(
        self, text: str, engine: str | None, voice: str | None, prosody: Prosody, *, fmt: Format = "text"
    ) -> tuple[bytes, float]:
        """A short text's MP3 and its length in seconds, made now (``POST /api/tts``)."""
        return await whole(await self.speech(text, engine, voice, prosody, fmt=fmt))

    async def delete(self, slug: str) -> None:
        """Delete an article: stop its jobs first, then remove it with its revisions and jobs."""
        running = [r.task for r in self._running.values() if r.job.slug == slug and not r.task.done()]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.store.delete_article(slug)

    # Jobs -----------------------------------------------------------------------------------------

    async def start(
        self,
        article: Article,
        *,
        retry: bool = False,
        plan: Plan | None = None,
        on_progress: ProgressFn | None = None,
        interactive: bool = False,
    ) -> Job:
        """The article revision's generation job: the one running, or a new one (``retry``: even after a
        failure, and with the article's own engine again after a fallback). An orphaned job (its process
        died) is taken over and finished. Callers holding the article's plan pass it, to skip planning.
        With the task queue, the job's chunks go to the workers: on ``interactive`` when a reader waits for
        them, else on ``bulk``."""
        key = (article.slug, article.revision)
        lock = self._starting.setdefault(key, asyncio.Lock())
        async with lock:  # two requests, one job
            job = await self.jobs.latest(*key)
            if self.queued is not None:
                return await self.queued.start(article, job, retry=retry, plan=plan, interactive=interactive)
            running = self._running.get(job.id) if job else None
            if job is not None and running is not None and not running.task.done():
                return job
            self._supersede(article)
            # Ours but not running: its run ended without recording how (the database was down then).
            idle = job is not None and job.active and job.owner == this_process()
            if job is not None and (orphaned(job) or idle) and await self.jobs.claim(job):
                log.info("resuming job %d (%s) left by %s", job.id, job.slug, job.owner)
                return self._launch(article, await self.jobs.get(job.id), on_progress)
            if job is not None and (job.active or (job.status == JobStatus.FAILED and not retry)):
                return job  # running in another live process, or failed until someone retries
            if retry:  # after a fallback, a retry tries the article's own engine again
                engine, voice = self.planner.resolve(article.engine, article.voice)
                plan = await self.planner.plan(article, using=(engine.name, voice))
            plan = plan or await self.planner.plan(article)
            job, created = await self.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
            if not created:
                return job  # another process started it meanwhile: it runs there
            return self._launch(article, job, on_progress)

    async def wait(self, job: Job, on_progress: ProgressFn | None = None, poll: float = 0.5) -> Job:
        """Wait for a job to end; its final state. A job run by another process is followed in the store
        until it ends or is orphaned (then it is returned still active: ``start`` again to take it over).
        A queued job is followed until it ends, however long its turn takes."""
        if self.queued is not None:
            return await self.queued.wait(job, on_progress, poll)
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
        if job.status == JobStatus.FAILED:
            raise SynthesisError(job.error or "synthesis failed")
        return job

    async def resume(self) -> list[Job]:
        """Take over every job whose process died (at start-up); the jobs now running here. With the task
        queue, its messages outlive any process: nothing is taken over here."""
        if self.queued is not None:
            return []
        resumed = []
        for job in await self.jobs.orphans():
            try:
                article = await self.store.get_article(job.slug)
            except NotFound:
                article = None
            if article is None or article.revision != job.revision:
                if await self.jobs.claim(job):
                    error = "superseded: the article changed"
                    await self.jobs.update(job.id, status=JobStatus.FAILED, error=error)
                continue
            resumed.append(await self.start(article))
        return resumed

    def _supersede(self, article: Article) -> None:
        """Stop this process's jobs for older revisions of the article: nobody will read them."""
        for running in self._running.values():
            job = running.job
            if job.slug == article.slug and job.revision < article.revision and not running.task.done():
                running.runner.supersede(running.task, article.revision)

    def _launch(self, article: Article, job: Job, on_progress: ProgressFn | None) -> Job:
        self._running = {i: r for i, r in self._running.items() if not r.task.done()}  # forget finished
        runner = JobRunner(
            self.planner,
            self.synthesizer,
            self.jobs,
            self.assembler,
            self.store,
            self.settings.fallback_engine,
            self._job_slots,
            self.settings.outage_wait,
        )
        task = asyncio.create_task(runner.run(article, job, on_progress), name=f"job:{job.slug}:{job.id}")
        self._running[job.id] = _Running(job, task, runner)
        return job

    async def aclose(self) -> None:
        """Cancel running jobs and syntheses (at shutdown); jobs stay "running" in the store and resume at
        the next start."""
        tasks: list[asyncio.Task[object]] = [r.task for r in self._running.values() if not r.task.done()]
        for task in tasks:
            task.cancel()
        tasks += self.synthesizer.cancel()
        if tasks:
            # Bounded: shutdown must not hang on a call that ignores cancellation (the job is still
            # "running" in the store, and the next process resumes it).
            _, stuck = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE)
            if stuck:
                pending = asyncio.all_tasks() - {asyncio.current_task()}
                where = "; ".join(f"{t.get_name()}: {_awaiting(t)}" for t in sorted(pending, key=str))
                message = "%d job(s) or synthesis(es) did not stop in %s s; leaving them. Waiting: %s"
                log.warning(message, len(stuck), SHUTDOWN_GRACE, where)
        await self.assembler.aclose(grace=SHUTDOWN_GRACE)
