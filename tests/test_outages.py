"""The database or the object store going down in the middle of a job: the job waits and carries on when
it is back, or fails with a clear reason once the outage outlasts TTS_OUTAGE_WAIT; never a record without
its object. Real servers, really stopped: PostgreSQL with pg_ctl, SeaweedFS by killing it."""

from __future__ import annotations

import asyncio

import pytest
from helpers import CountingEngine
from postgres import PostgresServer
from seaweed import SeaweedFS

from tts_service import upkeep
from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.errors import AudioStoreDown
from tts_service.jobs import Job
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus, JobStatus

LONG = "\n\n".join("".join(f"第{p}段第{s}句，编号{p * 10 + s}。" for s in range(5)) for p in range(6))


@pytest.fixture
def backend() -> str:
    return "cloud"


async def started(pipeline: Pipeline, espeak: CountingEngine) -> tuple[Job, object]:
    """A 30-chunk job under way, a few chunks made."""
    espeak.delay = 0.15  # slow enough to stop a server half way through
    article = await pipeline.publish(ArticleDraft(title="长文", text=LONG, slug="long"))
    job = await pipeline.start(article)
    async with asyncio.timeout(60):
        while (await pipeline.jobs.get(job.id)).done < 4:  # noqa: ASYNC110 (polling the store is the point)
            await asyncio.sleep(0.05)
    return job, article


async def assert_nothing_broken(pipeline: Pipeline) -> None:
    """Every record has its whole object. (Just restarted, SeaweedFS answers reads of older objects with
    500 for a few seconds while it loads its volumes: wait for that first.)"""
    keys = [record.key for record in await pipeline.store.all_audio()]
    async with asyncio.timeout(60):
        while True:
            try:
                await asyncio.gather(*(asyncio.to_thread(pipeline.cache.info, key) for key in keys))
                break
            except AudioStoreDown:
                await asyncio.sleep(0.5)
    report = await upkeep.verify(pipeline.store, pipeline.cache)
    assert report.bad == [], report.bad


async def test_database_down_mid_job_then_back(
    settings: Settings, pipeline: Pipeline, espeak: CountingEngine, postgres_server: PostgresServer
) -> None:
    settings.outage_wait = 60.0
    job, article = await started(pipeline, espeak)
    postgres_server.stop()
    try:
        await asyncio.sleep(2.0)  # the job runs into the outage and waits
    finally:
        postgres_server.start()
    final = await asyncio.wait_for(pipeline.wait(job), 120)
    assert (final.status, final.done, final.total) == (JobStatus.DONE, 30, 30), final.error
    assert (await pipeline.manifest(article)).status == AudioStatus.READY
    await assert_nothing_broken(pipeline)


async def test_object_store_down_mid_job_fails_clearly_then_recovers(
    settings: Settings, pipeline: Pipeline, espeak: CountingEngine, seaweedfs: SeaweedFS
) -> None:
    settings.outage_wait = 1.0
    job, article = await started(pipeline, espeak)
    seaweedfs.stop()
    try:
        final = await asyncio.wait_for(pipeline.wait(job), 120)
    finally:
        seaweedfs.start()
    assert final.status == JobStatus.FAILED
    assert final.error and "audio store" in final.error, final.error
    await assert_nothing_broken(pipeline)
    again = await asyncio.wait_for(pipeline.wait((await pipeline.regenerate(article)).job), 120)
    assert again.status == JobStatus.DONE and (await pipeline.manifest(article)).status == AudioStatus.READY
    await assert_nothing_broken(pipeline)
