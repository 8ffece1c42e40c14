"""Generation jobs: kept in the store, taken over when their process dies, falling back per article."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

import pytest
from edge_double import FAULT_REASONS, Fault
from helpers import CountingEngine, open_pipeline
from sqlalchemy import bindparam, text

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.engines import Prosody, Synthesis
from tts_service.errors import NotFound, SynthesisError
from tts_service.jobs import STALE_AFTER, Job, JobStore, orphaned, this_process
from tts_service.pipeline import Pipeline
from tts_service.store import Store


@pytest.fixture
def backend(every_backend: str) -> str:
    """Every test here holds on SQLite + files and on PostgreSQL + S3."""
    return every_backend


TEXT = "第一句话。第二句话。\n\n第三句话。第四句话。"
SENTENCES = ["第一句话。", "第二句话。", "第三句话。", "第四句话。"]


class FlakyEngine:
    """Stands in for an online engine: works for ``ok`` calls, then fails the way a dead endpoint does."""

    name, version = "edge", "flaky-1"
    voices = default_voice = ("zh-CN-XiaoxiaoNeural",)
    default_voice = "zh-CN-XiaoxiaoNeural"
    max_chunk_chars = 300

    def __init__(self, inner: CountingEngine, ok: int = 0) -> None:
        self.inner, self.ok, self.calls = inner, ok, []

    async def synthesize(self, text: str, voice: str, prosody: Prosody) -> Synthesis:
        self.calls.append(text)
        if len(self.calls) > self.ok:
            raise SynthesisError("edge-tts: connection lost mid-stream")
        return await self.inner.inner.synthesize(text, "cmn", prosody)


def dead_owner() -> str:
    """The owner name of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    host, _, rest = this_process().partition(":")
    return f"{host}:{proc.pid}:dead0000"


async def add(pipeline: Pipeline, text: str = TEXT, slug: str = "a", engine: str | None = None):
    draft = ArticleDraft(title="标题", text=text, slug=slug, engine=engine)
    return await pipeline.store.save_article(draft)


async def set_owner(pipeline: Pipeline, job_id: int, owner: str, heartbeat: float | None = None) -> None:
    sql = text("UPDATE jobs SET owner = :owner, heartbeat = :heartbeat WHERE id = :id")
    params = {"owner": owner, "heartbeat": heartbeat or time.time(), "id": job_id}
    await pipeline.store.write(lambda c: c.execute(sql, params))


# The job table --------------------------------------------------------------------------------------


async def test_job_lifecycle_in_the_store(pipeline: Pipeline) -> None:
    jobs = JobStore(pipeline.store)
    job, _ = await jobs.create("a", 1, "espeak", "cmn")
    assert (job.status, job.done, job.total, job.owner) == ("queued", 0, 0, this_process())
    assert job.finished_at is None and job.progress == 0.0
    job = await jobs.update(job.id, status="running", done=3, total=4)
    assert (job.status, job.progress) == ("running", 0.75)
    job = await jobs.update(job.id, status="done", done=4)
    assert job.finished_at is not None and job.progress == 1.0
    assert await jobs.latest("a", 1) == job
    assert await jobs.latest("a", 2) is None
    assert await pipeline.store.job_counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    with pytest.raises(NotFound):
        await jobs.get(job.id + 1)
    with pytest.raises(ValueError, match="owner"):
        await jobs.update(job.id, owner="me")


def _job(owner: str, heartbeat: float, status: str = "running") -> Job:
    return Job(1, "a", 1, "espeak", "cmn", status, 0, 1, None, None, owner, heartbeat, "", "", None)


def test_orphaned_jobs() -> None:
    now = time.time()
    host = this_process().partition(":")[0]
    alive = f"{host}:{subprocess.os.getppid()}:other"  # our parent: alive, not us
    assert orphaned(_job(dead_owner(), now), now)
    assert not orphaned(_job(alive, now), now)
    assert orphaned(_job(alive, now - STALE_AFTER - 1), now)  # alive PID, but silent: reused PID or hung
    assert not orphaned(_job(this_process(), now - 3600), now)  # ours: we know whether we run it
    assert not orphaned(_job(dead_owner(), now, status="done"), now)
    assert not orphaned(_job("elsewhere:1:x", now), now)  # another host: only the heartbeat tells
    assert orphaned(_job("elsewhere:1:x", now - STALE_AFTER - 1), now)


