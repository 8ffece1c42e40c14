"""Fifty readers asking at once for audio nobody has made yet: each chunk is synthesised exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from helpers import AUTH, decode


@pytest.fixture
def backend(every_backend: str) -> str:
    """Every test here holds on SQLite + files and on PostgreSQL + S3."""
    return every_backend


SENTENCES = [f"这句话说的是{thing}。" for thing in ("春天", "夏天", "秋天", "冬天", "山川", "河流")]
TEXT = "".join(SENTENCES[:3]) + "\n\n" + "".join(SENTENCES[3:])


async def add(client: httpx.AsyncClient, app, slug: str) -> None:
    # Stored directly, not through the API, so that nothing starts generating before the readers arrive.
    from tts_service.article import ArticleDraft

    await app.state.store.save_article(ArticleDraft(title="并发", slug=slug, text=TEXT))


async def test_50_concurrent_requests_for_one_article(client: httpx.AsyncClient, app, espeak) -> None:
    await add(client, app, "busy")
    answers = await asyncio.gather(*(client.get("/api/articles/busy/audio") for _ in range(50)))
    assert {r.status_code for r in answers} == {200}
    job_ids = {r.json()["job"]["id"] for r in answers}
    assert len(job_ids) == 1  # fifty readers, one job
    job = await app.state.pipeline.wait(await app.state.pipeline.jobs.get(job_ids.pop()))
    assert job.status == "done"
    assert Counter(espeak.calls) == Counter(SENTENCES)  # each sentence exactly once


async def test_50_concurrent_streams_of_uncached_audio(client: httpx.AsyncClient, app, espeak) -> None:
    await add(client, app, "live")
    answers = await asyncio.gather(*(client.get("/articles/live/audio.mp3") for _ in range(50)))
    assert {r.status_code for r in answers} == {200}
    # Every stream got the whole article (they shared each chunk's synthesis, and the job's).
    lengths = {round(decode(r.content)[0], 1) for r in answers}
    assert len(lengths) == 1 and lengths.pop() > 3
    assert Counter(espeak.calls) == Counter(SENTENCES)


async def test_50_concurrent_requests_for_one_uncached_chunk(client: httpx.AsyncClient, app, espeak) -> None:
    await add(client, app, "one")
    pipeline = app.state.pipeline
    article = await app.state.store.get_article("one")
    plan = await pipeline.planner.plan(article)
    chunk = plan.spoken[4]
    audio = await asyncio.gather(*(pipeline.synthesizer.chunk_audio(plan, chunk) for _ in range(50)))
    assert len(set(audio)) == 1
    assert espeak.calls == [SENTENCES[4]]
    # And the chunk URL then serves it; a regeneration request makes nothing again.
    response = await client.get(f"/audio/{chunk.key}.mp3")
    assert response.content == audio[0]
    await asyncio.gather(*(client.post("/api/articles/one/audio", headers=AUTH) for _ in range(50)))
    await asyncio.sleep(0)
    job = await pipeline.jobs.latest("one", 1)
    job = await pipeline.wait(job)
    assert job.status == "done"
    assert Counter(espeak.calls) == Counter(SENTENCES)
