"""TTS_REDIS_URL: the public /api/tts limit counted in Redis, so it holds across web processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from helpers import AUTH, CountingEngine, queue_worker
from pydantic import SecretStr
from redis.asyncio import Redis

from tts_service.config import Settings
from tts_service.engines.shared_state import cancellable_client
from tts_service.web import create_app
from tts_service.web.auth import FAILURES_PER_MINUTE
from tts_service.web.shared_limits import SharedRateLimiter


async def test_a_window_slides_on_redis_clock(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        limiter = SharedRateLimiter(redis, "t", limit=2, window=0.5)
        assert [await limiter.allow("a") for _ in range(2)] == [0.0, 0.0]
        wait = await limiter.allow("a")
        assert 0 < wait <= 0.5
        assert await limiter.allow("b") == 0.0  # per client
        await asyncio.sleep(wait + 0.05)
        assert await limiter.allow("a") == 0.0  # the oldest call left the window
        assert 0 < await redis.pttl("tts:limit:t:a") <= 500  # an idle client's key goes by itself
    finally:
        await redis.aclose()


async def test_redis_down_lets_calls_through(unused_tcp_port: int) -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{unused_tcp_port}/0", socket_connect_timeout=1)
    try:
        assert await SharedRateLimiter(redis, "t", limit=1).allow("a") == 0.0
        assert await SharedRateLimiter(redis, "t", limit=1).allow("a") == 0.0
    finally:
        await redis.aclose()


async def test_a_stalled_redis_lets_calls_through_within_the_timeout(redis_url: str) -> None:
    redis = cancellable_client(redis_url, 1.0)  # the app's kind: no socket timeout of its own
    limiter = SharedRateLimiter(redis, "t", limit=1, timeout=0.5)
    try:
        assert await limiter.allow("a") == 0.0
        await redis.execute_command("CLIENT", "PAUSE", 3000, "ALL")  # Redis answers nobody for 3 s
        started = time.monotonic()
        assert await limiter.allow("a") == 0.0  # over the limit, but unchecked: let through
        assert time.monotonic() - started < 1.5
    finally:
        await redis.execute_command("CLIENT", "UNPAUSE")  # CLIENT commands are not paused
        await redis.aclose()


@pytest.fixture
async def two_processes(
    settings: Settings, espeak: CountingEngine, redis_url: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two web apps on one deployment, as two `tts-service serve` processes, and a worker (TTS_REDIS_URL
    puts synthesis on the task queue): they share Redis only."""
    limits = {"public_tts": True, "public_tts_per_minute": 3, "redis_url": SecretStr(redis_url)}
    shared = settings.model_copy(update=limits)
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(shared, engines={"espeak": espeak})
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 1234))
            clients.append(
                await stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url="http://t"))
            )
        stack.enter_context(queue_worker(shared, espeak))
        yield clients


async def test_the_public_limit_holds_across_processes(two_processes: list[httpx.AsyncClient]) -> None:
    first, second = two_processes
    statuses = []
    for client in (first, second, first, second):
        answer = await client.post("/api/tts", json={"text": "你好。"})
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429]  # 3 a minute for this client, whichever process it reaches
    assert int(answer.headers["retry-after"]) >= 1
    health = (await first.get("/healthz")).json()
    assert health["redis"] == {"available": True}


async def test_wrong_tokens_count_across_processes(two_processes: list[httpx.AsyncClient]) -> None:
    """A guesser gains nothing by spreading guesses over the deployment's processes."""
    wrong = {"Authorization": "Bearer not-the-editor-token"}
    statuses = [
        (await two_processes[n % 2].get("/api/jobs/1", headers=wrong)).status_code
        for n in range(FAILURES_PER_MINUTE + 1)
    ]
    assert statuses == [401] * FAILURES_PER_MINUTE + [429]
    right = await two_processes[0].get("/api/jobs/1", headers=AUTH)
    assert right.status_code == 404  # the right token still works (and there is no job 1)