async def test_an_orphan_is_claimed_once(pipeline: Pipeline) -> None:
    jobs = JobStore(pipeline.store)
    job, _ = await jobs.create("a", 1, "espeak", "cmn")
    await set_owner(pipeline, job.id, dead_owner())
    orphan = await jobs.get(job.id)
    assert await jobs.orphans() == [orphan]
    assert await asyncio.gather(jobs.claim(orphan), jobs.claim(orphan)) in ([True, False], [False, True])
    assert (await jobs.get(job.id)).owner == this_process()
    assert await jobs.orphans() == []


# Running jobs -------------------------------------------------------------------------------------


async def test_job_runs_to_done_with_progress(pipeline: Pipeline, espeak: CountingEngine) -> None:
    article = await add(pipeline)
    seen: list[tuple[int, int]] = []
    job = await pipeline.generate(article, lambda done, total: seen.append((done, total)))
    assert (job.status, job.done, job.total, job.error, job.fallback) == ("done", 4, 4, None, None)
    assert seen[0] == (0, 4) and seen[-1] == (4, 4)
    assert sorted(espeak.calls) == sorted(SENTENCES)
    manifest = await pipeline.manifest(article)
    assert manifest.status == "ready" and await pipeline.whole(article, manifest) is not None


async def test_job_of_a_dead_process_is_resumed(pipeline: Pipeline, espeak: CountingEngine) -> None:
    article = await add(pipeline)
    plan = await pipeline.planner.plan(article)
    engine = pipeline.engines.get()
    for chunk in plan.spoken[:2]:  # what the killed process got done
        await pipeline.synthesizer.synthesize(engine, plan.voice, plan.prosody, chunk.spoken, chunk.key)
    left, _ = await pipeline.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
    await pipeline.jobs.update(left.id, status="running", done=2, total=4)
    await set_owner(pipeline, left.id, dead_owner())
    espeak.calls.clear()

    (resumed,) = await pipeline.resume()
    assert resumed.id == left.id
    done = await pipeline.wait(resumed)
    assert (done.id, done.status, done.done, done.total) == (left.id, "done", 4, 4)
    assert sorted(espeak.calls) == SENTENCES[2:]  # only what was missing
    assert (await pipeline.manifest(article)).status == "ready"


async def test_job_of_a_live_process_is_left_alone(pipeline: Pipeline, espeak: CountingEngine) -> None:
    article = await add(pipeline)
    plan = await pipeline.planner.plan(article)
    other, _ = await pipeline.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
    host = this_process().partition(":")[0]
    await set_owner(pipeline, other.id, f"{host}:{subprocess.os.getppid()}:other")
    assert await pipeline.resume() == []
    assert (await pipeline.start(article)).id == other.id  # not a second job for the same revision
    await asyncio.sleep(0.05)
    assert espeak.calls == []


async def test_job_of_an_edited_article_is_superseded(pipeline: Pipeline) -> None:
    article = await add(pipeline)
    plan = await pipeline.planner.plan(article)
    left, _ = await pipeline.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
    await set_owner(pipeline, left.id, dead_owner())
    await add(pipeline, "新的文字。")
    assert await pipeline.resume() == []
    job = await pipeline.jobs.get(left.id)
    assert (job.status, job.error) == ("failed", "superseded: the article changed")


async def test_deleting_an_article_stops_its_job(pipeline: Pipeline, espeak: CountingEngine) -> None:
    job = await pipeline.start(await add(pipeline, "".join(f"第{i}句。" for i in range(30))))
    await asyncio.sleep(0.2)
    await pipeline.delete("a")
    with pytest.raises(NotFound):
        await pipeline.wait(job)
    calls = len(espeak.calls)
    assert 0 < calls < 30
    await asyncio.sleep(0.3)
    assert len(espeak.calls) == calls  # stopped, not left running


# Fallback for the whole article ---------------------------------------------------------------------


