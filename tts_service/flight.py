"""Single flight with cancellation: one run per key, shared by every caller, stopped when all callers leave.

A reader who gives up (a closed connection, a cancelled job) must not leave work running that nobody will
use; but while anyone still waits for a key, its run goes on, whoever started it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self, task: asyncio.Task[T]) -> None:
        self.task = task
        self.waiters = 0


class SingleFlight(Generic[T]):
    """Runs at most one ``make()`` per key at a time; each run lives while at least one caller waits."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}
        self._stopping: set[asyncio.Task[T]] = set()  # cancelled, still winding down (killing a process)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._flights

    def __len__(self) -> int:
        return len(self._flights)

    def tasks(self) -> list[asyncio.Task[T]]:
        """The runs in flight and those still winding down (to cancel and await them at shutdown)."""
        return [flight.task for flight in self._flights.values()] + list(self._stopping)

    async def run(self, key: Hashable, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """The result of the run for ``key``: the one in flight, or a new one started now."""
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = _Flight(asyncio.create_task(make(), name=f"flight:{key}"))
            flight.task.add_done_callback(lambda task: self._landed(key, flight, task))
        flight.waiters += 1
        try:
            return await asyncio.shield(flight.task)
        finally:
            flight.waiters -= 1
            if flight.waiters == 0 and not flight.task.done():
                # Nobody wants it any more. Forget it now, so a caller arriving while it winds down starts
                # a run of its own instead of inheriting the cancellation.
                self._forget(key, flight)
                self._stopping.add(flight.task)
                if not flight.task.cancelling():  # once is enough: a second could cut its clean-up short
                    flight.task.cancel()

    def _forget(self, key: Hashable, flight: _Flight[T]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]

    def _landed(self, key: Hashable, flight: _Flight[T], task: asyncio.Task[T]) -> None:
        self._forget(key, flight)
        self._stopping.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: its waiters re-raise it, and a run nobody awaits must not warn
