"""open_services: one place builds the store, cache, engines and pipeline, and closes all of them."""

from __future__ import annotations

import pytest
from helpers import CountingEngine

from tts_service.article import ArticleDraft
from tts_service.config import Settings
from tts_service.engines.espeak import EspeakEngine
from tts_service.services import open_services


class ClosingEngine(CountingEngine):
    """A real engine that records being closed (the local voice's worker threads are released so)."""

    closed = 0

    def close(self) -> None:
        self.closed += 1


async def test_everything_opened_is_closed(settings: Settings) -> None:
    engine = ClosingEngine(EspeakEngine())
    async with open_services(settings, engines={"espeak": engine}) as services:
        article = await services.pipeline.publish(ArticleDraft(title="标题", text="一句话。", slug="a"))
        job = await services.pipeline.wait((await services.pipeline.audio(article, with_job=True)).job)
        assert job.status == "done" and services.engines.get("espeak") is engine
    assert engine.closed == 1
    with pytest.raises(RuntimeError, match="after shutdown"):  # the store is closed
        await services.store.ping()


async def test_a_failure_inside_still_closes_everything(settings: Settings) -> None:
    engine = ClosingEngine(EspeakEngine())
    with pytest.raises(RuntimeError, match="boom"):
        async with open_services(settings, engines={"espeak": engine}) as services:
            article = await services.pipeline.publish(ArticleDraft(title="标题", text="一句话。", slug="a"))
            running = services.pipeline._running[(await services.pipeline.jobs.latest("a", 1)).id].task
            raise RuntimeError("boom")
    assert engine.closed == 1 and running.done()  # the job was stopped, not left running
    assert article.revision == 1
    with pytest.raises(RuntimeError, match="after shutdown"):
        await services.store.ping()


def test_workers_sizes_both_pools_unless_each_is_set(tmp_path) -> None:
    both = Settings(home=tmp_path, workers=3)
    assert (both.synthesis_slots, both.concurrent_jobs) == (3, 3)
    split = Settings(home=tmp_path, workers=3, synthesis_workers=1, job_workers=5)
    assert (split.synthesis_slots, split.concurrent_jobs) == (1, 5)


def test_the_split_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TTS_WORKERS", "4")
    monkeypatch.setenv("TTS_JOB_WORKERS", "1")
    settings = Settings(home=tmp_path)
    assert (settings.synthesis_slots, settings.concurrent_jobs) == (4, 1)