async def _audio_engines(pipeline: Pipeline, keys: list[str]) -> set[str]:
    sql = text("SELECT DISTINCT engine FROM audio WHERE key IN :keys").bindparams(
        bindparam("keys", expanding=True)
    )
    return {row[0] for row in await pipeline.store.read(lambda c: c.execute(sql, {"keys": keys}).all())}


async def test_failing_engine_falls_back_for_the_whole_article(settings: Settings, espeak) -> None:
    edge = FlakyEngine(espeak, ok=2)  # the first two sentences work, then the endpoint dies
    with_fallback = settings.model_copy(update={"fallback_engine": "espeak"})
    async with open_pipeline(with_fallback, espeak=espeak, edge=edge) as pipeline:
        article = await add(pipeline, engine="edge")
        job = await pipeline.generate(article)
        assert job.status == "done" and (job.engine, job.voice) == ("espeak", "cmn")
        assert job.fallback.startswith("edge failed (edge-tts: connection lost mid-stream)")
        assert job.fallback.endswith("the whole article is read by espeak")
        # Every sentence, including the two edge had made, is read by the fallback: one voice throughout.
        assert sorted(espeak.calls) == sorted(SENTENCES)
        article = await pipeline.store.get_article("a")
        manifest = await pipeline.manifest(article)
        assert (manifest.status, manifest.plan.engine) == ("ready", "espeak")
        assert await _audio_engines(pipeline, [c.key for c in manifest.plan.spoken]) == {"espeak"}
        whole = await pipeline.whole(article, manifest)
        assert whole is not None and len(whole.spans) == 4

        # Once edge works again, a retry brings the article back to its own voice, all in edge.
        edge.ok = 100
        espeak.calls.clear()
        retried = await pipeline.wait(await pipeline.start(article, retry=True))
        assert (retried.status, retried.engine, retried.fallback) == ("done", "edge", None)
        article = await pipeline.store.get_article("a")
        assert article.audio_engine is None
        manifest = await pipeline.manifest(article)
        assert (manifest.status, manifest.plan.engine) == ("ready", "edge")
        assert await _audio_engines(pipeline, [c.key for c in manifest.plan.spoken]) == {"edge"}
        assert espeak.calls == []


async def test_without_a_fallback_the_job_fails_with_the_reason(settings: Settings, espeak) -> None:
    async with open_pipeline(settings, espeak=espeak, edge=FlakyEngine(espeak)) as pipeline:
        article = await add(pipeline, engine="edge")
        with pytest.raises(SynthesisError, match="connection lost mid-stream"):
            await pipeline.generate(article)
        job = await pipeline.jobs.latest("a", 1)
        assert (job.status, job.error) == ("failed", "edge-tts: connection lost mid-stream")
        manifest = await pipeline.manifest(article)
        assert (manifest.status, manifest.error) == ("failed", "edge-tts: connection lost mid-stream")
        # A failed job is not restarted by readers, only by a retry.
        assert (await pipeline.start(article)).id == job.id


async def test_when_the_fallback_fails_too_both_reasons_are_given(settings: Settings, espeak) -> None:
    async def broken(text, voice, prosody):
        raise SynthesisError("espeak-ng exited with 1")

    espeak.inner.synthesize = broken
    async with open_pipeline(
        settings.model_copy(update={"fallback_engine": "espeak"}), espeak=espeak, edge=FlakyEngine(espeak)
    ) as pipeline:
        job = await pipeline.wait(await pipeline.start(await add(pipeline, engine="edge")))
        assert job.status == "failed"
        assert job.error == (
            "edge failed (edge-tts: connection lost mid-stream); the whole article is read by espeak;"
            " espeak failed too (espeak-ng exited with 1)"
        )


# Real edge faults, through the real edge-tts client, the retries and the breaker -----------------------


def edge_with_double(double, *, retries: int = 1, threshold: int = 50, timeout: float = 0.5):
    from tts_service.engines.edge import EdgeEngine
    from tts_service.engines.resilience import Resilient

    engine = EdgeEngine(timeout=timeout, connector_factory=double.connector_factory)
    return Resilient(engine, retries=retries, backoff=0.0, threshold=threshold, cooldown=60)


