"""The database or the object store going down in the middle of a job: the job waits and carries on when
it is back, or fails with a clear reason once the outage outlasts TTS_OUTAGE_WAIT; never a record without
its object. Real servers, really stopped: PostgreSQL with pg_ctl, SeaweedFS by killing it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time

import httpx
import pytest
from helpers import CountingEngine, _cli, backend_env, create, wait_ready
from postgres import PostgresServer
from seaweed import SeaweedFS

from tts_service import upkeep
from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.errors import AudioStoreDown
from tts_service.jobs import Job
from tts_service.pipeline import Pipeline
from tts_service.states import AudioStatus, JobStatus
from tts_service.web import create_app

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


async def test_readers_of_ready_audio_do_not_need_the_database(
    settings: Settings, espeak: CountingEngine, seaweedfs: SeaweedFS, postgres_server: PostgresServer
) -> None:
    """With TTS_AUDIO_BASE_URL on the bucket's public endpoint (as a CDN's origin), the manifest's URLs
    lead straight to the objects: with the database down, every one of them still plays, while /healthz
    says the database is down."""
    settings.audio_base_url = f"{seaweedfs.endpoint}/{seaweedfs.bucket}"
    bucket, prefix = settings.s3_location or ("", "")
    public_read = {  # the README's bucket policy: anyone may read the audio under the prefix, nothing else
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/{prefix}/*",
            }
        ],
    }
    seaweedfs.client().put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read))
    app = create_app(settings, engines={"espeak": espeak})
    async with app.router.lifespan_context(app):
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        await create(api, {"title": "短文", "text": "第一句。第二句。", "slug": "short"})
        manifest = await wait_ready(api, "short")
        urls = [manifest["url"], *(chunk["url"] for chunk in manifest["chunks"])]
        assert all(url.startswith(settings.audio_base_url) for url in urls)
        postgres_server.stop()
        try:
            async with httpx.AsyncClient() as cdn:  # what a CDN fetching from the bucket would get
                for url in urls:
                    answer = await cdn.get(url)
                    assert answer.status_code == 200 and answer.content.startswith(
                        (b"ID3", b"\xff\xf3", b"\xff\xfb")
                    )
                assert (await cdn.get(f"{settings.audio_base_url}/elsewhere")).status_code == 403  # the rest
            health = await api.get("/healthz")
            assert health.status_code == 503 and health.json()["database"]["available"] is False
        finally:
            postgres_server.start()
            seaweedfs.client().delete_bucket_policy(Bucket=bucket)
            await api.aclose()


def test_a_command_waits_for_a_database_still_starting(
    settings: Settings, postgres_server: PostgresServer
) -> None:
    """Started before its database (a machine booting), a command waits for it; past TTS_OUTAGE_WAIT it
    says why it gave up, in one line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    env |= {"TTS_HOME": str(settings.home), "TTS_ENGINE": "espeak", **backend_env(settings)}
    postgres_server.stop()
    try:
        late = subprocess.Popen([_cli(), "list"], env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(2)
    finally:
        postgres_server.start()
    _, errors = late.communicate(timeout=60)
    assert late.returncode == 0, errors
    postgres_server.stop()
    try:
        gave_up = subprocess.run(
            [_cli(), "list"], env={**env, "TTS_OUTAGE_WAIT": "1"}, capture_output=True, text=True, timeout=60
        )
    finally:
        postgres_server.start()
    assert gave_up.returncode == 1
    error = [line for line in gave_up.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and error[0].startswith("error: cannot reach the database postgresql")
    assert "Traceback" not in gave_up.stderr
