"""Single flight with cancellation (tts_service/flight.py)."""

from __future__ import annotations

import asyncio

import pytest

from tts_service.flight import SingleFlight


class Work:
    """A run that counts how often it starts, and can be held until released."""

    def __init__(self) -> None:
        self.started, self.cancelled, self.release = 0, 0, asyncio.Event()

    async def __call__(self) -> str:
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return f"result {self.started}"


async def test_callers_share_one_run() -> None:
    flights, work = SingleFlight[str](), Work()
    callers = [asyncio.create_task(flights.run("k", work)) for _ in range(5)]
    await asyncio.sleep(0.01)
    assert "k" in flights and work.started == 1
    work.release.set()
    assert await asyncio.gather(*callers) == ["result 1"] * 5
    assert "k" not in flights and len(flights) == 0


async def test_one_caller_leaving_does_not_stop_the_others() -> None:
    flights, work = SingleFlight[str](), Work()
    leaving, staying = (asyncio.create_task(flights.run("k", work)) for _ in range(2))
    await asyncio.sleep(0.01)
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    assert work.cancelled == 0
    work.release.set()
    assert await staying == "result 1"


async def test_the_run_stops_when_every_caller_has_left() -> None:
    flights, work = SingleFlight[str](), Work()
    callers = [asyncio.create_task(flights.run("k", work)) for _ in range(3)]
    await asyncio.sleep(0.01)
    for caller in callers:
        caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    await asyncio.sleep(0.01)
    assert work.cancelled == 1 and "k" not in flights and flights.tasks() == []


async def test_a_caller_arriving_while_a_run_winds_down_gets_a_fresh_run() -> None:
    flights = SingleFlight[str]()
    unwinding = asyncio.Event()

    async def slow_to_stop() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await unwinding.wait()  # e.g. killing and reaping a process
            raise
        return "never"

    first = asyncio.create_task(flights.run("k", slow_to_stop))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert len(flights.tasks()) == 1  # still listed, so shutdown waits for it

    async def quick() -> str:
        return "fresh"

    assert await flights.run("k", quick) == "fresh"
    unwinding.set()
    await asyncio.sleep(0.01)
    assert flights.tasks() == []


async def test_a_failure_reaches_every_caller_and_is_not_kept() -> None:
    flights = SingleFlight[str]()
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("engine down")

    results = await asyncio.gather(*(flights.run("k", failing) for _ in range(3)), return_exceptions=True)
    assert [str(r) for r in results] == ["engine down"] * 3 and calls == 1
    with pytest.raises(RuntimeError):
        await flights.run("k", failing)
    assert calls == 2  # a failure is not cached: the next caller tries again