@pytest.mark.parametrize("fault", list(Fault), ids=lambda fault: fault.name)
@pytest.mark.parametrize("fallback", [None, "espeak"])
async def test_each_edge_fault_falls_back_or_fails(
    settings: Settings, espeak: CountingEngine, edge_double, fault: Fault, fallback: str | None
) -> None:
    edge_double.fail_all(fault)
    configured = settings.model_copy(update={"fallback_engine": fallback})
    # A stall is waited out; the timeout also covers connecting, which on a loaded machine once took longer
    # than 0.5 s, so the retry gave up before the double saw it: 2 s for stalls, 0.5 s for the fast faults.
    edge = edge_with_double(edge_double, timeout=2.0 if fault is Fault.STALL else 0.5)
    async with open_pipeline(configured, espeak=espeak, edge=edge) as pipeline:
        job = await pipeline.wait(await pipeline.start(await add(pipeline, "只有一句话。", engine="edge")))
        reason = re.compile(FAULT_REASONS[fault])
        assert len(edge_double.attempts) == 2  # the first try and one retry, then no more
        manifest = await pipeline.manifest(await pipeline.store.get_article("a"))
        if fallback is None:
            assert job.status == "failed" and reason.search(job.error)
            assert job.error.endswith("(gave up after 2 attempts)")
            assert (manifest.status, manifest.error) == ("failed", job.error)
            assert espeak.calls == []
        else:
            assert job.status == "done" and job.engine == "espeak" and reason.search(job.fallback)
            assert (manifest.status, manifest.plan.engine) == ("ready", "espeak")
            assert espeak.calls == ["只有一句话。"]


async def test_an_open_circuit_sends_articles_straight_to_the_fallback(
    settings: Settings, espeak: CountingEngine, edge_double
) -> None:
    edge_double.fail_all(Fault.RESET)
    configured = settings.model_copy(update={"fallback_engine": "espeak"})
    # Resets fail at once; the timeout only has to outlast a loaded machine (0.5 s once did not: an attempt
    # timed out before the double saw it, and the count of attempts was off by one).
    edge = edge_with_double(edge_double, threshold=2, timeout=5.0)
    async with open_pipeline(configured, espeak=espeak, edge=edge) as pipeline:
        one = await add(pipeline, "第一篇。", slug="one", engine="edge")
        first = await pipeline.wait(await pipeline.start(one))
        assert first.engine == "espeak" and len(edge_double.attempts) == 2  # the circuit is now open
        two = await add(pipeline, "第二篇。", slug="two", engine="edge")
        second = await pipeline.wait(await pipeline.start(two))
        assert second.status == "done" and second.engine == "espeak"
        assert second.fallback.startswith("edge failed (engine 'edge' is unavailable for another")
        assert len(edge_double.attempts) == 2  # the dead endpoint was not asked again


async def test_shutdown_does_not_wait_forever_for_a_stuck_job(settings: Settings, espeak, caplog) -> None:
    import tts_service.pipeline as pipeline_module

    class Stuck:
        """An engine call that ignores cancellation (while wedged), as a stuck library call would."""

        name, version, voices, default_voice, max_chunk_chars = "edge", "stuck-1", ("v",), "v", 300
        wedged = True

        async def synthesize(self, text, voice, prosody):
            while self.wedged:
                try:
                    await asyncio.sleep(0.02)
                except asyncio.CancelledError:
                    continue
            raise SynthesisError("unwedged at last")

    stuck = Stuck()
    async with open_pipeline(settings, espeak=espeak, edge=stuck) as pipeline:
        job = await pipeline.start(await add(pipeline, engine="edge"))
        await asyncio.sleep(0.1)
        task = pipeline._running[job.id].task
        grace, pipeline_module.SHUTDOWN_GRACE = pipeline_module.SHUTDOWN_GRACE, 0.2
        try:
            async with asyncio.timeout(5):
                await pipeline.aclose()
            assert task.done()  # the job itself stops; the engine call it waited for is stuck
            assert "2 job(s) or synthesis(es) did not stop in 0.2 s" in caplog.text  # one per worker slot
            assert "flight:" in caplog.text and "> synthesize:" in caplog.text  # where it hangs, to debug
            assert (await pipeline.jobs.get(job.id)).status == "running"  # so the next process resumes it
        finally:
            pipeline_module.SHUTDOWN_GRACE = grace
            stuck.wedged = False
            await asyncio.gather(task, *pipeline.synthesizer.tasks(), return_exceptions=True)


