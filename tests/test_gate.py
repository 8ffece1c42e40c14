"""The bounded queue in front of POST /api/tts (tts_service/gate.py)."""

from __future__ import annotations

import asyncio

import pytest

from tts_service.errors import Busy
from tts_service.gate import Gate


async def hold(gate: Gate, release: asyncio.Event, entered: list[int], n: int) -> None:
    async with gate.enter():
        entered.append(n)
        await release.wait()


async def test_a_full_queue_refuses_at_once_with_retry_after() -> None:
    gate, release, entered = Gate(running=2, waiting=1, wait=30), asyncio.Event(), []
    tasks = [asyncio.create_task(hold(gate, release, entered, n)) for n in range(3)]
    await asyncio.sleep(0.01)
    assert (entered, gate.queued) == ([0, 1], 1)
    async with asyncio.timeout(1):  # refused now, not after the 30 s wait
        with pytest.raises(Busy) as refused:
            async with gate.enter():
                pass
    assert refused.value.status_code == 503 and refused.value.headers["Retry-After"] == "30"
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(entered) == [0, 1, 2] and gate.queued == 0


async def test_waiting_too_long_is_refused_and_frees_its_place() -> None:
    gate, release, entered = Gate(running=1, waiting=5, wait=0.05), asyncio.Event(), []
    first = asyncio.create_task(hold(gate, release, entered, 0))
    await asyncio.sleep(0.01)
    with pytest.raises(Busy, match="within 0.05 s"):
        async with gate.enter():
            pass
    assert gate.queued == 0
    release.set()
    await first
    async with gate.enter():  # the slot came back
        pass


async def test_a_cancelled_waiter_leaves_the_queue() -> None:
    gate, release, entered = Gate(running=1, waiting=1, wait=30), asyncio.Event(), []
    first = asyncio.create_task(hold(gate, release, entered, 0))
    await asyncio.sleep(0.01)
    waiter = asyncio.create_task(hold(gate, release, entered, 1))
    await asyncio.sleep(0.01)
    assert gate.queued == 1
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert gate.queued == 0
    release.set()
    await first
    assert entered == [0]
