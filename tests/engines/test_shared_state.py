"""engines/shared_state.py against the suite's real Redis: a cancelled command ends, a stalled Redis is
"down" within the link's timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from tts_service.engines.shared_state import RedisLink, SharedSlots, SharedStateDown


@pytest.fixture
def held(redis_url: str) -> Iterator[redis.Redis]:
    """The only slot of ``t:slots`` taken by another process, for good."""
    client = redis.Redis.from_url(redis_url)
    client.zadd("t:slots", {"elsewhere": time.time() + 10**6})
    yield client
    client.close()


async def test_a_cancelled_wait_for_a_slot_ends(redis_url: str, held: redis.Redis) -> None:
    # On Python 3.11, asyncio.wait_for drops a cancellation that comes just as what it waits for completes
    # (CPython gh-86296), and redis-py bounds each write with it when the client has a socket timeout: the
    # cancelled wait then polled on for ever. Polling without a pause sends a command all the time, so some
    # of these cancellations land as a write completes (with a socket timeout, 10 to 200 tries stranded one).
    link = RedisLink(redis_url)
    slots = SharedSlots(link, "t", 1, 1.0, poll=(0.0, 0.0005))
    try:
        for n in range(400):
            waiting = asyncio.create_task(slots.acquire())
            await asyncio.sleep(n % 40 / 4000)  # 0 to 10 ms in, a different moment of the polling each time
            waiting.cancel()
            done, _ = await asyncio.wait([waiting], timeout=2.0)
            assert done, f"try {n}: the cancelled wait goes on polling"
            assert waiting.cancelled()
    finally:
        while not waiting.done():  # the failure's own leftover: cancel until one lands, so the test ends
            waiting.cancel()
            await asyncio.wait([waiting], timeout=0.1)
        await link.aclose()
    assert held.zrange("t:slots", 0, -1) == [b"elsewhere"]  # none taken and left behind


async def test_a_stalled_redis_is_down_within_the_timeout(redis_url: str, held: redis.Redis) -> None:
    link = RedisLink(redis_url, timeout=0.5)
    slots = SharedSlots(link, "t", 1, 1.0)
    try:
        await link.run("return 1", [], [], "connecting")  # connected before Redis stops answering
        held.execute_command("CLIENT", "PAUSE", 3000, "ALL")  # Redis answers nobody for 3 s
        started = time.monotonic()
        with pytest.raises(SharedStateDown, match=r"no answer in 0.5 s"):
            async with asyncio.timeout(2.5):  # unbounded, it would wait out the pause, then poll on
                await slots.acquire()
        assert time.monotonic() - started < 1.5
        assert link.resting()  # the callers use their per-process limits meanwhile
    finally:
        held.execute_command("CLIENT", "UNPAUSE")
        await link.aclose()