# Superseded revisions ------------------------------------------------------------------------------


def version_text(n: int, sentences: int = 12) -> str:
    return "".join(f"第{n}版第{k}句话。" for k in range(sentences))


async def test_new_revisions_supersede_the_jobs_of_older_ones(settings: Settings) -> None:
    """As found: after 5 quick edits, revisions 2-4 ran to done and the current one started late. Now each
    new revision stops the jobs of older ones; what was made stays cached."""
    from tts_service.engines.espeak import EspeakEngine

    slow = CountingEngine(EspeakEngine(), delay=0.1)
    async with open_pipeline(settings, espeak=slow) as pipeline:
        first = await add(pipeline, version_text(1))
        jobs = [await pipeline.start(first)]
        async with asyncio.timeout(30):  # the first job is under way: it has made a chunk
            while True:
                if slow.finished:
                    break
                await asyncio.sleep(0.01)
        for n in range(2, 6):
            article = await pipeline.save(ArticleDraft(title="标题", text=version_text(n), slug="a"))
            jobs.append(await pipeline.start(article))
        async with asyncio.timeout(60):
            current = await pipeline.wait(jobs[-1])
        assert (current.status, current.revision, current.done, current.total) == ("done", 5, 12, 12)
        for job in jobs[:-1]:
            ended = await pipeline.wait(job)
            assert ended.status == "failed", ended
            assert re.fullmatch(r"superseded by revision [2-5]", ended.error or ""), ended.error
        # Revisions 2-4 never ran: at most the chunks in flight when they were superseded.
        middle = [t for t in slow.calls if t.startswith(("第二版", "第三版", "第四版"))]
        assert len(middle) <= 2 * settings.synthesis_slots, middle
        # Audio the first job had made stays cached and recorded.
        made = [t for t in slow.finished if t.startswith("第一版")]
        assert made and len(await pipeline.store.all_audio()) >= 12 + len(made)


async def test_a_job_queued_behind_others_skips_a_superseded_revision(settings: Settings, espeak) -> None:
    async with open_pipeline(settings, espeak=espeak) as pipeline:
        old = await add(pipeline, "旧的一句。", slug="x")
        await add(pipeline, "新的一句。", slug="x")  # saved elsewhere (another process): no supersede call
        job = await pipeline.wait(await pipeline.start(old))
        assert (job.status, job.error) == ("failed", "superseded by revision 2")
        assert espeak.calls == []


async def test_processes_starting_one_revision_at_once_make_one_job(
    settings: Settings, pipeline: Pipeline
) -> None:
    """Four stores on one database, as four processes (on one machine or several) have: each asks for the
    revision's job at the same moment; the database lets exactly one create it, and all get that one."""
    article = await add(pipeline)
    others = [Store(settings.database) for _ in range(3)]
    try:
        stores = [pipeline.store, *others]
        results = await asyncio.gather(
            *(JobStore(s).create(article.slug, article.revision, "espeak", "cmn") for s in stores)
        )
    finally:
        for store in others:
            store.close()
    assert sum(created for _, created in results) == 1
    assert len({job.id for job, _ in results}) == 1


async def test_a_job_of_this_process_left_running_is_run_again(
    pipeline: Pipeline, espeak: CountingEngine
) -> None:
    """Its run ended while the database was down, so its end was never recorded: it still says "running"
    under this process's name. Asking for the audio again runs it, instead of waiting for it forever."""
    article = await add(pipeline)
    plan = await pipeline.planner.plan(article)
    left, _ = await pipeline.jobs.create(article.slug, article.revision, plan.engine, plan.voice)
    await pipeline.jobs.update(left.id, status="running")
    again = await pipeline.start(article)
    assert again.id == left.id
    done = await pipeline.wait(again)
    assert (done.status, done.done, done.total) == ("done", 4, 4)
