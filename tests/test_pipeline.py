"""The pipeline: plans, single-flight synthesis, edits that re-synthesise only what changed."""

from __future__ import annotations

import asyncio

import pytest
from helpers import CountingEngine

from tts_service.article import ArticleDraft
from tts_service.errors import InvalidInput
from tts_service.pipeline import Pipeline


@pytest.fixture
def backend(every_backend: str) -> str:
    """Every test here holds on SQLite + files and on PostgreSQL + S3."""
    return every_backend


async def add(pipeline: Pipeline, text: str, slug: str = "a"):
    return await pipeline.store.save_article(ArticleDraft(title="t", text=text, slug=slug))


async def test_plan_covers_the_whole_text(pipeline: Pipeline) -> None:
    text = "第一句。第二句！\n\n——\n\n第三段，很长很长。"
    plan = await pipeline.planner.plan(await add(pipeline, text))
    by_paragraph = {}
    for chunk in plan.chunks:
        by_paragraph.setdefault(chunk.paragraph, []).append(chunk.text)
    assert ["".join(v) for v in by_paragraph.values()] == ["第一句。第二句！", "——", "第三段，很长很长。"]
    # One chunk per sentence; "——" has nothing to say.
    assert [(c.spoken, c.sentences) for c in plan.spoken] == [
        ("第一句。", (0,)),
        ("第二句！", (1,)),
        ("第三段，很长很长。", (0,)),
    ]


async def test_edit_resynthesises_only_changed_chunks(pipeline: Pipeline, espeak: CountingEngine) -> None:
    await pipeline.generate(await add(pipeline, "春天来了。\n\n夏天很热。\n\n秋天凉快。"))
    assert len(espeak.calls) == 3
    espeak.calls.clear()
    edited = await add(pipeline, "春天来了。\n\n夏天非常热。\n\n秋天凉快。")
    job = await pipeline.generate(edited)
    assert espeak.calls == ["夏天非常热。"]
    assert job.status == "done" and job.revision == edited.revision == 2
    assert (await pipeline.manifest(edited)).status == "ready"


async def test_same_sentence_in_two_articles_is_stored_once(pipeline: Pipeline, espeak, settings) -> None:
    await pipeline.generate(await add(pipeline, "共同的一句话。", slug="one"))
    await pipeline.generate(await add(pipeline, "共同的一句话。", slug="two"))
    assert espeak.calls == ["共同的一句话。"]
    # One chunk file and one whole-article file, both shared: same sentence, same title and tags.
    assert len(list(pipeline.cache.entries())) == 2


async def test_concurrent_requests_for_one_chunk_synthesise_once(pipeline: Pipeline, espeak) -> None:
    article = await add(pipeline, "只说一次。")
    plan = await pipeline.planner.plan(article)
    chunk, engine = plan.spoken[0], pipeline.engines.get()
    synthesize = pipeline.synthesizer.synthesize
    records = await asyncio.gather(
        *(synthesize(engine, "cmn", plan.prosody, chunk.spoken, chunk.key) for _ in range(20))
    )
    assert espeak.calls == ["只说一次。"]
    assert len({r.key for r in records}) == 1


async def test_background_jobs_are_not_duplicated(pipeline: Pipeline, espeak) -> None:
    article = await add(pipeline, "后台任务。只跑一次。")  # two sentences, so two chunks
    jobs = await asyncio.gather(*(pipeline.start(article) for _ in range(5)))
    assert len({job.id for job in jobs}) == 1
    done = await pipeline.wait(jobs[0])
    assert done.status == "done" and (done.done, done.total) == (2, 2)
    assert sorted(espeak.calls) == ["只跑一次。", "后台任务。"]
    # Once done, asking again makes a new job that finds everything cached.
    again = await pipeline.wait(await pipeline.start(article))
    assert again.id != done.id and again.status == "done" and len(espeak.calls) == 2


async def test_progress_callback(pipeline: Pipeline) -> None:
    seen = []
    await pipeline.generate(
        await add(pipeline, "一。\n\n二。\n\n三。"), lambda done, total: seen.append((done, total))
    )
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)


async def test_unknown_engine_on_an_article(pipeline: Pipeline) -> None:
    article = await add(pipeline, "文字。")
    with pytest.raises(InvalidInput, match="valid engines: local, espeak, edge"):
        await pipeline.planner.plan(article.__class__(**{**article.__dict__, "engine": "nope"}))


async def test_a_key_finished_meanwhile_is_not_made_again(pipeline: Pipeline, espeak) -> None:
    # A stream looked at the cache, found the chunk missing, and asks for it only after the job has made it
    # (no synthesis in flight any more): it must get the cached audio, not a second synthesis.
    article = await add(pipeline, "只做一次。")
    plan = await pipeline.planner.plan(article)
    chunk, engine = plan.spoken[0], pipeline.engines.get()
    first = await pipeline.synthesizer.synthesize(engine, "cmn", plan.prosody, chunk.spoken, chunk.key)
    late = await pipeline.synthesizer.synthesize(engine, "cmn", plan.prosody, chunk.spoken, chunk.key)
    assert espeak.calls == ["只做一次。"]
    assert late == first
