"""The task queue's worker (worker.py) in this process, against the suite's real Redis and a real store: jobs
fan out into chunk tasks, the last chunk assembles once, readers go first, failures fall back or fail the job
as in-process jobs do. Several worker processes, killed ones and several web processes: test_cluster.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from helpers import AUTH, CountingEngine, free_port, open_pipeline
from helpers import queue_worker as worker
from pydantic import SecretStr
from sqlalchemy import text
from web.test_admin import sign_in

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.engines import Prosody, Synthesis
from tts_service.engines.espeak import EspeakEngine
from tts_service.errors import NoWorker, SynthesisError
from tts_service.job_chunks import JobChunks
from tts_service.jobs import QUEUE_OWNER
from tts_service.states import AudioStatus, JobStatus
from tts_service.taskqueue import BULK, INTERACTIVE, QUEUES, TaskQueue
from tts_service.web.app import create_app
from tts_service.worker import QueueWorker

_NUMBERS = "一二三四五六七八九十甲乙"
SENTENCES = [f"第{n}句话讲的是第{n}件事情。" for n in _NUMBERS]
TEXT = "".join(SENTENCES[:6]) + "\n\n" + "".join(SENTENCES[6:]) + SENTENCES[0]  # the first one twice


@pytest.fixture
def queued(settings: Settings, redis_url: str) -> Settings:
    """``settings`` with the task queue on; a worker silent for 2 s counts as dead."""
    return settings.model_copy(update={"redis_url": SecretStr(redis_url), "worker_lost_after": 2.0})


class FlakyEdge:
    """An online engine that works for ``ok`` calls, then fails as a dead endpoint does."""

    name, version, default_voice, max_chunk_chars = "edge", "flaky-1", "zh-CN-XiaoxiaoNeural", 300
    voices = ("zh-CN-XiaoxiaoNeural",)

    def __init__(self, ok: int = 0) -> None:
        self.ok, self.calls, self.inner = ok, [], EspeakEngine()

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.calls.append(text)
        if len(self.calls) > self.ok:
            raise SynthesisError("edge-tts: connection lost mid-stream")
        return await self.inner.synthesize(text, "cmn", prosody)


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


def _many(count: int) -> list[str]:
    """``count`` distinct numbers as Chinese characters, so that the spoken form is the text itself."""
    return [a + b for a in _NUMBERS for b in _NUMBERS][:count]


async def _publish(pipeline, slug: str = "a", text: str = TEXT, engine: str | None = None):
    draft = ArticleDraft(title="标题", text=text, slug=slug, engine=engine)
    return await pipeline.publish(draft)


async def test_a_published_job_fans_out_and_the_last_chunk_assembles_once(queued: Settings) -> None:
    engine = CountingEngine(EspeakEngine())
    async with open_pipeline(queued) as pipeline:
        article = await _publish(pipeline)
        job = await pipeline.jobs.latest("a", article.revision)
        assert job is not None and (job.owner, job.status) == (QUEUE_OWNER, JobStatus.QUEUED)
        assert await JobChunks(pipeline.store).left(job.id)  # nothing is made before a worker runs
        status = await asyncio.to_thread(pipeline.queue.status)
        assert status["queues"][BULK]["waiting"] == len(SENTENCES)  # publishing is bulk work: 12 distinct
        assert status["queues"][INTERACTIVE]["waiting"] == 0

        with worker(queued, engine) as running:
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
            outcomes = dict(running.chunk_worker.outcomes)
        assert (done.status, done.done, done.total, done.error) == (JobStatus.DONE, 13, 13, None)
        assert sorted(engine.calls) == sorted(SENTENCES)  # each distinct sentence made once
        assert outcomes == {"made": 12, "assembled": 1}
        manifest = await pipeline.manifest(article)
        assert manifest.status == AudioStatus.READY
        whole = await pipeline.whole(article, manifest)
        assert whole is not None and len(whole.spans) == 13
        assert await JobChunks(pipeline.store).left(job.id) == []
        counts = (await asyncio.to_thread(pipeline.queue.status))["outcomes"]
        assert counts == {"bulk:made": 12}


async def test_the_same_task_twice_makes_its_chunk_once(queued: Settings) -> None:
    """Idempotent tasks: a message delivered again (its worker died) finds the chunk made and stops."""
    engine = CountingEngine(EspeakEngine())
    async with open_pipeline(queued) as pipeline:
        article = await _publish(pipeline, text=SENTENCES[0] + SENTENCES[1])
        job = await pipeline.jobs.latest("a", article.revision)
        plan = await pipeline.planner.plan(article)
        again = await pipeline.queued.dispatch(job, plan, interactive=False)  # every task sent a second time
        assert again.id == job.id
        with worker(queued, engine) as running:
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
            await asyncio.to_thread(pipeline.queue.broker.join, BULK, timeout=10_000)
            outcomes = dict(running.chunk_worker.outcomes)
        assert done.status == JobStatus.DONE
        assert sorted(engine.calls) == sorted(SENTENCES[:2])
        assert outcomes["assembled"] == 1 and outcomes["made"] == 2
        assert outcomes.get("cached", 0) + outcomes.get("skipped", 0) == 2


async def test_a_reader_goes_before_a_long_bulk_job(queued: Settings) -> None:
    slow = CountingEngine(EspeakEngine(), delay=0.15)
    bulk = [f"这是批量任务的第{n}句。" for n in _many(60)]
    async with open_pipeline(queued) as pipeline:
        long_one = await _publish(pipeline, slug="long", text="".join(bulk))
        with worker(queued, slow):
            await _until(lambda: len(slow.calls) >= 3)  # the bulk job is under way
            # A reader opens a page with no audio yet: its job goes on the interactive queue.
            reader = await pipeline.save(
                ArticleDraft(title="新闻", text="读者要听的第一句。读者要听的第二句。", slug="new")
            )
            asked_at = len(slow.calls)
            audio = await pipeline.audio(reader)
            assert audio.job is not None
            ready = await asyncio.wait_for(pipeline.wait(audio.job, poll=0.05), 30)
            made_before = slow.calls.index("读者要听的第一句。")
            bulk_job = await pipeline.jobs.latest("long", long_one.revision)
        assert ready.status == JobStatus.DONE
        assert bulk_job is not None and bulk_job.active  # the bulk job is far from done,
        assert made_before - asked_at <= 2  # and the reader's sentence waited for at most the chunk in hand
        assert sum(s in bulk for s in slow.calls) < len(bulk)


async def test_a_bulk_job_a_reader_asks_for_moves_up(queued: Settings) -> None:
    slow = CountingEngine(EspeakEngine(), delay=0.1)
    async with open_pipeline(queued) as pipeline:
        await _publish(pipeline, slug="long", text="".join(f"长文章的第{n}句。" for n in _many(40)))
        wanted = await _publish(pipeline, slug="b", text="排在后面的第一句。排在后面的第二句。")
        with worker(queued, slow):
            await _until(lambda: len(slow.calls) >= 2)
            asked_at = len(slow.calls)
            audio = await pipeline.audio(wanted)  # a reader opens its page: it is still queued in bulk
            await asyncio.wait_for(pipeline.wait(audio.job, poll=0.05), 30)
            assert slow.calls.index("排在后面的第一句。") - asked_at <= 2


async def test_an_engine_failure_falls_back_for_the_whole_article(queued: Settings) -> None:
    espeak, edge = CountingEngine(EspeakEngine()), FlakyEdge(ok=2)
    with_fallback = queued.model_copy(update={"fallback_engine": "espeak"})
    async with open_pipeline(with_fallback, edge=FlakyEdge()) as pipeline:
        article = await _publish(pipeline, engine="edge")
        job = await pipeline.jobs.latest("a", article.revision)
        with worker(with_fallback, espeak, edge=edge):
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
        assert (done.status, done.engine, done.voice) == (JobStatus.DONE, "espeak", "cmn")
        assert done.fallback.startswith("edge failed (edge-tts: connection lost mid-stream")
        assert sorted(set(espeak.calls)) == sorted(SENTENCES)  # one voice throughout
        article = await pipeline.store.get_article("a")
        assert article.audio_engine == "espeak"
        manifest = await pipeline.manifest(article)
        assert (manifest.status, manifest.plan.engine) == (AudioStatus.READY, "espeak")


async def test_without_a_fallback_the_job_fails_with_the_reason(queued: Settings) -> None:
    async with open_pipeline(queued, edge=FlakyEdge()) as pipeline:
        article = await _publish(pipeline, engine="edge")
        job = await pipeline.jobs.latest("a", article.revision)
        with worker(queued, CountingEngine(EspeakEngine()), edge=FlakyEdge()):
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
        assert (done.status, done.error) == (JobStatus.FAILED, "edge-tts: connection lost mid-stream")
        manifest = await pipeline.manifest(article)
        assert manifest.status == AudioStatus.FAILED


async def test_a_new_revision_supersedes_the_queued_job(queued: Settings) -> None:
    engine = CountingEngine(EspeakEngine())
    async with open_pipeline(queued) as pipeline:
        first = await _publish(pipeline, text="旧的第一句。旧的第二句。")
        old = await pipeline.jobs.latest("a", first.revision)
        second = await pipeline.publish(ArticleDraft(title="标题", text="新的一句。", slug="a"))
        old = await pipeline.jobs.get(old.id)
        assert (old.status, old.error) == (JobStatus.FAILED, f"superseded by revision {second.revision}")
        job = await pipeline.jobs.latest("a", second.revision)
        with worker(queued, engine):
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
            await asyncio.to_thread(pipeline.queue.broker.join, BULK, timeout=10_000)
        assert done.status == JobStatus.DONE
        assert engine.calls == ["新的一句。"]  # the old revision's tasks stopped without synthesising


async def test_readers_requests_go_through_the_queue(queued: Settings) -> None:
    engine = CountingEngine(EspeakEngine())
    app = create_app(queued)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            with worker(queued, engine, queues=(INTERACTIVE,)):  # a worker that takes readers' work only
                spoken = await http.post("/api/tts", json={"text": "你好,世界。今天天气很好。"}, headers=AUTH)
                assert spoken.status_code == 200, spoken.text
                assert spoken.headers["content-type"] == "audio/mpeg" and len(spoken.content) > 1000
                assert sorted(engine.calls) == ["今天天气很好。", "你好,世界。"]

                created = await http.post(
                    "/api/articles", json={"title": "题", "text": "一句。两句。"}, headers=AUTH
                )
                slug = created.json()["slug"]
                chunk = await http.get(f"/api/articles/{slug}/audio")  # a reader asks: it moves up
                deadline = time.monotonic() + 30
                while (manifest := (await http.get(f"/api/articles/{slug}/audio")).json())[
                    "status"
                ] != "ready":
                    assert time.monotonic() < deadline, manifest
                    await asyncio.sleep(0.1)
                assert chunk.status_code == 200
            health = (await http.get("/healthz")).json()
        # The worker took readers' work only: the published article's bulk tasks still wait (they will find
        # their chunks made), and with no worker left, new audio would wait too: degraded.
        queues = {INTERACTIVE: {"waiting": 0, "taken": 0, "delayed": 0}}
        queues[BULK] = {"waiting": 2, "taken": 0, "delayed": 0}
        assert health["queue"] == {"available": False, "backlog": 2, "queues": queues, "workers": 0}
        assert health["status"] == "degraded"


async def test_a_reader_gets_503_when_no_worker_makes_the_audio(queued: Settings) -> None:
    async with open_pipeline(queued) as pipeline:
        pipeline.synthesizer.wait = 0.5
        with pytest.raises(NoWorker):
            await pipeline.speak("没有人来做这一句。", None, None, Prosody())


async def test_a_worker_needs_redis_and_known_queues(settings: Settings, redis_url: str) -> None:
    from tts_service.errors import InvalidInput

    with pytest.raises(InvalidInput, match="TTS_REDIS_URL"):
        QueueWorker(settings, concurrency=1, queues=QUEUES)
    queued = settings.model_copy(update={"redis_url": SecretStr(redis_url)})
    with pytest.raises(InvalidInput, match="unknown queue"):
        QueueWorker(queued, concurrency=1, queues=("urgent",))


def test_queue_status_lists_recent_workers(redis_url: str) -> None:
    queue = TaskQueue(redis_url)
    try:
        queue.beat({"id": "here:1", "queues": list(QUEUES), "concurrency": 2})
        status = queue.status()
        assert [w["id"] for w in status["workers"]] == ["here:1"]
        queue.forget("here:1")
        assert queue.status()["workers"] == []
    finally:
        queue.close()


async def test_admin_shows_the_queue_and_its_workers(queued: Settings) -> None:
    app = create_app(queued)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await http.post("/api/articles", json={"title": "题", "text": "一句。两句。"}, headers=AUTH)
            await sign_in(http)
            page = (await http.get("/admin")).text
            assert "合成队列" in page and "最近两分钟没有合成进程" in page
            with worker(queued, CountingEngine(EspeakEngine()), concurrency=2) as running:
                await _until(lambda: running.chunk_worker.outcomes["assembled"] == 1)
                running.beat()
                page = (await http.get("/admin")).text
            assert f"<code>{running.identity['id']}</code>" in page
            assert "最近两分钟没有合成进程" not in page
            metrics = (await http.get("/metrics", headers=AUTH)).text
        assert 'tts_queue_task_outcomes_total{outcome="made",queue="bulk"} 2.0' in metrics
        assert 'tts_queue_tasks{queue="bulk",state="waiting"} 0.0' in metrics
        assert "tts_queue_workers 0.0" in metrics  # stopped: off the list


async def test_a_chunk_another_worker_is_making_is_not_made_twice(queued: Settings) -> None:
    """The claim in Redis: while another worker holds a chunk, this one waits for it instead of calling
    the engine; a claim that lapses (its worker died) or is given up lets this one make it."""
    engine = CountingEngine(EspeakEngine())
    async with open_pipeline(queued) as pipeline:
        plan = await pipeline.planner.plan(await _publish(pipeline, text="正在别处合成的一句。"))
        key = plan.spoken[0].key
        token = pipeline.queue.claim(key, 30)
        assert token is not None and pipeline.queue.claim(key, 30) is None
        with worker(queued, engine):
            await asyncio.sleep(1.0)
            assert engine.calls == []  # it waits for the holder
            pipeline.queue.unclaim(key, token)  # the holder gave up without making it
            job = await pipeline.jobs.latest("a", 1)
            assert (await asyncio.wait_for(pipeline.wait(job, poll=0.05), 30)).status == JobStatus.DONE
        assert engine.calls == ["正在别处合成的一句。"]


def test_claims_are_renewed_and_freed_only_by_their_holder(redis_url: str) -> None:
    queue = TaskQueue(redis_url)
    try:
        token = queue.claim("k", 0.3)
        assert token is not None
        assert queue.renew("k", token, 0.3) and not queue.renew("k", "not-the-token", 0.3)
        queue.unclaim("k", "not-the-token")
        assert queue.claim("k", 0.3) is None  # still held
        time.sleep(0.5)
        assert queue.claim("k", 0.3) is not None  # lapsed: its holder died
    finally:
        queue.close()


async def test_a_job_published_while_redis_was_down_is_queued_when_asked_for(
    settings: Settings, queued: Settings
) -> None:
    dead = settings.model_copy(update={"redis_url": SecretStr(f"redis://127.0.0.1:{free_port()}/0")})
    async with open_pipeline(dead) as pipeline:
        article = await _publish(pipeline)  # stored, with its job, though nothing could be queued
        job = await pipeline.jobs.latest("a", article.revision)
        assert (job.status, job.owner, job.total) == (JobStatus.QUEUED, QUEUE_OWNER, 13)
    engine = CountingEngine(EspeakEngine())
    async with open_pipeline(queued) as pipeline:  # Redis is back
        aged = text("UPDATE jobs SET heartbeat = heartbeat - 120 WHERE id = :id")
        await pipeline.store.write(lambda c: c.execute(aged, {"id": job.id}))
        with worker(queued, engine):
            audio = await pipeline.audio(
                article
            )  # a reader asks: no progress for 2 minutes, so it goes again
            assert audio.job is not None and audio.job.id == job.id
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 60)
        assert done.status == JobStatus.DONE and sorted(engine.calls) == sorted(SENTENCES)


class Broken:
    """An engine with a bug: not a SynthesisError, an exception nobody expected."""

    name, version, default_voice, max_chunk_chars, voices = "espeak", "broken-1", "cmn", 300, ("cmn",)

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        raise KeyError("a bug")


async def test_a_task_that_crashes_fails_its_job_with_a_reason(queued: Settings) -> None:
    async with open_pipeline(queued) as pipeline:
        article = await _publish(pipeline, text="会出错的一句。")
        job = await pipeline.jobs.latest("a", article.revision)
        with worker(queued, Broken()) as running:
            done = await asyncio.wait_for(pipeline.wait(job, poll=0.05), 30)
            outcomes = dict(running.chunk_worker.outcomes)
        assert (done.status, done.error) == (JobStatus.FAILED, "internal error during synthesis")
        assert outcomes == {"error": 1}


async def test_a_reader_hears_at_once_why_a_chunk_could_not_be_made(queued: Settings) -> None:
    async with open_pipeline(queued, edge=FlakyEdge()) as pipeline:
        with worker(queued, CountingEngine(EspeakEngine()), edge=FlakyEdge()):
            started = time.monotonic()
            with pytest.raises(SynthesisError, match="edge-tts: connection lost mid-stream"):
                await pipeline.speak("这一句合成失败。", "edge", None, Prosody())
            assert time.monotonic() - started < 10  # the worker's report, not the 60 s wait
